"""``python -m telnyx_ai``: the ``telnyx-ai`` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
