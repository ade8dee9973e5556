"""Transitional name of :mod:`paperlens.core.index.whoosh.fast` (issue 14 moved it there).
Importing this module gives that module itself (a test setting ``fast.TOPK`` sets it there).
Remove once nothing imports ``paperlens.core.index.fast``."""
import sys

from paperlens.core.index.whoosh import fast as _fast

sys.modules[__name__] = _fast
