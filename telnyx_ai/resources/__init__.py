"""The resource tree behind ``client.ai``, ``client.legacy`` and ``client.text_to_speech``.

One module per API area. Each operation is an ``async def`` that names its parameters and
hands the path, query and body to the transport, which does all the work.
"""
