"""The command speaks the language `--lang` or the locale picks (issue 14): zh-Hans when neither
says (C, POSIX or no locale), zh-Hant for zh_TW, English on request; the same command in each."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli import build_parser, language_of, main
from service.cli.output import NO_DATABASE
from service.core.settings import get_settings
from tests.policy_copies import edit_yaml

BROKEN_CASE = "measures/loan-interest-subsidy.yaml"


@pytest.fixture
def no_locale(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No locale set: each test says which it wants."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def broken(policies: Path) -> Path:
    """The policies copy with one case expecting what its measure does not give."""
    edit_yaml(policies / BROKEN_CASE, lambda d: d["cases"][1].update(expect="matched"))
    return policies


CHECK_FAILED = {
    "zh-Hans": "未通过：{cases} 个测试用例中 1 个失败",
    "zh-Hant": "未通過：{cases} 個測試用例中 1 個失敗",
    "en": "FAILED: 1 of {cases} case(s)",
}


def failed_check(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The last line `check` writes on stderr, once it has failed."""
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.strip().splitlines()[-1]


def cases_in(policies: Path) -> int:
    """How many cases the folder has (the number `check` reports)."""
    from service.policy.catalogue import load_catalogue

    return sum(len(m.spec.cases) for m in load_catalogue(policies).measures)


def test_check_says_what_failed_in_chinese_when_no_locale_says_otherwise(
    policies: Path, no_locale: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = broken(policies)
    cases = cases_in(folder)
    line = failed_check(["check", "--policies", str(folder)], capsys)
    assert line == CHECK_FAILED["zh-Hans"].format(cases=cases)
    no_locale.setenv("LANG", "C.UTF-8")
    assert failed_check(["check", "--policies", str(folder)], capsys) == line


def test_check_says_it_in_traditional_chinese_under_a_taiwan_locale(
    policies: Path, no_locale: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = broken(policies)
    no_locale.setenv("LANG", "zh_TW.UTF-8")
    line = failed_check(["check", "--policies", str(folder)], capsys)
    assert line == CHECK_FAILED["zh-Hant"].format(cases=cases_in(folder))


@pytest.mark.parametrize("argv", [["--lang", "en", "check"], ["check", "--lang", "en"]])
def test_check_says_it_in_english_with_lang_en_before_or_after_the_command(
    argv: list[str],
    policies: Path,
    no_locale: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = broken(policies)
    no_locale.setenv("LANG", "zh_TW.UTF-8")  # --lang wins over the locale
    line = failed_check([*argv, "--policies", str(folder)], capsys)
    assert line == CHECK_FAILED["en"].format(cases=cases_in(folder))


def test_a_passing_check_is_reported_in_each_language(
    no_locale: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    said = {}
    for language in ("zh-Hans", "zh-Hant", "en"):
        assert main(["--lang", language, "check"]) == 0
        said[language] = capsys.readouterr().out.strip().splitlines()[-1]
    assert said["zh-Hans"].startswith("通过：") and "项措施" in said["zh-Hans"]
    assert said["zh-Hant"].startswith("通過：") and "項措施" in said["zh-Hant"]
    assert said["en"].startswith("ok: ") and " measures, " in said["en"]


MISSING_DATABASE = {
    "zh-Hans": "policy-match: {file} 处没有数据库：请用 `alembic upgrade head` 创建",
    "zh-Hant": "policy-match: {file} 處沒有數據庫：請用 `alembic upgrade head` 創建",
    "en": "policy-match: no database at {file}: create it with `alembic upgrade head`",
}


@pytest.mark.parametrize(
    ("locale", "argv", "language"),
    [
        (None, [], "zh-Hans"),
        ("zh_CN.UTF-8", [], "zh-Hans"),
        ("zh_TW.UTF-8", [], "zh-Hant"),
        ("zh_HK.UTF-8", [], "zh-Hant"),
        ("zh_CN.UTF-8", ["--lang", "en"], "en"),
        ("en_US.UTF-8", [], "en"),
    ],
)
def test_import_into_a_missing_database_says_so_in_the_language_chosen(
    locale: str | None,
    argv: list[str],
    language: str,
    tmp_path: Path,
    no_locale: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if locale:
        no_locale.setenv("LANG", locale)
    missing = tmp_path / "nowhere" / "policy_match.db"
    no_locale.setenv("POLICY_MATCH_DATABASE_URL", f"sqlite:///{missing}")
    rows = tmp_path / "firms.jsonl"
    rows.write_text("", encoding="utf-8")
    assert main([*argv, "import", str(rows)]) == NO_DATABASE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(MISSING_DATABASE[language].format(file=missing))


def test_a_missing_file_to_import_is_named_in_chinese(
    tmp_path: Path, no_locale: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(tmp_path / "none.csv")]) == 2
    assert capsys.readouterr().err.strip() == f"{tmp_path / 'none.csv'}：文件不存在"


def test_the_locale_variables_are_read_in_posix_order() -> None:
    both = {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}
    assert language_of([], both) == "zh-Hant"  # LC_ALL before LANG
    assert language_of([], {"LC_MESSAGES": "en_GB", "LANG": "zh_CN"}) == "en"
    assert language_of([], {"LANG": "POSIX"}) == "zh-Hans"
    assert language_of(["--lang", "zh-Hant", "check"], {"LANG": "en_US"}) == "zh-Hant"
    assert language_of(["check", "--lang=en"], {}) == "en"
    assert language_of(["--lang", "fr"], {"LANG": "zh_TW"}) == "zh-Hant"  # argparse refuses fr
    assert language_of(["check", "--lang"], {"LANG": "en_US"}) == "en"  # and a --lang alone


def test_an_unknown_language_is_refused_by_the_parser(
    no_locale: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--lang", "fr", "check"])
    assert stopped.value.code == 2
    assert "--lang" in capsys.readouterr().err


def test_the_help_is_in_the_language_chosen() -> None:
    chinese = "".join(build_parser("zh-Hans").format_help().split())  # as wrapped: no spaces
    assert "退出码：" in chinese and "校验policies/并运行其中的测试用例" in chinese
    assert "C、POSIX或未设置时为zh-Hans" in chinese  # the default is said in --help
    traditional = build_parser("zh-Hant").format_help()
    assert "退出碼：" in traditional
    english = "".join(build_parser("en").format_help().split())
    assert "exitcodes:" in english and "C,POSIXorunsetiszh-Hans" in english


def test_an_options_default_is_shown_in_the_help_in_its_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["--lang", "zh-Hans", "demo-data", "--help"])
    text = "".join(capsys.readouterr().out.split())
    assert "（默认：3000）" in text and "显示此帮助并退出" in text
