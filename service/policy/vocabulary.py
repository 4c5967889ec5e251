"""Reference data from policies/vocabularies.yaml: tiers, counties, clusters, kinds and labels."""

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from service.core.settings import get_settings


class Term(BaseModel):
    """A code with its names in the three languages."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    code: str
    zh_hans: str = Field(alias="zh-Hans")
    zh_hant: str = Field(alias="zh-Hant")
    en: str

    def name(self, language: str) -> str:
        """The name in `language` (zh-Hans, zh-Hant or en)."""
        return {"zh-Hans": self.zh_hans, "zh-Hant": self.zh_hant}.get(language, self.en)

    def names(self) -> dict[str, str]:
        """All three names keyed by language tag."""
        return {"zh-Hans": self.zh_hans, "zh-Hant": self.zh_hant, "en": self.en}


class Names(BaseModel):
    """A text in the three languages."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    zh_hans: str = Field(alias="zh-Hans", min_length=1)
    zh_hant: str = Field(alias="zh-Hant", min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """The text in `language`."""
        return {"zh-Hans": self.zh_hans, "zh-Hant": self.zh_hant}.get(language, self.en)


class County(Term):
    """A county-level division of Jiangmen and its people's government."""

    government: Names


class Vocabularies(BaseModel):
    """Every code list the profile and the measures are written in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tiers: tuple[Term, ...]
    counties: tuple[County, ...]
    clusters: tuple[Term, ...]
    sub_industries: tuple[Term, ...]
    rd_institutions: tuple[Term, ...]
    standards_roles: tuple[Term, ...]
    listing_stages: tuple[Term, ...]
    quality_award_levels: tuple[Term, ...]
    kinds: tuple[Term, ...]

    def terms(self, list_name: str) -> tuple[Term, ...]:
        """The terms of one list, in file order."""
        terms: tuple[Term, ...] = getattr(self, list_name)
        return terms

    def codes(self, list_name: str) -> tuple[str, ...]:
        """The codes of one list, in file order."""
        return tuple(t.code for t in self.terms(list_name))

    def county(self, code: str) -> County:
        """The county with this GB/T 2260 code."""
        return next(c for c in self.counties if c.code == code)


def read_vocabularies(policies_dir: Path) -> Vocabularies:
    """Parse vocabularies.yaml of a policies folder."""
    with (policies_dir / "vocabularies.yaml").open(encoding="utf-8") as f:
        return Vocabularies.model_validate(yaml.safe_load(f))


@lru_cache
def vocabularies() -> Vocabularies:
    """The vocabularies of the configured policies folder, read once per process."""
    return read_vocabularies(get_settings().policies_dir)


def profile_accepts(vocab: Vocabularies) -> bool:
    """Whether these are the vocabularies the profile validates against and documents.

    The profile reads them once per process (its codes and its JSON schema), so a catalogue
    written in other vocabularies can be served only by a process started with them.
    """
    return vocab == vocabularies()
