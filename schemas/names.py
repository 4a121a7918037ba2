"""Name normalisation for people and organisations, in three levels of decreasing strength.

1. :func:`normalize_name` - the one normaliser every comparison starts from. It removes only
   differences of *writing*, never of *name*: Unicode NFKC (full-width letters and digits,
   ``（）``, the ideographic space), all whitespace, invisible format characters (zero-width
   space, byte-order mark), the brackets NFKC leaves alone (``【】`` -> ``[]``,
   ``〔〕`` -> ``()``), Latin letter case, and the separator of minority and foreign names, which
   is typed as ``·`` U+00B7, ``・`` U+30FB, ``･`` U+FF65, ``•`` U+2022, ``‧`` U+2027, ``．`` U+FF0E,
   ``.``, ``ㆍ`` U+318D, a hyphen, a space or nothing at all: every form is dropped, so
   ``买买提·吐尔逊``, ``买买提．吐尔逊`` and ``买买提吐尔逊`` are one name. ``〇`` typed as ``○``,
   ``◯``, ``零``, or as a Latin ``O`` / digit ``0`` standing among Chinese characters, is ``〇``.
2. :func:`name_variant_key` - a weaker *variant* level: traditional characters converted to
   simplified. Two names equal here but not at level 1 are the same name written in another
   script, which is weaker evidence (the conversion is many-to-one, so distinct traditional
   names can collide). Conversion is one-way: simplified -> traditional is ambiguous and would
   invent differences. In a person's name a character keeps its form when it is itself a standard
   character of simplified writing (:data:`SURNAME_EXCEPTIONS`: ``甯`` is not ``宁``, ``昇`` is not
   ``升``, ``於`` is not ``于``, ``乾`` is not ``干``): every character of the maintained
   通用规范汉字表 (2013) that OpenCC's t2s tables would rewrite; the table keeps them for surnames
   and personal names.
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

import re
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
    "search_key",
]

#: Endings that make an organisation a branch, which has its own code and is not its parent.
BRANCH_SUFFIXES = ("分公司", "分行", "支行", "分理处", "分厂", "分店", "办事处")

#: Legal-form spellings that denote the same form, mapped to one (longest first).
_EQUIVALENT_FORMS = (("有限责任公司", "有限公司"),)

#: How the separator inside a minority or foreign name is typed (after NFKC: ``．`` U+FF0E and
#: ``․`` U+2024 are ``.``, ``･`` U+FF65 is ``・``, ``－`` U+FF0D is ``-``, ``ㆍ`` U+318D is U+119E).
NAME_SEPARATORS = "·\u0387•・‧∙⋅.ㆍ\u119e\u2e31\u30fb。-\u2010\u2011\u2012\u2013\u2014\u2015"

_FOLD = str.maketrans(
    {
        "【": "[",
        "】": "]",
        "〔": "(",
        "〕": ")",
        **dict.fromkeys(NAME_SEPARATORS),
        "○": "〇",  # U+25CB white circle
        "◯": "〇",  # U+25EF large circle
        "零": "〇",
        # invisible format characters pasted along with names: soft hyphen, zero-width space and
        # joiners, direction marks and embeddings, word joiner, byte-order mark
        **dict.fromkeys(["\u00ad", *map(chr, range(0x200B, 0x2010)), *map(chr, range(0x202A, 0x202F))]),
        **dict.fromkeys([*map(chr, range(0x2060, 0x2065)), "\ufeff"]),
    }
)

_T2S = opencc.OpenCC("t2s")

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007"
# a run of Latin O or digit 0 with no Latin letter or digit beside it, next to a Chinese character
_LING = re.compile(rf"(?<=[{_CJK}])[O0]+(?![A-Z0-9])|(?<![A-Z0-9])[O0]+(?=[{_CJK}])")


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


def _general_standard_characters() -> frozenset[str]:
    """The 8,105 characters of the 通用规范汉字表 (2013), shipped in ``schemas/data``."""
    text = (files("schemas") / "data" / "general_standard_characters.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


#: Characters that OpenCC's t2s would rewrite but that are standard characters of simplified
#: writing in their own right (so distinct surnames and name characters): 甯 (not 宁), 昇 (not 升),
#: 於 (not 于), 乾 (not 干), 陞, 釐, 徵, ... In a person's name they are kept, not converted.
SURNAME_EXCEPTIONS = _CONVERTIBLE & _general_standard_characters()
_KEPT = re.compile(f"([{''.join(sorted(SURNAME_EXCEPTIONS))}])")


@lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Fold writing differences that never distinguish two names (level 1)."""
    folded = "".join(unicodedata.normalize("NFKC", name).translate(_FOLD).upper().split())
    if "O" in folded or "0" in folded:
        folded = _LING.sub(lambda m: "〇" * len(m.group()), folded)
    return folded


@lru_cache(maxsize=65536)
def name_variant_key(name: str, *, person: bool = True) -> str:
    """Traditional -> simplified on the normalised name (level 2).

    For a person (``person=True``) a character of :data:`SURNAME_EXCEPTIONS` keeps its form
    (``甯海`` stays 甯海, ``李昇`` stays 李昇; the rest converts: ``甯國強`` is 甯国强); an
    organisation's name is converted throughout (``乾燥設備`` is 干燥设备).
    """
    norm = normalize_name(name)
    if _CONVERTIBLE.isdisjoint(norm):
        return norm
    if person and not SURNAME_EXCEPTIONS.isdisjoint(norm):
        parts = _KEPT.split(norm)  # odd positions: the kept characters themselves
        return "".join(part if i % 2 else _T2S.convert(part) for i, part in enumerate(parts))
    return _T2S.convert(norm)


@lru_cache(maxsize=65536)
def org_form_key(name: str) -> str:
    """The variant key with equivalent legal forms unified (level 3; organisations only)."""
    key = name_variant_key(name, person=False)
    for spelling, form in _EQUIVALENT_FORMS:
        key = key.replace(spelling, form)
    return key


@lru_cache(maxsize=65536)
def search_key(name: str) -> str:
    """How a registry's name search folds a name: level 1 with equivalent legal forms unified, no
    script conversion (``买买提．吐尔逊`` finds ``买买提·吐尔逊``; ``…有限公司`` finds ``…有限责任公司``)."""
    key = normalize_name(name)
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
