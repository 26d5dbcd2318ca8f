"""Usernames people cannot confuse.

- ``normalize``: NFKC (Unicode TR 15), so ``Ａdmin`` (fullwidth) is stored as ``Admin``;
- ``canonical``: NFKC of the case-folded NFKC form (Unicode's ``NFKC_Casefold`` in spirit),
  the unique key: ``Alice``, ``ALICE`` and ``Ａlice`` are one name, whoever registers first;
- ``check_scripts``: the letters of one name come from one script, or one of the mixes
  Unicode TR 39 §5.2 ("Highly Restrictive") allows for Chinese, Japanese and Korean, so
  ``аdmin`` with a Cyrillic ``а`` is refused. Digits and punctuation belong to every script.

A letter's script is read from its Unicode name (``CYRILLIC SMALL LETTER A``): the standard
library has no Script property, and the name's first word is that script for the letters
allowed here.
"""

import unicodedata

from app.services import Invalid

# Han ideographs are named "CJK UNIFIED/COMPATIBILITY IDEOGRAPH-…".
_HAN = "CJK"
# TR 39 "Highly Restrictive": Latin plus one of these sets may be mixed.
_ALLOWED_MIXES = (
    frozenset({"LATIN", _HAN, "HIRAGANA", "KATAKANA"}),  # Japanese
    frozenset({"LATIN", _HAN, "BOPOMOFO"}),  # Chinese
    frozenset({"LATIN", _HAN, "HANGUL"}),  # Korean
)


def normalize(username: str) -> str:
    """The stored form: NFKC, surrounding white space removed."""
    return unicodedata.normalize("NFKC", username).strip()


def canonical(username: str) -> str:
    """The uniqueness and login key: case-insensitive, compatibility-normalised."""
    return unicodedata.normalize("NFKC", normalize(username).casefold())


def scripts(username: str) -> set[str]:
    """The scripts of the letters in ``username`` (``{"LATIN"}``, ``{"LATIN", "CYRILLIC"}``);
    characters that are not letters count for none."""
    found = set()
    for char in username:
        if unicodedata.category(char).startswith("L"):
            name = unicodedata.name(char, "UNKNOWN")
            found.add(name.split(" ", 1)[0].split("-", 1)[0])
    return found


def check_scripts(username: str) -> None:
    """Raise ``Invalid`` (422) when the letters mix scripts in a way TR 39 does not allow."""
    found = scripts(username)
    if len(found) <= 1 or any(found <= mix for mix in _ALLOWED_MIXES):
        return
    names = ", ".join(sorted(word.capitalize() for word in found))
    raise Invalid(
        f"Usernames may not mix alphabets ({names}): letters that look alike would let one "
        "name pass for another"
    )
