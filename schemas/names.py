"""Name normalisation for people and organisations, in three levels of decreasing strength.

1. :func:`normalize_name` - the one normaliser every comparison starts from. It removes only
   differences of *writing*, never of *name*: Unicode NFKC (full-width letters and digits,
   ``（）``, the ideographic space), all whitespace, invisible format characters (zero-width
   space, byte-order mark), the brackets NFKC leaves alone (``【】`` -> ``[]``,
   ``〔〕`` -> ``()``), the middle-dot variants in minority and foreign names
   (``·•・‧`` -> ``·``) and Latin letter case.
2. :func:`name_variant_key` - a weaker *variant* level: traditional characters converted to
   simplified. Two names equal here but not at level 1 are the same name written in another
   script, which is weaker evidence (the conversion is many-to-one, so distinct traditional
   names can collide). Conversion is one-way: simplified -> traditional is ambiguous and would
   invent differences. Surnames that the conversion would wrongly merge (``於`` is a surname
   distinct from ``于``; ``乾`` from ``干``) keep their character in a person's surname position.
3. :func:`org_form_key` - the variant key with equivalent legal forms unified
   (``有限责任公司`` == ``有限公司``). ``股份有限公司`` is a different form and stays different: a
   company may convert and keep its credit code, so a form difference is weak evidence, not a veto.

Branches (``分公司`` and bank branches) have their own registration and are never the same
entity as their parent; :func:`is_branch` and :func:`branch_parent` let the matcher say so.

Library choice: ``opencc-python-reimplemented`` (pure Python, ships OpenCC's own maintained
dictionaries, works offline, no native build). Its phrase dictionary handles cases a per-character
table gets wrong (``乾隆`` stays, ``乾燥`` -> ``干燥``). It is slow (~15 us per call), so a name is
only handed to it when it contains a character the dictionaries would change, and results are cached.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from importlib.resources import files

import opencc

__all__ = [
    "BRANCH_SUFFIXES",
    "SURNAME_EXCEPTIONS",
    "branch_parent",
    "is_branch",
    "name_variant_key",
    "normalize_name",
    "org_form_key",
]

#: Traditional characters that are also distinct surnames in simplified writing; in the surname
#: position they are kept instead of converted (於 is not 于, 乾 is not 干).
SURNAME_EXCEPTIONS = frozenset("於乾")

#: Endings that make an organisation a branch, which has its own code and is not its parent.
BRANCH_SUFFIXES = ("分公司", "分行", "支行", "分理处", "分厂", "分店", "办事处")

#: Legal-form spellings that denote the same form, mapped to one (longest first).
_EQUIVALENT_FORMS = (("有限责任公司", "有限公司"),)

_FOLD = str.maketrans(
    {
        "【": "[",
        "】": "]",
        "〔": "(",
        "〕": ")",
        "•": "·",  # U+2022 bullet
        "・": "·",  # U+30FB katakana middle dot (NFKC target of half-width U+FF65)
        "‧": "·",  # U+2027 hyphenation point
        "∙": "·",  # U+2219 bullet operator
        "⋅": "·",  # U+22C5 dot operator
        # invisible format characters pasted along with names: soft hyphen, zero-width space and
        # joiners, direction marks and embeddings, word joiner, byte-order mark
        **dict.fromkeys(["\u00ad", *map(chr, range(0x200B, 0x2010)), *map(chr, range(0x202A, 0x202F))]),
        **dict.fromkeys([*map(chr, range(0x2060, 0x2065)), "\ufeff"]),
    }
)

_T2S = opencc.OpenCC("t2s")


def _chars_t2s_changes() -> frozenset[str]:
    """Every character that some entry of the t2s dictionaries rewrites.

    All t2s entries map a key to a value of the same length, so a name containing none of these
    characters converts to itself, and the slow converter can be skipped.
    """
    folder = files("opencc") / "dictionary"
    out: set[str] = set()
    for dictionary in ("TSPhrases.txt", "TSCharacters.txt"):
        for line in (folder / dictionary).read_text(encoding="utf-8").splitlines():
            key, _, values = line.partition("\t")
            value = values.split(" ")[0]
            out.update(a for a, b in zip(key, value, strict=False) if a != b)
    return frozenset(out)


_CONVERTIBLE = _chars_t2s_changes()


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Fold writing differences that never distinguish two names (level 1)."""
    return "".join(unicodedata.normalize("NFKC", name).translate(_FOLD).upper().split())


@lru_cache(maxsize=65536)
def name_variant_key(name: str, *, person: bool = True) -> str:
    """Traditional -> simplified on the normalised name (level 2).

    For a person (``person=True``) the first character is the surname and keeps its character when
    it is one of :data:`SURNAME_EXCEPTIONS`; an organisation's name is converted throughout
    (``乾燥设备`` is 干燥设备).
    """
    norm = normalize_name(name)
    if _CONVERTIBLE.isdisjoint(norm):
        return norm
    if person and norm[0] in SURNAME_EXCEPTIONS:
        return norm[0] + _T2S.convert(norm[1:])
    return _T2S.convert(norm)


@lru_cache(maxsize=65536)
def org_form_key(name: str) -> str:
    """The variant key with equivalent legal forms unified (level 3; organisations only)."""
    key = name_variant_key(name, person=False)
    for spelling, form in _EQUIVALENT_FORMS:
        key = key.replace(spelling, form)
    return key


def is_branch(name: str) -> bool:
    """Whether the name is a branch's (``…分公司``, ``…支行``): its own entity, never its parent."""
    return name_variant_key(name, person=False).endswith(BRANCH_SUFFIXES)


def branch_parent(name: str) -> str | None:
    """The parent's name inside a branch's name, at the org-form level, or ``None``.

    ``北京甲科技有限公司上海分公司`` -> ``北京甲科技有限公司``: the text up to the last ``公司``
    before the branch ending. Used to *link* a branch to its parent in the evidence, never to merge.
    """
    key = org_form_key(name)
    suffix = next((s for s in BRANCH_SUFFIXES if key.endswith(s)), None)
    if suffix is None:
        return None
    stem = key[: -len(suffix)]
    end = stem.rfind("公司")
    return stem[: end + 2] if end > 0 else None
