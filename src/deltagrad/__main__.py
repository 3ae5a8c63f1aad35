"""``python -m deltagrad`` runs the ``deltagrad`` command."""

import sys

from .cli import main

sys.exit(main())
