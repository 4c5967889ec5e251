"""The plan cut into sentences, the measures quoting each, each clause's coverage, and finding a
sentence from a few of its words in either script."""

import re
from pathlib import Path

import pytest

from service.policy.catalogue import Catalogue, load_catalogue
from service.policy.plan_coverage import build_coverage, plan_coverage, quoted_by
from service.policy.plan_search import MAX_FOUND
from service.policy.plan_sentences import plan_blocks
from service.policy.plan_text import place_texts, simplified
from tests.policy_copies import POLICIES

LOAN = "優化對專精特新中小企業市級貸款貼息獎補政策。"
LOAN_SIMPLIFIED = "优化对专精特新中小企业市级贷款贴息奖补政策。"
UNQUOTED = "提高企業產品國內國際市場占有率。"  # 一(二), the plan's goals: no measure's sentence


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """The real catalogue."""
    return load_catalogue(POLICIES)


def words(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_catalogue_keeps_the_plan_as_issued_with_its_errata_applied(
    catalogue: Catalogue,
) -> None:
    assert "通過“政銀保”貸款" in catalogue.plan_text
    assert "政銀?!辟J款" not in catalogue.plan_text


def test_every_place_of_the_plan_is_cut_into_sentences_that_lose_no_word(
    catalogue: Catalogue,
) -> None:
    blocks = plan_blocks(catalogue.plan_text, frozenset(catalogue.clauses))
    places = {b.place: b for b in blocks if b.place is not None}
    expected = place_texts(catalogue.plan_text)
    assert places.keys() == expected.keys()
    for place, block in places.items():
        cut = "".join(s.text for s in block.sentences)
        # the last place runs to the end of the copy, whose page footer is not the plan's
        assert words(expected[place]).startswith(words(cut)), place
        assert words(cut) == words(expected[place].split("\n\n")[0]), place
    numbers = [s.number for b in blocks for s in b.sentences]
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(len(s.zh_hans) == len(s.text) for b in blocks for s in b.sentences)


def test_a_clause_opens_with_its_heading_and_closes_with_the_units_responsible(
    catalogue: Catalogue,
) -> None:
    blocks = plan_blocks(catalogue.plan_text, frozenset(catalogue.clauses))
    clauses = [b for b in blocks if b.place in catalogue.clauses]
    assert [b.place for b in clauses] == list(catalogue.clauses)
    for block in clauses:
        first, *middle, last = block.sentences
        assert first.kind == "heading" and last.kind == "note" and "負責" in last.text
        assert all(s.kind == "sentence" for s in middle)
    first = next(b for b in clauses if b.place == "二(二)1").sentences[0]
    assert first.text == "1.提升技術創新能力。" and first.zh_hans == "1.提升技术创新能力。"
    kinds = {b.kind for b in blocks}
    assert kinds == {"head", "section", "part", "place"}


def test_every_quote_of_the_catalogue_is_whole_sentences_marked_with_its_measure(
    catalogue: Catalogue,
) -> None:
    coverage = build_coverage(catalogue)
    assert coverage.unplaced == ()
    sentences = [s for b in coverage.blocks for s in b.sentences]
    for measure in catalogue.measures:
        for quote in measure.spec.source.quote:
            mine = [s for s in sentences if measure.measure_id in quoted_by(coverage, s)]
            assert any(s.text == quote for s in mine), (measure.measure_id, quote)
            assert all(s.place == measure.spec.clause for s in mine)
    loan = next(s for s in sentences if s.text == LOAN)
    assert quoted_by(coverage, loan) == ("loan-interest-subsidy",)


def test_a_sentence_quoted_by_several_measures_names_each_in_the_catalogues_order(
    catalogue: Catalogue,
) -> None:
    coverage = build_coverage(catalogue)
    first = next(b for b in coverage.blocks if b.place == "二(一)").sentences[1]
    quoting = [m.measure_id for m in catalogue.measures if first.text in m.spec.source.quote]
    assert len(quoting) == 6 and quoted_by(coverage, first) == tuple(quoting)


def test_a_sentence_no_measure_quotes_is_plain(catalogue: Catalogue) -> None:
    coverage = build_coverage(catalogue)
    goal = next(s for b in coverage.blocks for s in b.sentences if s.text == UNQUOTED)
    assert goal.place == "一(二)" and quoted_by(coverage, goal) == ()


def test_each_clause_counts_its_sentences_and_those_encoded(catalogue: Catalogue) -> None:
    coverage = build_coverage(catalogue)
    assert list(coverage.clauses) == list(catalogue.clauses)
    loan_clause = coverage.clauses["二(二)5"]
    assert (loan_clause.encoded, loan_clause.total) == (4, 4)  # heading and units aside
    assert coverage.encoded == coverage.total == 46


def test_a_sentence_left_without_its_measure_lowers_its_clauses_coverage(policies: Path) -> None:
    (policies / "measures" / "loan-interest-subsidy.yaml").unlink()
    coverage = build_coverage(load_catalogue(policies))
    loan_clause = coverage.clauses["二(二)5"]
    assert (loan_clause.encoded, loan_clause.total) == (3, 4)
    assert coverage.encoded == 45 and coverage.total == 46
    loan = next(s for b in coverage.blocks for s in b.sentences if s.text == LOAN)
    assert quoted_by(coverage, loan) == ()


def test_a_quote_that_is_part_of_a_sentence_marks_that_sentence(policies: Path) -> None:
    path = policies / "measures" / "loan-interest-subsidy.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(LOAN, LOAN[:-1]), encoding="utf-8")
    coverage = build_coverage(load_catalogue(policies))
    loan = next(s for b in coverage.blocks for s in b.sentences if s.text == LOAN)
    assert quoted_by(coverage, loan) == ("loan-interest-subsidy",)


def test_the_coverage_is_computed_once_per_catalogue(catalogue: Catalogue, policies: Path) -> None:
    assert plan_coverage(catalogue) is plan_coverage(catalogue)
    (policies / "measures" / "loan-interest-subsidy.yaml").unlink()
    changed = load_catalogue(policies)
    assert changed.version != catalogue.version
    assert plan_coverage(changed) is not plan_coverage(catalogue)
    assert plan_coverage(changed).encoded == 45


@pytest.mark.parametrize(
    "typed",
    [
        "贷款贴息奖补",  # Simplified
        "貸款貼息獎補",  # Traditional
        "市级 贷款贴息",  # with a space
        "對專精特新中小企業市級貸款",
    ],
)
def test_a_sentence_is_found_from_a_few_of_its_words_in_either_script(
    catalogue: Catalogue, typed: str
) -> None:
    coverage = plan_coverage(catalogue)
    found, more = coverage.index.find(typed)
    loan = [f for f in found if f.sentence.text == LOAN]
    assert len(loan) == 1 and not more
    hit = loan[0]
    # the words found, at the same place in both scripts
    assert LOAN_SIMPLIFIED[hit.start : hit.end] == words(simplified(typed))
    assert simplified(LOAN[hit.start : hit.end]) == words(simplified(typed))
    assert quoted_by(coverage, hit.sentence) == ("loan-interest-subsidy",)


def test_full_width_punctuation_finds_the_plans_half_width(catalogue: Catalogue) -> None:
    found, _ = plan_coverage(catalogue).index.find("积极开展多层次的培训班，积极推动")
    assert [f.sentence.place for f in found] == ["二(一)"]
    hit = found[0]
    assert hit.sentence.zh_hans[hit.start : hit.end] == "积极开展多层次的培训班,积极推动"


def test_a_search_lists_at_most_a_page_of_sentences_and_says_there_are_more(
    catalogue: Catalogue,
) -> None:
    index = plan_coverage(catalogue).index
    found, more = index.find("专精特新")
    assert len(found) == MAX_FOUND and more
    assert index.find("专精特新", limit=200)[1] is False
    assert index.find("   ") == ([], False)
    assert index.find("量子计算机") == ([], False)
