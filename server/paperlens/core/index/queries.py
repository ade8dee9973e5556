"""Transitional name (issue 14): searching several folders is :mod:`paperlens.core.index.search`,
a hit :class:`paperlens.core.index.base.SearchHit`, a query in one Whoosh index
:mod:`paperlens.core.index.whoosh.queries`. Remove once nothing imports
``paperlens.core.index.queries``."""
from paperlens.core.index.base import SearchHit
from paperlens.core.index.search import SearchResults, limit_query, search, warm
from paperlens.core.index.whoosh.queries import has_syntax

__all__ = ["SearchHit", "SearchResults", "has_syntax", "limit_query", "search", "warm"]
