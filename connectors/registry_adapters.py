"""The adapter for each agency name, wired to its registry's URL and credential from settings."""

from __future__ import annotations

from hub.settings import HubSettings
from schemas.agencies import AgencyType, agency_type

from .adapter import AgencyAdapter
from .bank import BankAdapter
from .commerce import CommerceAdapter
from .land import LandAdapter
from .police import PoliceAdapter
from .real_estate import RealEstateAdapter

__all__ = ["build_adapter"]

_FIXED: dict[AgencyType, type[PoliceAdapter | CommerceAdapter | RealEstateAdapter | LandAdapter]] = {
    AgencyType.police: PoliceAdapter,
    AgencyType.commerce: CommerceAdapter,
    AgencyType.real_estate: RealEstateAdapter,
    AgencyType.land: LandAdapter,
}


def build_adapter(agency: str, settings: HubSettings) -> AgencyAdapter:
    """Raises ``ValueError`` for a name that is not an agency (a bank need not be configured here)."""
    url, credential = settings.registry_url(agency), settings.registry_credential(agency)
    kind = agency_type(agency)
    if kind is AgencyType.bank:
        return BankAdapter(agency.removeprefix("bank:"), url, credential)
    return _FIXED[kind](url, credential)
