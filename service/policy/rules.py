"""The eligibility language: a condition tree over profile fields, evaluated to reasons.

A condition is a group (`all`, `any`, `not`) or a test of one field with one named operator.
Evaluation is three-valued (Kleene): a test of a field the profile leaves out is unknown, and a
group is decided as soon as its known members decide it. Every test is reported, never only the
first failure, and for a tree that fails we find the cheapest set of comparisons whose change would
make it hold: that is what a near miss lists as unmet.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from service.policy.vocabulary import Names


class Operator(StrEnum):
    """The named comparisons a test may make."""

    IS = "is"
    IS_NOT = "is_not"
    ONE_OF = "one_of"
    NONE_OF = "none_of"
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    MORE_THAN = "more_than"
    LESS_THAN = "less_than"
    STARTS_WITH = "starts_with"


LIST_OPERATORS = frozenset({Operator.ONE_OF, Operator.NONE_OF, Operator.STARTS_WITH})
NUMBER_OPERATORS = frozenset(
    {Operator.AT_LEAST, Operator.AT_MOST, Operator.MORE_THAN, Operator.LESS_THAN}
)


# What each operator means, as a Python expression over the value `v` and the operand `k`: the
# one definition, compiled inline by service/policy/evaluator.py and into COMPARE here.
EXPRESSION = {
    Operator.IS: "v == {k}",
    Operator.IS_NOT: "v != {k}",
    Operator.ONE_OF: "v in {k}",
    Operator.NONE_OF: "v not in {k}",
    Operator.AT_LEAST: "v >= {k}",
    Operator.AT_MOST: "v <= {k}",
    Operator.MORE_THAN: "v > {k}",
    Operator.LESS_THAN: "v < {k}",
    Operator.STARTS_WITH: "v.startswith({k})",
}
COMPARE: dict[Operator, Callable[[Any, Any], bool]] = {
    op: eval(f"lambda v, k: {template.format(k='k')}") for op, template in EXPRESSION.items()
}


def python_outcome(operator: Operator, value: Any, operand: Any) -> bool:
    """What the generated evaluator gives for a present `value`: a wrong type is a no."""
    try:
        return bool(COMPARE[operator](value, operand))
    except (TypeError, AttributeError):
        return False


class GateSource(BaseModel):
    """Who sets a condition: the plan (`plan:` the words of the measure's quote that do) or an
    instrument the measure declares (`instrument:` its id). Left out, it is the plan's sentence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plan: str | None = Field(None, min_length=1)
    instrument: str | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> "GateSource":
        if (self.plan is None) == (self.instrument is None):
            raise ValueError("a source names either `plan` (words of the quote) or `instrument`")
        return self


_ATTRIBUTES = ("field", "note", "fixed", "source")  # the keys of a test besides its operator


class Comparison(BaseModel):
    """A test of one profile field: `{field: tier, one_of: [provincial, little_giant]}`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str
    operator: Operator
    value: Any
    note: Names | None = None  # why the plan sets it, in zh-Hans, zh-Hant and en
    # never offered as "what would change the answer": a firm is not advised to shrink or to
    # give up a recognition to become eligible
    fixed: bool = False
    source: GateSource | None = None  # None: the plan's sentence the measure quotes

    @model_validator(mode="before")
    @classmethod
    def _one_operator(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "operator" in data:
            return data
        named = [k for k in data if k not in _ATTRIBUTES]
        if len(named) != 1 or named[0] not in Operator.__members__.values():
            known = ", ".join(o.value for o in Operator)
            raise ValueError(
                f"a test names `field` and exactly one operator ({known}); got {named or 'none'}"
            )
        out = {k: data[k] for k in _ATTRIBUTES if k in data}
        out.update(operator=named[0], value=data[named[0]])
        return out

    @model_validator(mode="after")
    def _value_shape(self) -> "Comparison":
        if self.operator in LIST_OPERATORS:
            values = self.value if isinstance(self.value, list) else [self.value]
            if not values:
                raise ValueError(f"`{self.operator}` needs at least one value")
            object.__setattr__(self, "value", tuple(values))
        elif self.operator in NUMBER_OPERATORS and (
            isinstance(self.value, bool) or not isinstance(self.value, int | float)
        ):
            raise ValueError(f"`{self.operator}` needs a number, got {self.value!r}")
        return self

    def key(self) -> tuple[Any, ...]:
        """Identity of the comparison, shared by every measure that makes it (note and source
        included: each measure's reasons must carry its own words)."""
        return (
            self.field,
            self.operator.value,
            repr(self.value),
            self.fixed,
            self.note,
            self.source,
        )


class AllOf(BaseModel):
    """Every member must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    all: list["Condition"] = Field(min_length=1)


class AnyOf(BaseModel):
    """At least one member must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    any: list["Condition"] = Field(min_length=1)


class NotOf(BaseModel):
    """The member must not hold."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    not_: "Condition" = Field(alias="not")


def _node_tag(value: Any) -> str:
    if isinstance(value, dict):
        for group in ("all", "any", "not"):
            if group in value:
                return group
    elif isinstance(value, AllOf):
        return "all"
    elif isinstance(value, AnyOf):
        return "any"
    elif isinstance(value, NotOf):
        return "not"
    return "test"


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[Comparison, Tag("test")],
    Discriminator(_node_tag),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def comparisons_of(condition: Condition) -> list[Comparison]:
    """Every test in a tree, in reading order."""
    if isinstance(condition, Comparison):
        return [condition]
    if isinstance(condition, NotOf):
        return comparisons_of(condition.not_)
    members = condition.all if isinstance(condition, AllOf) else condition.any
    return [t for member in members for t in comparisons_of(member)]


# --- compiled form -------------------------------------------------------------------------
# A compiled tree is an int (index of a comparison in the catalogue's table of distinct ones) or a
# tuple (group, members). Evaluating every distinct test once per profile and then folding the
# trees over the outcomes keeps matching a whole catalogue within microseconds.

ALL, ANY, NOT = 0, 1, 2
# int: a comparison's index; (ALL|ANY, members); (NOT, member)
Node = int | tuple[int, Any]
INFINITE = 10**9


def compile_tree(condition: Condition, index: Callable[[Comparison], int]) -> Node:
    """The compiled form of a condition; `index` numbers each distinct test."""
    if isinstance(condition, Comparison):
        return index(condition)
    if isinstance(condition, NotOf):
        return (NOT, compile_tree(condition.not_, index))
    group, members = (ALL, condition.all) if isinstance(condition, AllOf) else (ANY, condition.any)
    return (group, tuple(compile_tree(m, index) for m in members))


class Outcome(NamedTuple):
    """How every comparison came out for one profile: bit i of `holds` or of `fails`, or neither
    when the profile leaves the field out."""

    holds: int
    fails: int

    def of(self, index: int) -> bool | None:
        """The outcome of comparison `index`."""
        bit = 1 << index
        return True if self.holds & bit else False if self.fails & bit else None


def truth(node: Node, outcome: Outcome) -> bool | None:
    """Three-valued truth of a compiled tree (None: unknown)."""
    if isinstance(node, int):
        return outcome.of(node)
    if node[0] == NOT:
        inner = truth(node[1], outcome)
        return None if inner is None else not inner
    decisive = node[0] == ANY  # True decides an `any`, False decides an `all`
    result: bool | None = not decisive
    for member in node[1]:
        value = truth(member, outcome)
        if value is decisive:
            return decisive
        if value is None:
            result = None
    return result


def cheapest_change(
    node: Node, outcome: Outcome, fixed: int, want: bool = True
) -> tuple[int, tuple[int, ...]]:
    """Fewest comparisons that must change for the tree to come out `want`, and which.

    A comparison whose bit is in `fixed` (a field the firm cannot change) costs INFINITE.
    """
    if isinstance(node, int):
        if outcome.of(node) is want:
            return 0, ()
        return (INFINITE if fixed >> node & 1 else 1), (node,)
    if node[0] == NOT:
        return cheapest_change(node[1], outcome, fixed, not want)
    options = [cheapest_change(m, outcome, fixed, want) for m in node[1]]
    if (node[0] == ALL) == want:  # every member must change
        cost = min(INFINITE, sum(c for c, _ in options))
        return cost, tuple(t for _, chosen in options for t in chosen)
    return min(options, key=lambda option: option[0])


def open_questions(node: Node, outcome: Outcome) -> tuple[int, ...]:
    """The unknown comparisons on which an undecided tree still depends."""
    if truth(node, outcome) is not None:
        return ()
    if isinstance(node, int):
        return (node,)
    if node[0] == NOT:
        return open_questions(node[1], outcome)
    return tuple(i for m in node[1] for i in open_questions(m, outcome))
