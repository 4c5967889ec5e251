"""The decisions on the measures in force, compiled into one Python function per set of them.

For a measure that is one comparison or an `all` of comparisons (most of the plan), the bits
of T and F decide it: matched when all its bits hold, a near miss when some fail and the rest
are few and changeable, undetermined otherwise. Generated as straight-line code with the masks
as constants, a whole catalogue is decided in a few microseconds; any other tree is handed to
`decide_tree`, in its place, so the answer keeps the catalogue's order.
"""

from collections.abc import Callable, Sequence
from typing import Any

from service.matching.decisions import decide_tree, missing_fields
from service.policy.catalogue import Measure
from service.policy.rules import Outcome

Decided = tuple[list[Measure], list[tuple[Measure, int]], list[tuple[Measure, tuple[str, ...]]]]
Decide = Callable[[int, int, dict[str, Any]], Decided]


def decider_source(measures: Sequence[Measure], *, fixed: int, max_unmet: int) -> str:
    """The source of `decide(T, F, facts)` for these measures, in their order."""
    lines = [
        "def decide(T, F, facts):",
        "    matched = []; near = []; unknown = []",
        "    am = matched.append; an = near.append; au = unknown.append",
    ]
    for i, measure in enumerate(measures):
        m, need = f"m{i}", measure.mask
        lines.append(f"    # {measure.measure_id}")
        if not measure.conjunctive:
            # decided by the tree, remembered by the outcome of its own comparisons (but for
            # undetermined, whose missing fields depend on the facts)
            lines += [
                f"    k = (T & {need}, F & {need})",
                f"    d = memo{i}.get(k, MISS)",
                "    if d is MISS:",
                f"        d = tree({m}, Outcome(T, F), facts, fixed={fixed}, "
                f"max_unmet={max_unmet})",
                "        if d is None or d[0] != 'undetermined':",
                f"            memo{i}[k] = d",
                "    if d is not None:",
                f"        am({m}) if d[0] == 'matched' else "
                f"(an if d[0] == 'near_miss' else au)(({m}, d[1]))",
            ]
            continue
        lines.append(f"    if F & {need}:")
        if not need & fixed and need.bit_count() <= max_unmet:  # whatever fails is near
            lines.append(f"        an(({m}, {need} & ~T))")
        elif need.bit_count() == 1:  # its one comparison, on a fixed field, failed
            lines.append("        pass")
        else:
            lines += [
                f"        u = {need} & ~T",
                f"        if not u & {fixed} and u.bit_count() <= {max_unmet}:",
                f"            an(({m}, u))",
            ]
        lines += [
            f"    elif T & {need} == {need}:",
            f"        am({m})",
            "    else:",
            f"        au(({m}, missing({m}, {need} & ~T, facts)))",
        ]
    lines.append("    return matched, near, unknown")
    return "\n".join(lines) + "\n"


def build_decider(measures: Sequence[Measure], *, fixed: int, max_unmet: int) -> Decide:
    """The compiled `decide` function for these measures."""
    source = decider_source(measures, fixed=fixed, max_unmet=max_unmet)
    namespace: dict[str, Any] = {"missing": missing_fields, "tree": decide_tree, "Outcome": Outcome}
    namespace.update({f"m{i}": m for i, m in enumerate(measures)})
    namespace.update({f"memo{i}": {} for i, m in enumerate(measures) if not m.conjunctive})
    namespace["MISS"] = object()
    exec(compile(source, "<catalogue decider>", "exec"), namespace)
    decide: Decide = namespace["decide"]
    return decide
