"""Every setting of the one settings class is in the README's configuration table, and the table
names no setting that does not exist (operators configure the hub from that table)."""

from __future__ import annotations

import re
from pathlib import Path

from hub.settings import HubSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def _documented() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if not row.startswith("| `HUB_"):
            continue
        first_cell = row.split("|")[1]
        for token in re.findall(r"`([A-Z_]+)`", first_cell):
            if token.startswith("HUB_"):
                names.add(token)
            elif token.startswith("_"):  # `HUB_CONNECTOR_MAX_ATTEMPTS` / `_BACKOFF_INITIAL`
                names.add(_base(first_cell) + token)
    return names


def _base(cell: str) -> str:
    """The stem shared by a row's abbreviated names: `HUB_CONNECTOR_MAX_ATTEMPTS` / `_BACKOFF_MAX`
    share `HUB_CONNECTOR`; the group timeouts share `HUB_GROUP`."""
    first = re.findall(r"`(HUB_[A-Z_]+)`", cell)[0]
    for stem in ("HUB_CONNECTOR", "HUB_WEBHOOK", "HUB_GROUP"):
        if first.startswith(stem + "_"):
            return stem
    return first


def test_every_setting_is_documented_and_every_documented_one_exists() -> None:
    settings = {f"HUB_{name.upper()}" for name in HubSettings.model_fields}
    documented = _documented()
    assert settings - documented == set(), "settings missing from the README's configuration table"
    assert documented - settings == set(), "the README documents settings that do not exist"
