"""Pieces of answers remembered per catalogue: built once for a catalogue, forgotten with it."""

from collections.abc import Callable
from typing import Protocol, TypeVar

from service.policy.catalogue import Catalogue


class _OfCatalogue(Protocol):
    catalogue: Catalogue


Pieces = TypeVar("Pieces", bound=_OfCatalogue)


def per_catalogue(
    memory: dict[str, Pieces], catalogue: Catalogue, build: Callable[[Catalogue], Pieces]
) -> Pieces:
    """The pieces built for this catalogue, built once (a few catalogues remembered at most)."""
    found = memory.get(catalogue.version)
    if found is None or found.catalogue is not catalogue:
        if len(memory) > 8:
            memory.clear()
        found = memory[catalogue.version] = build(catalogue)
    return found
