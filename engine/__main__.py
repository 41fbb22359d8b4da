"""`python -m engine` runs the `consilium` command."""

import sys

from .cli import main

sys.exit(main())
