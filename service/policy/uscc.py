"""统一社会信用代码 (GB 32100-2015): charset and check digit."""

from service.core.i18n import Message, message

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# What a schema can say of a code; the check digit it cannot (uscc_problem checks both).
USCC_PATTERN = f"^[{CHARSET}]{{18}}$"


def check_character(first17: str) -> str:
    """The check character for the first 17 characters of a credit code."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> Message | None:
    """Why `code` is not a valid credit code, or None when it is."""
    if len(code) != 18:
        return message("must be 18 characters, got {length}", length=len(code))
    bad = sorted({c for c in code if c not in _VALUE})
    if bad:
        return message(
            "character(s) {bad!r} not in the charset 0-9A-HJ-NPQRTUWXY", bad="".join(bad)
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return message(
            "check digit is {given!r}, expected {expected!r}", given=code[17], expected=expected
        )
    return None
