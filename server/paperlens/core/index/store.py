"""Transitional name of :mod:`paperlens.core.index.whoosh.store` (issue 14 moved the Whoosh
store there). Importing this module gives that module itself, so that code and tests written
against the old name keep working; new code imports ``core.index.base`` (the interface) or
``core.index.whoosh.store``. Remove once nothing imports ``paperlens.core.index.store``."""
import sys

from paperlens.core.index.whoosh import store as _store

sys.modules[__name__] = _store
