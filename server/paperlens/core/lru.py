"""The one bounded least-recently-used cache the core keeps values in (thread-safe).

:class:`LRU` holds at most ``most`` entries and, with ``total``, at most that much of the
sizes its values were kept with (each value's size is given to :meth:`LRU.put`: the text it
was made from, say); past either bound the least recently used entries go first.

What counts as a use is the caller's choice: :meth:`LRU.get` makes the entry the most
recently used, :meth:`LRU.peek` leaves the order as it is (a cache evicting by the order its
entries were made in); :meth:`LRU.put` always makes its entry the most recent. A value may be
None: pass ``default`` (a sentinel of the caller's) to tell a miss from a kept None.

Nothing is computed under the lock: a caller reads, makes the value without it, then puts
(two threads missing the same key both make it; the last put stays)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, Iterator, Optional, TypeVar, Union

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")


class LRU(Generic[K, V]):
    """At most ``most`` values under their key (and, with ``total`` > 0, at most ``total`` of
    their sizes), the least recently used let go first. Every method holds the cache's lock."""

    __slots__ = ("most", "total", "size", "_held", "_lock")

    def __init__(self, most: int, total: int = 0) -> None:
        if most < 1:
            raise ValueError(f"an LRU keeps at least one entry (most={most})")
        self.most, self.total = most, total
        self.size = 0                                     # the sizes of the values kept
        self._held: "OrderedDict[K, tuple[V, int]]" = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: Optional[D] = None) -> Union[V, D, None]:
        """The value kept under ``key``, now the most recently used; ``default`` if none."""
        return self._look(key, default, True)

    def peek(self, key: K, default: Optional[D] = None) -> Union[V, D, None]:
        """The value kept under ``key`` (its place in the order unchanged); ``default`` if none."""
        return self._look(key, default, False)

    def _look(self, key: K, default: Optional[D], use: bool) -> Union[V, D, None]:
        with self._lock:
            held = self._held.get(key)
            if held is None:
                return default
            if use:
                self._held.move_to_end(key)
            return held[0]

    def put(self, key: K, value: V, size: int = 0) -> None:
        """Keep ``value`` under ``key`` (replacing any), the most recently used, then let the
        least recently used go while past a bound (``value`` itself too, if ``size`` alone is
        past ``total``)."""
        with self._lock:
            was = self._held.pop(key, None)
            if was is not None:
                self.size -= was[1]
            self._held[key] = (value, size)
            self.size += size
            while self._held and (len(self._held) > self.most or (self.total and self.size > self.total)):
                _, (_, gone) = self._held.popitem(last=False)
                self.size -= gone

    def clear(self) -> None:
        with self._lock:
            self._held.clear()
            self.size = 0

    def forget(self, which: Callable[[K], bool]) -> int:
        """Let go of the entries whose key ``which`` says yes to (a cache's entries of a thing
        that is gone); how many went."""
        with self._lock:
            gone = [key for key in self._held if which(key)]
            for key in gone:
                self.size -= self._held.pop(key)[1]
            return len(gone)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._held

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def __iter__(self) -> Iterator[K]:
        """The keys as they are now, least recently used first (a copy: the cache may change)."""
        with self._lock:
            return iter(list(self._held))

    def __repr__(self) -> str:
        return f"LRU({len(self)}/{self.most}" + (f", size {self.size}/{self.total})" if self.total else ")")
