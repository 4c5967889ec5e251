"""Where each gate of a measure comes from: the plan's sentence, or an instrument it declares.

The principle (issue 12): a condition limits who receives a measure only where the plan's
sentence sets it, or an instrument the measure names with its number and date. The plan's target
indicators and outside recognition criteria are not gates. A test without `source` is the plan's
sentence (the measure's quote); `source: {plan: words}` names the words of the quote that set it;
`source: {instrument: id}` names an instrument declared in the measure's `instruments`.
"""

from service.policy.checks import repeated
from service.policy.files import Document, Instrument, MeasureFile
from service.policy.rules import Comparison, comparisons_of


def gate_source_problems(spec: MeasureFile) -> list[str]:
    """Every gate whose source cannot be traced, and every instrument declared but unused."""
    declared = [i.id for i in spec.instruments]
    problems = [f"instruments: id {d!r} declared twice" for d in repeated(declared)]
    quotes = "".join(spec.source.quote)
    cited = {spec.period_source} if spec.period_source else set()
    for i, test in enumerate(comparisons_of(spec.eligibility)):
        where = f"eligibility (test {i + 1}, field {test.field!r}): source"
        source = test.source
        if source is None:
            continue
        if source.instrument is not None:
            cited.add(source.instrument)
            if source.instrument not in declared:
                problems.append(
                    f"{where}: instrument {source.instrument!r} is not declared in `instruments`"
                )
        elif source.plan is not None and source.plan not in quotes:
            problems.append(f"{where}: the words {source.plan!r} are not in the measure's quote")
    if spec.period_source is not None and spec.period_source not in declared:
        problems.append(
            f"period_source: instrument {spec.period_source!r} is not declared in `instruments`"
        )
    problems += [
        f"instruments: {d!r} is declared but no gate or period cites it"
        for d in declared
        if d not in cited
    ]
    return problems


def period_problems(spec: MeasureFile, document: Document) -> list[str]:
    """A period other than the plan's needs the instrument that sets it (clause 三(三))."""
    plan_period = (document.issued_on, document.in_force_until)
    if (spec.valid_from, spec.valid_until) == plan_period or spec.period_source is not None:
        return []
    return [
        f"valid_from/valid_until: {spec.valid_from}..{spec.valid_until} is not the plan's period "
        f"({plan_period[0]}..{plan_period[1]}); name the instrument that sets it in "
        "`period_source` (三(三): 上级政府或现有政策有明确规定实施期限的,从其规定)"
    ]


def instrument_of(spec: MeasureFile, test: Comparison) -> Instrument | None:
    """The declared instrument a gate cites, or None where the plan sets it."""
    if test.source is None or test.source.instrument is None:
        return None
    return next((i for i in spec.instruments if i.id == test.source.instrument), None)


def period_instrument(spec: MeasureFile) -> Instrument | None:
    """The instrument that sets the measure's period, or None where it is the plan's."""
    return next((i for i in spec.instruments if i.id == spec.period_source), None)
