"""Batch embedding jobs: lazy inputs (`inputs`), pacing (`rate_control`), the scheduler (`engine`), the
wire format a client learns (`wire_format`), vectors (`vectors`), a resumable file (`sink`), progress."""
