"""GET /console/plan (方案原文): the plan in Simplified with the original one click away, each
sentence a measure quotes highlighted with links to its measures, the others plain, each clause's
coverage, and a search from a sentence's words to its measures."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.core.migrate import upgrade_database
from service.policy.catalogue import Catalogue
from service.policy.plan_text import simplified
from tests.conftest import NO_LANGUAGE, serve

LOAN = "優化對專精特新中小企業市級貸款貼息獎補政策。"
LOAN_SIMPLIFIED = "优化对专精特新中小企业市级贷款贴息奖补政策。"
UNQUOTED = "提高企业产品国内国际市场占有率。"  # a goal of 一(二): no measure's sentence


@dataclass
class Sentence:
    """A sentence as the page shows it."""

    classes: list[str]
    text: str = ""
    marked: str | None = None
    measures: list[str] = field(default_factory=list)


class SentenceReader(HTMLParser):
    """The page's `span.sentence` elements: their words, the highlighted words, the links."""

    def __init__(self) -> None:
        super().__init__()
        self.sentences: list[Sentence] = []
        self.depth = 0  # spans open inside the current sentence
        self.in_mark = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "span" and "sentence" in classes and self.depth == 0:
            self.sentences.append(Sentence(classes))
            self.depth = 1
        elif tag == "span" and self.depth:
            self.depth += 1
        elif tag == "mark" and self.depth:
            self.in_mark = True
            self.sentences[-1].marked = ""
        elif tag == "a" and self.depth and "measure-link" in classes:
            self.sentences[-1].measures.append(found.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self.depth:
            self.depth -= 1
        elif tag == "mark":
            self.in_mark = False

    def handle_data(self, data: str) -> None:
        if self.in_mark and self.sentences[-1].marked is not None:
            self.sentences[-1].marked += data
            self.sentences[-1].text += data
        elif self.depth == 1:
            self.sentences[-1].text += data


def sentences(html: str) -> list[Sentence]:
    """The sentences of a page of the plan."""
    reader = SentenceReader()
    reader.feed(html)
    return reader.sentences


@pytest.fixture
def console(client: TestClient) -> Iterator[TestClient]:
    """The service, forgetting the language a test switched to when it is done."""
    yield client
    client.cookies.clear()


@pytest.fixture
def catalogue(client: TestClient) -> Catalogue:
    """The catalogue the service serves."""
    served: Catalogue = client.app.state.catalogue  # type: ignore[attr-defined]
    return served


def test_the_plan_is_shown_in_simplified_chinese_first(console: TestClient) -> None:
    page = console.get("/console/plan", headers=NO_LANGUAGE)
    assert page.status_code == 200 and page.headers["content-language"] == "zh-Hans"
    assert "<h1>方案原文</h1>" in page.text and "由原文句子查找措施" in page.text
    shown = sentences(page.text)
    assert any(s.marked == LOAN_SIMPLIFIED for s in shown)
    assert LOAN not in page.text
    assert 'href="?script=original"' in page.text and "显示原文（繁体）" in page.text


def test_every_quoted_sentence_is_highlighted_with_a_link_to_each_measure_quoting_it(
    console: TestClient, catalogue: Catalogue
) -> None:
    shown = sentences(console.get("/console/plan", headers=NO_LANGUAGE).text)
    marked = {s.marked: s.measures for s in shown if s.marked is not None}
    quotes = {q for m in catalogue.measures for q in m.spec.source.quote}
    assert len(marked) == len(quotes)  # this catalogue quotes whole sentences
    for measure in catalogue.measures:
        for quote in measure.spec.source.quote:
            links = marked[simplified(quote)]
            assert f"/console/measures/{measure.measure_id}" in links
    assert marked[LOAN_SIMPLIFIED] == ["/console/measures/loan-interest-subsidy"]
    assert max(len(links) for links in marked.values()) == 6  # 二(一)'s first sentence


def test_a_sentence_no_measure_encodes_is_plain(console: TestClient) -> None:
    shown = sentences(console.get("/console/plan", headers=NO_LANGUAGE).text)
    goal = next(s for s in shown if s.text == UNQUOTED)
    assert goal.marked is None and goal.measures == [] and "plain" in goal.classes
    heading = next(s for s in shown if s.text == "1.提升技术创新能力。")
    assert heading.marked is None and "heading" in heading.classes


def test_each_clause_shows_its_coverage_at_a_glance(console: TestClient) -> None:
    page = console.get("/console/plan", headers=NO_LANGUAGE).text
    assert "措施已编码其中 46 句" in page
    assert 'data-place="二(二)5"' in page and "已编码 4/4 句" in page
    assert page.count('<header class="clause-head"') == 11  # each clause, above its text
    index = page.split('<ul class="clause-index">')[1].split("</ul>")[0]  # all at the top
    assert index.count('href="#place-二') == 11 and "加大财政扶持力度" in index


def test_the_original_traditional_text_is_one_click_away(console: TestClient) -> None:
    page = console.get("/console/plan?script=original", headers=NO_LANGUAGE)
    assert page.status_code == 200 and page.headers["content-language"] == "zh-Hans"
    shown = sentences(page.text)
    assert any(s.marked == LOAN for s in shown)
    assert (
        'href="?script=simplified"' in page.text
        and '<article class="plan-text" lang="zh-Hant"' in (page.text)
    )


def test_in_traditional_chinese_the_plan_is_shown_as_issued_and_in_english_in_simplified(
    console: TestClient,
) -> None:
    traditional = console.get("/console/plan?lang=zh-Hant")
    assert traditional.headers["content-language"] == "zh-Hant"
    assert "由原文句子查找措施" in traditional.text and "顯示簡體" in traditional.text
    assert any(s.marked == LOAN for s in sentences(traditional.text))
    english = console.get("/console/plan?lang=en")
    assert english.headers["content-language"] == "en"
    assert "Find a measure from its sentence" in english.text
    assert any(s.marked == LOAN_SIMPLIFIED for s in sentences(english.text))
    assert "Show the original (Traditional Chinese)" in english.text


@pytest.mark.parametrize("typed", ["贷款贴息奖补", "貸款貼息獎補"])
def test_a_measure_is_found_from_a_fragment_of_its_sentence_in_either_script(
    console: TestClient, typed: str
) -> None:
    page = console.get("/console/plan", params={"q": typed}, headers=NO_LANGUAGE)
    assert page.status_code == 200
    results = page.text.split('id="search-results"')[1].split("</section>")[0]
    assert '<b class="hit">贷款贴息奖补</b>' in results
    assert 'href="/console/measures/loan-interest-subsidy"' in results
    assert "二(二)5" in results and 'href="#s53"' in results
    # the toggle keeps the search
    assert "?script=original&amp;q=" in page.text


def test_a_search_that_finds_nothing_says_so_and_an_unquoted_sentence_names_no_measure(
    console: TestClient,
) -> None:
    nothing = console.get("/console/plan", params={"q": "量子计算机"}, headers=NO_LANGUAGE)
    assert nothing.status_code == 200 and "方案中没有含这些字词的句子。" in nothing.text
    goal = console.get("/console/plan", params={"q": "市场占有率"}, headers=NO_LANGUAGE).text
    results = goal.split('id="search-results"')[1].split("</section>")[0]
    assert "尚无措施编码此句。" in results and "/console/measures/" not in results


def test_a_broad_search_lists_a_page_of_sentences_and_says_there_are_more(
    console: TestClient,
) -> None:
    page = console.get("/console/plan", params={"q": "专精特新"}, headers=NO_LANGUAGE).text
    assert "仅列出前 50 句" in page


@pytest.mark.parametrize(
    ("query", "field_name"),
    [({"script": "pinyin"}, "script"), ({"q": "贷" * 101}, "q")],
)
def test_bad_parameters_are_refused_naming_the_field(
    console: TestClient, query: dict[str, str], field_name: str
) -> None:
    answer = console.get("/console/plan", params=query)
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == [field_name]


def test_the_page_loads_nothing_from_elsewhere_and_no_script(console: TestClient) -> None:
    page = console.get("/console/plan", headers=NO_LANGUAGE)
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script" not in page.text
    assert console.get("/console/static/plan.css").status_code == 200


def test_a_search_in_the_original_script_shows_the_plans_own_words_found(
    console: TestClient,
) -> None:
    page = console.get(
        "/console/plan", params={"q": "贷款贴息奖补", "script": "original"}, headers=NO_LANGUAGE
    )
    assert '<b class="hit">貸款貼息獎補</b>' in page.text
    assert 'href="?script=simplified&amp;q=' in page.text


def test_a_search_of_the_longest_allowed_words_is_answered(console: TestClient) -> None:
    page = console.get("/console/plan", params={"q": "贷\x00" * 50}, headers=NO_LANGUAGE)
    assert page.status_code == 200 and "方案中没有含这些字词的句子。" in page.text


@pytest.mark.slow  # starts a service of its own
def test_when_the_console_is_not_public_the_plan_asks_for_a_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'policy_match.db'}"
    upgrade_database(url)
    with serve(url, console_public=False) as closed:
        answer = closed.get("/console/plan?q=x", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fplan%3Fq%3Dx"
