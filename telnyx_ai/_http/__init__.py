"""The HTTP core: a request is built (`request`), sent (`transport`, over `pool`), retried (`retry`)
and its body read and decoded (`response`). Streams and batch jobs sit above it."""
