"""``python -m experiments.cli``: the ``escalation`` command."""

import sys

from . import main

sys.exit(main())
