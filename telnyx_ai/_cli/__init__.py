"""The ``telnyx-ai`` command: ``chat`` and ``embed`` subcommands (`main` parses, the others run)."""
