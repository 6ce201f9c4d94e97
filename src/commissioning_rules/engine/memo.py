"""Work done once for objects of a policy's rule data, remembered by the objects' identities."""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class ByIdentity(Generic[T]):
    """What was worked out for some objects (a condition, the parameter values a policy resolved), remembered by
    their identities: rule data lives as long as its policy, and a condition, a tree, is costly to hash.

    Each entry keeps its objects, so while it is remembered no later object can take one of their identities.
    Bounded: past ``kept`` entries it starts again. Racing threads store equal values: harmless."""

    __slots__ = ("_entries", "_kept")

    def __init__(self, kept: int = 4096) -> None:
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], T]] = {}
        self._kept = kept

    def get(self, objects: tuple[object, ...], make: Callable[[], T]) -> T:
        """The value remembered for ``objects``, or ``make()``'s, remembered."""
        key = tuple(map(id, objects))
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= self._kept:
                self._entries.clear()
            entry = self._entries[key] = (objects, make())
        return entry[1]
