"""The hard cases a registry's record of an owner may carry: how clerks and old systems really write
a name or a number that the court writes otherwise.

Pure functions of a ``random.Random`` and the value to spoil, used by the population generator
(``registries.population``), which decides how often each happens (``RATES`` there) and records
which one it applied (``Holding.anomaly``), so that linkage can be measured per hard case.

- ``separator_form``: the minority-name separator ``·`` typed as ``．`` ``.`` ``ㆍ`` ``・`` ``‧``
  ``•`` ``･``, a space, or left out (买买提·吐尔逊, 买买提．吐尔逊, 买买提吐尔逊).
- ``name_form``: other writing noise (an inserted space, ``()`` for ``（）``, full-width letters).
- ``ling_form``: ``〇`` in a name written ``○``, ``O``, ``0`` or ``零``.
- ``suffix_variant``: 有限公司 written for 有限责任公司 or back.
- ``transpose``: two adjacent characters of a number swapped.
- ``placeholder``: an identifier field filled with all zeros or all ones ("unknown").
- ``id_spelling``: a number typed with full-width digits, spaces or hyphens.
- ``business_reg_no``: an old 15-digit business registration number (ISO 7064 MOD 11,10).
- ``unchecked_code``: a credit code really issued before 2016 whose check character does not fit.
"""

from __future__ import annotations

import random

from schemas.identifiers import USCC_ALPHABET, business_reg_check, org_code_check, uscc_check

__all__ = [
    "LING_FORMS",
    "SEPARATORS",
    "business_reg_no",
    "fullwidth",
    "holding_name",
    "id_spelling",
    "ling_form",
    "name_form",
    "placeholder",
    "separator_form",
    "suffix_variant",
    "transpose",
    "unchecked_code",
]

#: How the separator of 买买提·吐尔逊 is typed, ``""`` meaning left out.
SEPARATORS = ("．", ".", "ㆍ", "・", "‧", "•", "･", " ", "")
#: How ``〇`` in a name is typed.
LING_FORMS = ("○", "O", "0", "零")
_PLACEHOLDERS = {18: ("000000000000000000", "111111111111111111"), 15: ("000000000000000",)}


def fullwidth(text: str) -> str:
    """ASCII letters, digits and punctuation in their full-width forms."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def separator_form(rng: random.Random, name: str) -> str:
    """The name with its ``·`` typed another way (or left out)."""
    return name.replace("·", rng.choice(SEPARATORS))


def ling_form(rng: random.Random, name: str) -> str:
    """The name with its ``〇`` typed another way."""
    return name.replace("〇", rng.choice(LING_FORMS))


def name_form(rng: random.Random, name: str) -> str:
    """Writing noise that never changes the name: another separator, ``()``, full-width, a space."""
    if "·" in name:
        return separator_form(rng, name)
    if "〇" in name:
        return ling_form(rng, name)
    if "（" in name:
        return name.replace("（", "(").replace("）", ")")
    if any("A" <= c <= "Z" for c in name):
        return fullwidth(name)
    i = rng.randrange(1, len(name))
    return name[:i] + rng.choice((" ", "\u3000")) + name[i:]


def suffix_variant(name: str) -> str:
    """有限责任公司 <-> 有限公司 (the same legal form); any other name is returned unchanged."""
    if name.endswith("有限责任公司"):
        return name.removesuffix("有限责任公司") + "有限公司"
    if name.endswith("有限公司") and not name.endswith("股份有限公司"):
        return name.removesuffix("有限公司") + "有限责任公司"
    return name


def holding_name(name: str) -> str:
    """The name of a group's holding company: ``…控股有限公司`` for ``…有限公司``."""
    for form in ("股份有限公司", "有限责任公司", "有限公司"):
        if name.endswith(form):
            return name.removesuffix(form) + "控股" + form
    return name + "控股"


def transpose(rng: random.Random, number: str, last: int) -> str:
    """Swap two adjacent, different characters among the first ``last`` (a clerk's slip)."""
    spots = [i for i in range(last - 1) if number[i] != number[i + 1]]
    i = rng.choice(spots)
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def placeholder(rng: random.Random, length: int) -> str:
    """What a clerk types for "unknown" in an identifier field of that length."""
    return rng.choice(_PLACEHOLDERS.get(length, ("0" * length,)))


def id_spelling(rng: random.Random, number: str) -> str:
    """The number typed with full-width digits, or with spaces or hyphens between its parts."""
    u = rng.random()
    if u < 0.4:
        return fullwidth(number)
    parts = (number[:6], number[6:14], number[14:]) if len(number) == 18 else (number[:8], number[8:])
    return (" " if u < 0.7 else "-").join(parts)


def business_reg_no(rng: random.Random, region: str) -> str:
    """An old 15-digit business registration number: region (6) + serial (8) + MOD 11,10 check."""
    first14 = f"{region}{rng.randrange(10**8):08d}"
    return first14 + business_reg_check(first14)


def unchecked_code(rng: random.Random, region: str) -> str:
    """A credit code as some were issued before 2016: a valid embedded organisation code, but a
    final check character that GB 32100 does not give."""
    body = f"{rng.randrange(10**8):08d}"
    first17 = f"91{region}{body}{org_code_check(body)}"
    right = uscc_check(first17)
    return first17 + rng.choice([c for c in USCC_ALPHABET if c != right])
