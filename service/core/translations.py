"""The gettext catalogues: service/core/locale/<language>/LC_MESSAGES/messages.po, read once.

The .po files are the only source: they are compiled in memory with Babel's reader the first
time a language is asked for (no .mo is built or shipped, so none can go stale). A fuzzy or
empty entry counts as untranslated and falls back to the English msgid.
`scripts/messages.sh` extracts the msgids from the code and updates the .po files.
"""

from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
# Our languages as gettext names the folders (BCP 47 `zh-Hans` is `zh_Hans` there).
FOLDERS = {"zh-Hans": "zh_Hans", "zh-Hant": "zh_Hant", "en": "en"}


def po_path(language: str) -> Path:
    """The .po file of one language."""
    return LOCALE_DIR / FOLDERS[language] / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(FOLDERS))
def translations(language: str) -> dict[str, str]:
    """msgid -> translation for one language: the entries translated and not fuzzy."""
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=FOLDERS[language])
    return {
        entry.id: entry.string
        for entry in catalog
        if entry.id and isinstance(entry.id, str) and isinstance(entry.string, str)
        if entry.string and not entry.fuzzy
    }


def translation(language: str, msgid: str) -> str:
    """The translation of `msgid`, or the msgid itself when there is none."""
    return translations(language).get(msgid, msgid)
