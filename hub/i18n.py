"""Languages of the hub's messages: ``Accept-Language`` negotiation and message catalogues.

The hub writes its messages in English, gettext style: the English text (a :meth:`str.format`
template) is the message id, and a catalogue maps ids to their translation in one language. A
message with no translation is shown in English, so a missing entry never hides a message.

Languages: :data:`LANGUAGES` (``en``, the default, and ``zh-CN``). A catalogue belongs to a
*domain* (``api`` for the API's error messages; the ops page or the CLI may add their own):

- add one: a module in ``hub/locales/`` defining ``DOMAIN``, ``LOCALE`` and ``MESSAGES``
  (``{english template: translation}``); it is loaded on first use (see ``hub/locales/api_zh_cn.py``),
  or call :func:`register` from anywhere;
- translate: :func:`gettext` (``gettext("case {case_id} not found", "zh-CN", case_id=...)``), or
  build a :class:`Message` where the language is not known yet and call ``.localize(locale)`` later;
- negotiate: :func:`negotiate` turns an ``Accept-Language`` header into one of :data:`LANGUAGES`.

Babel matches the tags to the languages; quality values are read here.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
import threading
from collections.abc import Mapping
from typing import Any

from babel.core import negotiate_locale

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "Message",
    "gettext",
    "lookup",
    "negotiate",
    "register",
    "translations",
]

#: The languages the hub speaks, as BCP 47 tags (``Content-Language`` values).
LANGUAGES: tuple[str, ...] = ("en", "zh-CN")
DEFAULT_LANGUAGE = "en"

# a bare language (or a script) offered for the one variant the hub has of it
_ALIASES = {"zh": "zh-CN", "zh-hans": "zh-CN", "zh-hant": "zh-CN"}
_catalogues: dict[tuple[str, str], dict[str, str]] = {}
_loaded = False
_lock = threading.Lock()


def register(domain: str, locale: str, messages: Mapping[str, str]) -> None:
    """Add ``messages`` (``{english template: translation}``) to ``domain``'s catalogue for
    ``locale`` (one of :data:`LANGUAGES`); later entries replace earlier ones. ``ValueError`` for
    an unknown locale or a translation whose ``{placeholders}`` differ from its English id."""
    if locale not in LANGUAGES:
        raise ValueError(f"unknown locale {locale!r}: the hub speaks {', '.join(LANGUAGES)}")
    for english, translated in messages.items():
        if not _fields(translated) <= _fields(english):  # a translation may drop one (a plural "s")
            raise ValueError(f"{locale} translation of {english!r} has other placeholders: {translated!r}")
    with _lock:
        _catalogues.setdefault((domain, locale), {}).update(messages)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _load_locales() -> None:
    """Import every module of ``hub.locales`` once and register its ``MESSAGES``."""
    global _loaded
    if _loaded:
        return
    from . import locales

    for info in pkgutil.iter_modules(locales.__path__):
        module = importlib.import_module(f"{locales.__name__}.{info.name}")
        register(module.DOMAIN, module.LOCALE, module.MESSAGES)
    _loaded = True


def translations(domain: str, locale: str) -> dict[str, str]:
    """A copy of ``domain``'s catalogue for ``locale`` (empty for English, the ids' own language)."""
    _load_locales()
    return dict(_catalogues.get((domain, locale), {}))


def lookup(template: str, locale: str, domain: str = "api") -> str | None:
    """The translation of ``template`` in ``locale`` (unformatted), or None if the catalogue lacks it."""
    if locale == DEFAULT_LANGUAGE:
        return template
    _load_locales()
    return _catalogues.get((domain, locale), {}).get(template)


def gettext(template: str, locale: str, domain: str = "api", /, **params: Any) -> str:
    """``template`` in ``locale``, formatted with ``params`` (each translated first if it is a
    :class:`Message`). Falls back to the English template when the catalogue lacks it."""
    if locale != DEFAULT_LANGUAGE:
        _load_locales()
        template = _catalogues.get((domain, locale), {}).get(template, template)
    values = {k: v.localize(locale) if isinstance(v, Message) else v for k, v in params.items()}
    try:
        return template.format(**values) if values else template
    except (KeyError, IndexError, ValueError):  # a template with stray braces: show it as it is
        return template


class Message(str):
    """A message whose language is chosen later: it *is* the English text (so it can go wherever a
    ``str`` goes, an exception's detail included) and :meth:`localize` gives it in another
    language. ``Message("case {case_id} not found", case_id="case_1")``."""

    template: str
    params: dict[str, Any]
    domain: str

    def __new__(cls, template: str, domain: str = "api", /, **params: Any) -> Message:
        self = super().__new__(cls, gettext(template, DEFAULT_LANGUAGE, domain, **params))
        self.template, self.params, self.domain = template, params, domain
        return self

    def localize(self, locale: str) -> str:
        return gettext(self.template, locale, self.domain, **self.params)

    def __reduce__(self) -> Any:  # copy and pickle keep the template, not only the English text
        return (_rebuild, (self.template, self.domain, self.params))


def _rebuild(template: str, domain: str, params: dict[str, Any]) -> Message:
    return Message(template, domain, **params)


def _preferences(header: str) -> list[str]:
    """The tags of an ``Accept-Language`` header, best first (ties in header order); ``q=0`` and
    malformed entries dropped; a region-qualified tag also offers its bare language after it."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:32]):
        tag, _, rest = part.strip().partition(";")
        tag = tag.strip()
        quality = 1.0
        for param in rest.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = -1.0
        if not tag or len(tag) > 35 or not 0 < quality <= 1:
            continue
        weighted.append((-quality, position, tag))
    tags: list[str] = []
    for _, _, tag in sorted(weighted):
        tags.append(tag)
        language = tag.split("-")[0].split("_")[0]
        if language != tag and language != "*":
            tags.append(language)
    return tags


def negotiate(accept_language: str | None, available: tuple[str, ...] = LANGUAGES) -> str:
    """The best of ``available`` for an ``Accept-Language`` header (RFC 9110 §12.5.4): ``zh-CN``,
    ``zh``, ``zh-Hans-CN`` or ``zh-TW`` → ``zh-CN``; ``en-GB`` → ``en``; nothing acceptable, ``*``
    or no header → :data:`DEFAULT_LANGUAGE`."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    chosen = negotiate_locale(_preferences(accept_language), list(available), sep="-", aliases=_ALIASES)
    if chosen is None:
        return DEFAULT_LANGUAGE
    return next((a for a in available if a.lower() == chosen.lower()), DEFAULT_LANGUAGE)
