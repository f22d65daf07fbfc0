"""``python -m virtual_appliances.c100v``: boot a C100V and keep it running in the foreground."""

import sys

from .cli import main

sys.exit(main())
