"""Request and response types, grouped by API area.

Import them from their module, e.g. ``from telnyx_ai.types.chat import ChatCompletionChunk``.
"""
