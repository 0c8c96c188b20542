"""Server-sent event streams: framing (`sse`), the typed stream (`stream`, `sync_stream`, opened by `open`),
the browser relay (`relay`), the errors events raise (`failures`), and one module per wire protocol
(`chat`, `responses`, `anthropic`, `assistant_chat`; the interface they share is `protocol`) that decodes
its events and adds them up."""
