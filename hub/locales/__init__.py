"""Message catalogues of ``hub.i18n``: one module per domain and language, each defining ``DOMAIN``,
``LOCALE`` (one of ``hub.i18n.LANGUAGES``) and ``MESSAGES`` (``{English template: translation}``).
Every module here is loaded on first use."""
