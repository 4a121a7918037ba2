"""Text a court sends: valid Unicode, no control characters, and names that can be seen.

A JSON body may carry a lone surrogate escape (``"\\ud800"``): Python's JSON parser accepts it, but
no database, log or Kafka message can encode it. NUL is refused by PostgreSQL. A name made only of
invisible characters (spaces of every width, zero-width and format characters, Hangul fillers, the
blank Braille pattern, combining marks with nothing to combine with) names nobody. Each check raises
``ValueError`` naming the character by its code point, never echoing the text.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["check_text", "check_text_tree", "visible_text"]

# categories that draw nothing on their own: controls, format, surrogates, private use, unassigned,
# separators, and combining marks
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp", "Mn", "Me"})
# letters and symbols that render as blank
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u17b4\u17b5")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def check_text(value: str) -> str:
    """Valid Unicode (no lone surrogate) and no control character other than tab and line breaks."""
    for i, ch in enumerate(value):
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise ValueError(f"not valid Unicode: a lone surrogate U+{ord(ch):04X} at position {i}")
        if cat == "Cc" and ch not in _ALLOWED_CONTROLS:
            raise ValueError(f"must not contain the control character U+{ord(ch):04X} (at position {i})")
    return value


def check_text_tree(value: Any) -> Any:
    """:func:`check_text` on a field's value: a string, or the strings of a list. An object is left
    to its own model, whose fields are checked the same way (so the error names the inner field)."""
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, list | tuple):
        for v in value:
            check_text_tree(v)
    return value


def visible_text(value: str) -> str:
    """A name or an identifier of a person: valid text with at least one visible character, and no
    control character at all (not even a line break)."""
    check_text(value)
    for i, ch in enumerate(value):
        if unicodedata.category(ch) == "Cc":
            raise ValueError(f"must not contain the control character U+{ord(ch):04X} (at position {i})")
    if not any(unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and ch not in _BLANKS for ch in value):
        raise ValueError("must contain a visible character (only spaces or invisible characters given)")
    return value
