"""Load and validate policies/ into an immutable catalogue: all of it, or nothing."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from service.policy.checks import check_measure, in_plan_words
from service.policy.evaluator import Evaluate, build_evaluator
from service.policy.files import (
    CatalogueFile,
    Clause,
    ClausesFile,
    CountyDiscretion,
    Department,
    DepartmentsFile,
    Document,
    MeasureFile,
    NearMissRule,
)
from service.policy.gate_sources import gate_source_problems, period_problems
from service.policy.indicators import Indicator, IndicatorsFile, indicator_problems
from service.policy.profile import field_specs
from service.policy.rules import ALL, Comparison, Node, Operator, comparisons_of, compile_tree
from service.policy.targets import Target, TargetsFile, target_problems
from service.policy.vocabulary import Vocabularies, read_vocabularies


class CatalogueError(Exception):
    """The policies folder is not a valid catalogue; `problems` names each file and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid policy catalogue:\n  " + "\n  ".join(problems))


@dataclass(frozen=True, slots=True)
class CompiledComparison:
    """A distinct comparison of the catalogue, ready to run against a profile's facts."""

    index: int
    comparison: Comparison
    field: str
    value: Any  # as compared: a frozenset for one_of / none_of

    @classmethod
    def of(cls, index: int, comparison: Comparison) -> "CompiledComparison":
        """`comparison` as the catalogue's comparison number `index`."""
        value = comparison.value
        if comparison.operator in (Operator.ONE_OF, Operator.NONE_OF):
            value = frozenset(value)
        return cls(index, comparison, comparison.field, value)

    @property
    def operator(self) -> Operator:
        """The comparison's operator."""
        return self.comparison.operator

    @property
    def bit(self) -> int:
        """This comparison's bit in the evaluator's T and F masks."""
        return 1 << self.index


@dataclass(frozen=True, slots=True, eq=False)
class Measure:
    """A measure as served: its file, its units and its compiled eligibility.

    One object per measure of a loaded catalogue, equal and hashed by identity (a match's
    tuples of measures are looked up by service/matching/decided_ids.py)."""

    spec: MeasureFile
    departments: tuple[Department, ...]
    tree: Node
    comparisons: tuple[int, ...]  # indices into Catalogue.comparisons, in reading order
    source_file: str
    measure_id: str
    mask: int  # the bits of its comparisons
    conjunctive: bool  # its tree is one comparison or an `all` of comparisons
    comparison_objects: tuple["CompiledComparison", ...]  # its comparisons, in reading order

    def in_force(self, day: date) -> bool:
        """Whether the measure applies on `day`."""
        return self.spec.valid_from <= day <= self.spec.valid_until


@dataclass(frozen=True)
class Catalogue:
    """Every measure of the plan with the reference data it is written in."""

    version: str
    document: Document
    near_miss: NearMissRule
    county_discretion: CountyDiscretion
    vocabularies: Vocabularies
    departments: Mapping[str, Department]
    clauses: Mapping[str, Clause]
    measures: tuple[Measure, ...]
    comparisons: tuple[CompiledComparison, ...]
    fixed_mask: int  # comparisons on fields a firm cannot change
    evaluate: Evaluate
    evaluator_source: str
    indicators: tuple[Indicator, ...]  # the plan's targets for a firm (indicators.yaml)
    targets: tuple[Target, ...]  # the plan's quantitative targets (targets.yaml)
    notes: tuple[str, ...] = ()  # e.g. a quote written in Simplified, and where it was found
    by_id: Mapping[str, Measure] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "by_id", MappingProxyType({m.measure_id: m for m in self.measures})
        )


def load_catalogue(policies_dir: Path) -> Catalogue:
    """Read, validate and compile a policies folder; raise CatalogueError naming every problem."""
    problems: list[str] = []
    notes: list[str] = []  # what a reader of `policy-match check` should know, not a fault
    meta = _read(policies_dir / "catalogue.yaml", CatalogueFile, problems)
    units = _read(policies_dir / "departments.yaml", DepartmentsFile, problems)
    sections = _read(policies_dir / "clauses.yaml", ClausesFile, problems)
    try:
        vocab = read_vocabularies(policies_dir)
    except (OSError, ValidationError, yaml.YAMLError) as e:
        problems.append(f"vocabularies.yaml: {e}")
        raise CatalogueError(problems) from e
    if meta is None or units is None or sections is None:
        raise CatalogueError(problems)

    departments = {d.code: d for d in units.departments}
    clauses = {c.clause: c for c in sections.clauses}
    for c in sections.clauses:
        problems += [
            f"clauses.yaml: {c.clause}: unknown department {code!r}"
            for code in c.departments
            if code not in departments
        ]
    plan_text = _issued_text(policies_dir, meta, problems)

    specs: list[tuple[str, MeasureFile]] = []
    for path in sorted((policies_dir / "measures").glob("*.yaml")):
        name = f"measures/{path.name}"
        spec = _read(path, MeasureFile, problems, name)
        if spec is None:
            continue
        if spec.measure_id != path.stem:
            problems.append(f"{name}: measure_id: {spec.measure_id!r} must equal the file name")
        problems += [f"{name}: {p}" for p in check_measure(spec, clauses, vocab, plan_text)]
        spec, found_in_simplified = in_plan_words(spec, plan_text)
        notes += [f"{name}: {n}" for n in found_in_simplified]
        problems += [f"{name}: {p}" for p in gate_source_problems(spec)]
        problems += [f"{name}: {p}" for p in period_problems(spec, meta.document)]
        specs.append((name, spec))
    if not specs and not problems:
        problems.append("measures/: no measure files")
    goals = _plan_goals(policies_dir, plan_text, vocab, {s.measure_id for _, s in specs}, problems)
    if problems:
        raise CatalogueError(problems)
    catalogue = _compile(meta, vocab, departments, clauses, specs, *goals)
    return replace(catalogue, notes=tuple(notes)) if notes else catalogue


def _plan_goals(
    policies_dir: Path,
    plan_text: str,
    vocab: Vocabularies,
    measure_ids: set[str],
    problems: list[str],
) -> tuple[tuple[Indicator, ...], tuple[Target, ...]]:
    """indicators.yaml and targets.yaml, read and checked against the plan and the measures."""
    specs = field_specs(vocab)
    indicators = _read(policies_dir / "indicators.yaml", IndicatorsFile, problems)
    targets = _read(policies_dir / "targets.yaml", TargetsFile, problems)
    if indicators is not None:
        found = indicator_problems(indicators.indicators, plan_text, specs, frozenset(measure_ids))
        problems += [f"indicators.yaml: {p}" for p in found]
    if targets is not None:
        problems += [
            f"targets.yaml: {p}" for p in target_problems(targets.targets, plan_text, specs)
        ]
    return (
        indicators.indicators if indicators else (),
        targets.targets if targets else (),
    )


def _compile(
    meta: CatalogueFile,
    vocab: Vocabularies,
    departments: dict[str, Department],
    clauses: dict[str, Clause],
    specs: list[tuple[str, MeasureFile]],
    indicators: tuple[Indicator, ...],
    targets: tuple[Target, ...],
) -> Catalogue:
    table: dict[tuple[Any, ...], CompiledComparison] = {}

    def compiled_of(comparison: Comparison) -> CompiledComparison:
        key = comparison.key()
        if key not in table:
            table[key] = CompiledComparison.of(len(table), comparison)
        return table[key]

    clause_order = list(clauses)
    measures = []
    for name, spec in sorted(specs, key=lambda s: (clause_order.index(s[1].clause), s[0])):
        tree = compile_tree(spec.eligibility, lambda c: compiled_of(c).index)
        mine = tuple(compiled_of(c) for c in comparisons_of(spec.eligibility))
        units = tuple(departments[code] for code in clauses[spec.clause].departments)
        conjunctive = isinstance(tree, int) or (
            tree[0] == ALL and all(isinstance(m, int) for m in tree[1])
        )
        measures.append(
            Measure(
                spec,
                units,
                tree,
                tuple(c.index for c in mine),
                name,
                spec.measure_id,
                mask=sum({c.bit for c in mine}),
                conjunctive=conjunctive,
                comparison_objects=mine,
            )
        )
    compiled = tuple(sorted(table.values(), key=lambda t: t.index))
    fixed = sum(
        t.bit for t in compiled if t.comparison.fixed or t.field in meta.near_miss.fixed_fields
    )
    evaluate, source = build_evaluator(compiled)
    return Catalogue(
        version=_version(
            meta, vocab, departments, clauses, [s for _, s in specs], indicators, targets
        ),
        document=meta.document,
        near_miss=meta.near_miss,
        county_discretion=meta.county_discretion,
        vocabularies=vocab,
        departments=MappingProxyType(departments),
        clauses=MappingProxyType(clauses),
        measures=tuple(measures),
        comparisons=compiled,
        fixed_mask=fixed,
        evaluate=evaluate,
        evaluator_source=source,
        indicators=indicators,
        targets=targets,
    )


M = TypeVar("M", bound=BaseModel)


def _read(path: Path, model: type[M], problems: list[str], name: str | None = None) -> M | None:
    name = name or path.name
    try:
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
        return model.model_validate(data)
    except OSError as e:
        problems.append(f"{name}: cannot read: {e.strerror}")
    except yaml.YAMLError as e:
        problems.append(f"{name}: not valid YAML: {e}")
    except ValidationError as e:
        for error in e.errors():
            where = ".".join(str(p) for p in error["loc"]) or "(file)"
            problems.append(f"{name}: {where}: {error['msg']}")
    return None


def _issued_text(policies_dir: Path, meta: CatalogueFile, problems: list[str]) -> str:
    try:
        text = (policies_dir / meta.document.source_file).read_text(encoding="utf-8")
    except OSError as e:
        problems.append(f"catalogue.yaml: document.source_file: cannot read: {e.strerror}")
        return ""
    for erratum in meta.errata:
        if erratum.stored not in text:
            problems.append(f"catalogue.yaml: errata: {erratum.stored!r} is not in the plan")
        text = text.replace(erratum.stored, erratum.issued)
    return text


def _version(meta: CatalogueFile, vocab: Vocabularies, *parts: Any) -> str:
    """A content hash of everything served (test cases excluded: they change no answer)."""

    def plain(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json", exclude={"cases"})
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    payload = json.dumps(
        [plain(meta), plain(vocab), *(plain(p) for p in parts)],
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]
