"""Server-sent event streams: framing (`sse`), the typed stream (`stream`, `sync_stream`), the browser
relay (`relay`) and one module per wire protocol (`chat`) that decodes and accumulates its events."""
