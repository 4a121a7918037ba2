"""The adapter for each agency name, wired to its registry's URL and credential from settings.

An agency type's adapter is ``<Type>Adapter`` in ``connectors/<type>.py`` (see ``schemas.agencies``);
a bank's adapter is built per bank code.
"""

from __future__ import annotations

import importlib

from hub.settings import HubSettings
from schemas.agencies import AgencyType, agency_type, class_stem

from .adapter import AgencyAdapter
from .bank import BankAdapter

__all__ = ["adapter_class", "build_adapter"]


def adapter_class(kind: AgencyType) -> type[AgencyAdapter]:
    """The adapter class of an agency type; ``TypeError`` when its module does not define one."""
    module = importlib.import_module(f"{__package__}.{kind}")
    adapter = getattr(module, f"{class_stem(kind)}Adapter", None)
    if not (isinstance(adapter, type) and issubclass(adapter, AgencyAdapter)):
        raise TypeError(f"connectors.{kind} defines no {class_stem(kind)}Adapter (an AgencyAdapter)")
    return adapter


def build_adapter(agency: str, settings: HubSettings) -> AgencyAdapter:
    """Raises ``ValueError`` for a name that is not an agency (a bank need not be configured here)."""
    url, credential = settings.registry_url(agency), settings.registry_credential(agency)
    kind = agency_type(agency)
    if kind is AgencyType.bank:
        return BankAdapter(agency.removeprefix("bank:"), url, credential)
    return adapter_class(kind)(url, credential)
