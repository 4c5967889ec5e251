"""Checks of one measure against the plan and the vocabularies, beyond its file's shape."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError

from service.policy.files import DEFAULT_CASE_COUNTY, Clause, MeasureFile
from service.policy.plan_text import clause_texts, find_quote
from service.policy.profile import FieldSpec, Profile, field_specs
from service.policy.rules import NUMBER_OPERATORS, Comparison, Operator, comparisons_of
from service.policy.vocabulary import Vocabularies


def check_measure(
    spec: MeasureFile, clauses: Mapping[str, Clause], vocab: Vocabularies, plan_text: str
) -> list[str]:
    """Every problem of a measure the file's shape cannot show, each naming its field."""
    problems = []
    if spec.clause not in clauses:
        problems.append(
            f"clause: {spec.clause!r} is not a clause of section 二 ({', '.join(clauses)})"
        )
    if spec.kind not in vocab.codes("kinds"):
        problems.append(f"kind: {spec.kind!r} is not in vocabularies.yaml kinds")
    if spec.valid_from > spec.valid_until:
        problems.append("valid_until: comes before valid_from")
    own_text = clause_texts(plan_text).get(spec.clause, "")
    for i, quote in enumerate(spec.source.quote):
        found = find_quote(plan_text, quote)
        if found is None:
            problems.append(
                f"source.quote.{i}: not found verbatim in the plan, in Traditional or Simplified "
                f"script: {quote[:40]!r}…"
            )
        elif found.words not in own_text:
            problems.append(f"source.quote.{i}: in the plan, but not in clause {spec.clause}")
    specs = field_specs(vocab)
    for i, test in enumerate(comparisons_of(spec.eligibility)):
        problem = comparison_problem(test, specs)
        if problem:
            problems.append(f"eligibility (test {i + 1}, field {test.field!r}): {problem}")
    problems += _case_problems(spec)
    return problems


def comparison_problem(test: Comparison, specs: Mapping[str, FieldSpec]) -> str | None:
    """Why a test cannot be right for the profile field it names, or None."""
    spec = specs.get(test.field)
    if spec is None:
        return f"not a profile field a condition may test ({', '.join(specs)})"
    values = test.value if isinstance(test.value, tuple) else (test.value,)
    if test.operator in NUMBER_OPERATORS:
        if spec.type not in (int, date):
            return f"`{test.operator}` compares numbers or dates; {test.field} is not one"
        return None
    if test.operator is Operator.STARTS_WITH:
        if spec.type is not str or spec.allowed is not None:
            return "`starts_with` applies to free text codes only"
        bad = [v for v in values if not isinstance(v, str)]
        return f"prefixes must be text, got {bad}" if bad else None
    if spec.allowed is not None:
        bad = [v for v in values if v not in spec.allowed]
        if bad:
            allowed = ", ".join(str(a) for a in spec.allowed)
            return f"{bad} not allowed; {test.field} takes {allowed}"
        return None
    bad = [v for v in values if not _is_type(v, spec.type)]
    return f"{bad} are not of type {spec.type.__name__}" if bad else None


def repeated(values: list[str]) -> list[str]:
    """The values that occur more than once, sorted (ids and names must be unique)."""
    return sorted({v for v in values if values.count(v) > 1})


def _is_type(value: Any, wanted: type) -> bool:
    if wanted is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, wanted)


def _case_problems(spec: MeasureFile) -> list[str]:
    problems = []
    problems += [f"cases: name {n!r} used twice" for n in repeated([c.name for c in spec.cases])]
    expects = {c.expect for c in spec.cases}
    if "matched" not in expects:
        problems.append("cases: needs at least one case that is matched")
    if not expects & {"near_miss", "not_matched"}:
        problems.append("cases: needs at least one case that is not matched")
    for i, case in enumerate(spec.cases):
        try:
            Profile.model_validate({"county": DEFAULT_CASE_COUNTY, **case.profile})
        except ValidationError as e:
            for error in e.errors():
                where = ".".join(str(p) for p in error["loc"])
                problems.append(f"cases.{i} ({case.name}): profile.{where}: {error['msg']}")
    return problems


def in_plan_words(spec: MeasureFile, plan_text: str) -> tuple[MeasureFile, list[str]]:
    """The measure with each quote written in Simplified replaced by the plan's own Traditional
    words (the answers serve the original), and a note of where each such quote was found."""
    quotes, notes = [], []
    for i, quote in enumerate(spec.source.quote):
        found = find_quote(plan_text, quote)
        if found is None or not found.in_simplified:
            quotes.append(quote)
            continue
        quotes.append(found.words)
        notes.append(
            f"source.quote.{i}: written in Simplified script; found in clause {spec.clause}, "
            f"line {found.line} of the plan, as 「{found.words}」"
        )
    if not notes:
        return spec, notes
    source = spec.source.model_copy(update={"quote": tuple(quotes)})
    return spec.model_copy(update={"source": source}), notes
