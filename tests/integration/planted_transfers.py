"""Records planted for the first-seizure transfer tests (tests/integration/test_transfers.py): one
flat that court-a seizes first and court-b, enforcing a mortgage on it, seizes after (waiting)."""

from __future__ import annotations

import json
from pathlib import Path

from .planted import person

MORTGAGED_OWNER = person("钱守义", "42010619770707071")
MORTGAGED_FLAT = "鄂(2019)武汉市不动产权第0810071号"
MORTGAGE = {"kind": "mortgage", "reference": "鄂(2019)武汉市不动产证明第0020071号"}


def write_transfer_fixtures(path: Path) -> Path:
    line = {
        "registry": "real_estate",
        "owner": MORTGAGED_OWNER,
        "asset": {
            "kind": "real_estate",
            "ref": MORTGAGED_FLAT,
            "value": "1500000.00",
            "address": "武汉市武昌区中北路71号",
        },
    }
    path.write_text(json.dumps(line, ensure_ascii=False) + "\n")
    return path
