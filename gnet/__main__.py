"""``python -m gnet``: the ``gnet`` command line (see :mod:`gnet.cli`)."""

from __future__ import annotations

import sys

from gnet.cli import main

if __name__ == "__main__":
    sys.exit(main())
