"""The usage ledger: a phase's measured usage kept in its repository, free of content.

Written by ``orchphase collect`` (:mod:`.collect`), read as a usage source (:mod:`.source`);
the format is in ``docs/ledger.md``.
"""

from pytest_orchphase.usage.sources.ledger.source import LedgerSource

SOURCE = LedgerSource()
