"""A typed Python client of the gateway's court API (``/v1``), for a court's case system.

    client = HubClient("http://127.0.0.1:8000", token)          # a court's bearer token
    case_id = client.register_case(CaseCreate(...))            # or a dict of the same shape
    accepted = client.submit_inquiry(InquiryCreate(...))
    result = client.wait_inquiry(accepted.inquiry_id, timeout=60)   # long poll (?wait=)
    for event in client.iter_events(after=cursor, follow=True): ...

Request bodies are the hub's own API models (``schemas.models``, ``schemas.batches``): a body is
validated before it is sent, with the same rules as the gateway. Answers are the models below
(extra fields kept, so a newer gateway does not break an older client). Times are timezone-aware
``datetime``; money is ``Decimal`` yuan.

Errors (every one derives from :class:`hub.errors.HubError`)::

    ClientError                 anything this client raises on purpose
    ├── TransportError          the gateway could not be reached or did not answer in time
    └── ApiError                the gateway answered 4xx/5xx: .status, .problem (Problem)
        ├── Unauthorized        401: no token, or a wrong one
        ├── NotFound            404: no such resource of this court (another court's looks the same)
        ├── Conflict            409: .case_id names the existing case of a duplicate case number
        └── Unprocessable       422: .problem.errors lists each field (loc, msg, type)

:class:`Problem` reads both error forms of the gateway: RFC 9457 problem details
(``application/problem+json``: ``type``, ``title``, ``status``, ``detail``, ``errors``) and the
earlier ``{"detail": "sentence" | [{"loc", "msg", "type"}]}``.
"""

from ._client import MAX_WAIT_SECONDS, HubClient
from ._errors import (
    ApiError,
    ClientError,
    Conflict,
    FieldError,
    NotFound,
    Problem,
    TransportError,
    Unauthorized,
    Unprocessable,
)
from ._models import (
    Batch,
    BatchAccepted,
    BatchItemSummary,
    CaseDetail,
    CaseSummary,
    ControlOrder,
    Event,
    Inquiry,
    InquiryAccepted,
    OrderAccepted,
    Page,
)

__all__ = [
    "MAX_WAIT_SECONDS",
    "ApiError",
    "Batch",
    "BatchAccepted",
    "BatchItemSummary",
    "CaseDetail",
    "CaseSummary",
    "ClientError",
    "Conflict",
    "ControlOrder",
    "Event",
    "FieldError",
    "HubClient",
    "Inquiry",
    "InquiryAccepted",
    "NotFound",
    "OrderAccepted",
    "Page",
    "Problem",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
]
