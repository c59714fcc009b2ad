"""`python -m neurodamus CONFIG ...` is the same as the `neurodamus` command."""

import sys

from .cli import main

sys.exit(main())
