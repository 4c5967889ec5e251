"""A measure may quote the plan in Simplified script: `check` accepts it, says where in the plan
it was found, and the answers serve the plan's own Traditional words beside the Simplified."""

from pathlib import Path

import pytest

from service.cli import main as cli
from service.matching.presentation import measure_detail
from service.policy.catalogue import CatalogueError, load_catalogue
from service.policy.plan_text import find_quote
from tests.policy_copies import POLICIES, edit_yaml

TRADITIONAL = "優化對專精特新中小企業市級貸款貼息獎補政策。"
SIMPLIFIED = "优化对专精特新中小企业市级贷款贴息奖补政策。"
LOAN = "measures/loan-interest-subsidy.yaml"


def test_a_quote_is_found_verbatim_or_in_simplified_script() -> None:
    plan = (POLICIES / "plan.txt").read_text(encoding="utf-8")
    verbatim, simplified = find_quote(plan, TRADITIONAL), find_quote(plan, SIMPLIFIED)
    assert verbatim is not None and not verbatim.in_simplified
    assert simplified is not None and simplified.in_simplified
    assert simplified.words == TRADITIONAL and simplified.line == verbatim.line
    assert find_quote(plan, "对专精特新中小企业给予一百万元奖励。") is None


def test_a_simplified_quote_is_accepted_and_served_as_the_plans_words(
    policies: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = load_catalogue(policies)
    edit_yaml(policies / LOAN, lambda d: d["source"].update(quote=[SIMPLIFIED]))
    catalogue = load_catalogue(policies)
    loan = catalogue.by_id["loan-interest-subsidy"]
    assert loan.spec.source.quote == (TRADITIONAL,)
    assert catalogue.version == original.version  # the same words, however they were written
    source = measure_detail(catalogue, loan, "zh-Hans")["source"]
    assert source["quote"] == [TRADITIONAL] and source["quote_zh_hans"] == [SIMPLIFIED]
    assert cli(["--lang", "en", "check", "--policies", str(policies)]) == 0
    out = capsys.readouterr().out
    assert f"note: {LOAN}: source.quote.0: written in Simplified script" in out
    assert "found in clause 二(二)5, line" in out and TRADITIONAL in out


def test_a_simplified_quote_from_another_clause_is_still_refused(policies: Path) -> None:
    edit_yaml(policies / LOAN, lambda d: d["source"].update(quote=[SIMPLIFIED]))
    edit_yaml(policies / LOAN, lambda d: d.update(clause="二(二)4"))
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(policies)
    assert any("in the plan, but not in clause 二(二)4" in p for p in caught.value.problems)
