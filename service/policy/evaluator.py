"""The catalogue's comparisons compiled into one Python function, for speed.

Matching runs every distinct comparison of the catalogue once per profile. Written as a loop
over closures that costs a call and a dict lookup per comparison; generated as one function it
reads each field once and compares inline, which is what keeps a whole-catalogue match within
microseconds. The generated source is kept on the catalogue (`evaluator_source`) for reading.

The function returns (T, F): T has bit i set when comparison i holds, F when it does not;
neither, when the profile leaves the field out. With the facts themselves, that is every
reason: `reason()` makes the Reason of one comparison from them.
"""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, NamedTuple, Protocol

from service.policy.rules import EXPRESSION, Operator

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


class Compiled(Protocol):
    """What the generator needs of a compiled comparison."""

    @property
    def index(self) -> int:
        """Its bit's position."""

    @property
    def field(self) -> str:
        """The profile field it reads."""

    @property
    def value(self) -> Any:
        """What it compares with."""

    @property
    def operator(self) -> Operator:
        """The comparison's operator."""


class TierNote(NamedTuple):
    """How the tier was read: expired on a day, or (expired_on None) its validity not given."""

    tier: str
    expired_on: date | None


class Reason(NamedTuple):
    """One comparison as it came out for a profile."""

    comparison: Any  # CompiledComparison
    passed: bool | None
    actual: Any  # MISSING when the profile leaves the field out
    note: TierNote | None  # how the value was read, where that is not plain


Evaluate = Callable[[dict[str, Any]], tuple[int, int]]

NOTED_FIELDS = ("tier",)  # fields whose reasons carry the note facts_on() gives


def reason(
    comparison: Any, holds: int, fails: int, facts: dict[str, Any], note: TierNote | None
) -> Reason:
    """The Reason of one comparison, from the evaluator's masks and the facts it read."""
    bit = comparison.bit
    passed = True if holds & bit else False if fails & bit else None
    actual = facts.get(comparison.field, MISSING)
    return Reason(comparison, passed, actual, note if comparison.field in NOTED_FIELDS else None)


def evaluator_source(comparisons: Sequence[Compiled]) -> str:
    """The source of `evaluate(facts)` for these comparisons."""
    lines = ["def evaluate(facts):", "    T = 0", "    F = 0"]
    by_field: dict[str, list[Compiled]] = {}
    for c in comparisons:
        by_field.setdefault(c.field, []).append(c)
    for field, group in by_field.items():
        lines.append(f"    v = facts.get({field!r}, MISSING)")
        lines.append("    if v is not MISSING:")
        for c in group:
            i = c.index
            lines += [
                "        try:",
                f"            p = {EXPRESSION[c.operator].format(k=f'k{i}')}",
                "        except (TypeError, AttributeError):  # a wrong type is a no",
                "            p = False",
                "        if p:",
                f"            T |= {1 << i}",
                "        else:",
                f"            F |= {1 << i}",
            ]
    lines.append("    return T, F")
    return "\n".join(lines) + "\n"


def build_evaluator(comparisons: Sequence[Compiled]) -> tuple[Evaluate, str]:
    """The compiled `evaluate` function and its source."""
    source = evaluator_source(comparisons)
    namespace: dict[str, Any] = {"MISSING": MISSING}
    namespace.update({f"k{c.index}": c.value for c in comparisons})
    exec(compile(source, "<catalogue evaluator>", "exec"), namespace)
    evaluate: Evaluate = namespace["evaluate"]
    return evaluate, source
