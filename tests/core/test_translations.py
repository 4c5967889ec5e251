"""The gettext catalogues: every msgid of the code translated, none fuzzy or empty, and each
translation keeping its msgid's placeholders."""

import string
from pathlib import Path

import pytest
from babel.messages.catalog import Message as Entry
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from pydantic_core._pydantic_core import list_all_errors

from service.core.i18n import Message, joined, message, translate
from service.core.translations import FOLDERS, po_path
from service.core.validation_messages import TEMPLATES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("zh-Hans", "zh-Hant")  # en is the msgid itself


def code_msgids() -> set[str]:
    """The msgids of the code and the console's templates, extracted as scripts/messages.sh
    extracts them (babel.cfg)."""
    found = extract_from_dir(
        ROOT / "service",
        method_map=[("**.py", "python"), ("console/templates/**.html", "jinja2")],
        keywords={"message": None, "_": None},
    )
    return {msgid for _, _, msgid, _, _ in found if isinstance(msgid, str)}


def entries(language: str) -> dict[str, Entry]:
    """The .po file's entries by msgid (the header left out)."""
    with po_path(language).open("rb") as po:
        return {entry.id: entry for entry in read_po(po) if entry.id and isinstance(entry.id, str)}


def placeholders(text: str) -> set[str]:
    """The `{name}` placeholders of a brace-format text (`{{` is a brace, not one)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_code_has_msgids_to_extract() -> None:
    msgids = code_msgids()
    assert "Unauthorized" in msgids and "Input should be greater than or equal to {ge}" in msgids
    assert len(msgids) > 150


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_msgid_of_the_code_is_translated_and_none_is_fuzzy_or_empty(language: str) -> None:
    catalogue = entries(language)
    missing = sorted(code_msgids() - catalogue.keys())
    assert missing == [], f"run scripts/messages.sh update and translate these in {language}"
    untranslated = sorted(m for m, e in catalogue.items() if not e.string or e.fuzzy)
    assert untranslated == [], f"empty or fuzzy in {po_path(language)}"


@pytest.mark.parametrize("language", FOLDERS)
def test_no_po_file_keeps_msgids_the_code_no_longer_has(language: str) -> None:
    assert sorted(entries(language).keys() - code_msgids()) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_a_translation_keeps_the_placeholders_of_its_msgid(language: str) -> None:
    for msgid, entry in entries(language).items():
        assert isinstance(entry.string, str)
        given, kept = placeholders(msgid), placeholders(entry.string)
        assert kept <= given, f"{msgid!r}: {entry.string!r} has placeholders of its own"
        # Chinese has no plural: pydantic's `{expected_plural}` ("s" or "") is the one to drop;
        # `{error}` of "Value error, {error}" is our own validator's message, kept whole
        dropped = {name for name in given - kept if not name.endswith("_plural")}
        assert dropped == set(), f"{msgid!r}: {entry.string!r} drops {dropped}"


def test_the_english_catalogue_is_the_identity() -> None:
    assert all(not entry.string for entry in entries("en").values())
    assert message("no push event {id}", id="evt_1").translate("en") == "no push event evt_1"


def test_the_validation_msgids_are_pydantics_own_templates() -> None:
    templates: dict[str, str] = {e["type"]: e["message_template_python"] for e in list_all_errors()}
    for kind, template in TEMPLATES.items():
        assert templates[kind] == template.msgid, kind


def test_a_message_is_translated_with_its_parameters_each_in_the_same_language() -> None:
    inner = message("a county of Jiangmen")
    outer = message("not {what}", what=inner)
    assert outer.translate("zh-Hans") == "不是江门市的县级行政区"
    assert outer.translate("zh-Hant") == "不是江門市的縣級行政區"
    assert str(outer) == "not a county of Jiangmen"
    both = joined([outer, "plain"])
    assert translate(both, "zh-Hans") == "不是江门市的县级行政区; plain"
    assert translate("as it is", "zh-Hans") == "as it is"


def test_a_missing_translation_falls_back_to_the_english() -> None:
    assert Message("never translated {n}", {"n": 1}).translate("zh-Hans") == "never translated 1"
