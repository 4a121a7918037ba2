"""The assets of a case and the judges' confirmations on them, read back.

- ``GET /v1/cases/{case_id}/assets``: every asset the case's inquiries found (as the newest
  inquiry that found it reported it), each with its ``confirmation`` (``null`` when no judge
  confirmed it);
- ``GET /v1/cases/{case_id}/assets/{asset_id}``: one of them;
- ``GET /v1/cases/{case_id}/asset-confirmations``: every confirmation of the case, oldest first
  (who confirmed which asset, when, with what note).

Reads of a debtor's assets are audited like an inquiry read (``assets_read``); confirmations are
the court's own decisions and are written to the audit trail when they are made.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Header
from pydantic import Field

from schemas.views import ASSET_EXAMPLE, AssetConfirmationView, AssetView, View, with_example

from ..db import Database, asset_confirmations
from ..deps import CourtId, Db
from ..responses import AUTH_READ, errors
from .cases import not_found
from .control_orders import case_assets
from .inquiries import record_read

router = APIRouter(prefix="/v1/cases", tags=["cases"])


class CaseAssetView(AssetView):
    """An asset of the case with the judge's confirmation of its link, if any."""

    model_config = with_example({**ASSET_EXAMPLE, "confirmation": None})

    confirmation: AssetConfirmationView | None = Field(
        default=None, description="a judge's confirmation that this asset is the debtor's (null: none)"
    )


class CaseAssets(View):
    model_config = with_example(
        {"case_id": "case_3f2a9c0d1e4b5a6c7d8e", "assets": [{**ASSET_EXAMPLE, "confirmation": None}]}
    )
    case_id: str
    assets: list[CaseAssetView]


class CaseConfirmations(View):
    model_config = with_example({"case_id": "case_3f2a9c0d1e4b5a6c7d8e", "confirmations": []})
    case_id: str
    confirmations: list[AssetConfirmationView]


async def _confirmations(db: Database, case_id: str, court_id: str) -> list[dict[str, Any]]:
    """The case's confirmations, oldest first, as :class:`AssetConfirmationView` dicts."""
    query = (
        sa.select(asset_confirmations)
        .where(asset_confirmations.c.case_id == case_id, asset_confirmations.c.court_id == court_id)
        .order_by(asset_confirmations.c.confirmed_at, asset_confirmations.c.asset_id)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [
        {
            "case_id": r.case_id,
            "asset_id": r.asset_id,
            "confirmed_by": r.confirmed_by,
            "confirmed_at": r.confirmed_at,
            "note": r.note,
        }
        for r in rows
    ]


async def _assets(db: Database, case_id: str, court_id: str) -> list[dict[str, Any]]:
    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)
    confirmed = {c["asset_id"]: c for c in await _confirmations(db, case_id, court_id)}
    return [
        {**asset, "confirmation": confirmed.get(asset_id)}
        for asset_id, asset in (await case_assets(db, case_id, court_id)).items()
    ]


@router.get(
    "/{case_id}/assets",
    summary="Every asset found for the case, with the judge's confirmation of each",
    response_model=CaseAssets,
    responses=errors(*AUTH_READ),
)
async def list_case_assets(
    case_id: str,
    court_id: CourtId,
    db: Db,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    assets = await _assets(db, case_id, court_id)
    await record_read(db, court_id, case_id, authorization)
    return {"case_id": case_id, "assets": assets}


@router.get(
    "/{case_id}/assets/{asset_id:path}",
    summary="One asset found for the case, with the judge's confirmation",
    response_model=CaseAssetView,
    responses=errors(*AUTH_READ),
)
async def get_case_asset(
    case_id: str,
    asset_id: str,
    court_id: CourtId,
    db: Db,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> dict[str, Any]:
    for asset in await _assets(db, case_id, court_id):
        if asset["asset_id"] == asset_id:
            await record_read(db, court_id, case_id, authorization, asset_id=asset_id)
            return asset
    raise not_found("asset", asset_id)


@router.get(
    "/{case_id}/asset-confirmations",
    summary="Every judge's confirmation on the case's assets, oldest first",
    response_model=CaseConfirmations,
    responses=errors(*AUTH_READ),
)
async def list_confirmations(case_id: str, court_id: CourtId, db: Db) -> dict[str, Any]:
    if await db.find_case(case_id, court_id) is None:
        raise not_found("case", case_id)
    return {"case_id": case_id, "confirmations": await _confirmations(db, case_id, court_id)}
