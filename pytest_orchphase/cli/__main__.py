"""``python -m pytest_orchphase.cli``: the ``orchphase`` command."""

from pytest_orchphase.cli import main

raise SystemExit(main())
