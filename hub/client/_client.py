"""``HubClient``: the court API over httpx (see ``hub.client`` for the overview and the error tree)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from pydantic import BaseModel

from schemas.batches import InquiryBatchCreate
from schemas.models import CaseCreate, ControlOrderCreate, InquiryCreate

from ._errors import NotFound, TransportError, error_for
from ._models import (
    Batch,
    BatchAccepted,
    CaseDetail,
    CaseSummary,
    ControlOrder,
    Event,
    Inquiry,
    InquiryAccepted,
    Page,
)

__all__ = ["MAX_WAIT_SECONDS", "HubClient"]

MAX_WAIT_SECONDS = 60.0  # the gateway's longest long poll


def _body(model: type[BaseModel], body: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """``body`` validated as ``model`` (ValidationError names the field), as JSON-ready data."""
    checked = body if isinstance(body, model) else model.model_validate(body)
    return checked.model_dump(mode="json", exclude_none=True)


class HubClient:
    """A court's connection to the gateway. ``base_url``: the gateway (``http://127.0.0.1:8000``);
    ``token``: the court's bearer token; ``language``: ``Accept-Language`` of error messages
    (``en`` or ``zh-CN``); ``timeout``: seconds per request (a long poll adds its wait);
    ``transport``: an ``httpx`` transport (tests). Use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        language: str | None = None,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if language:
            headers["Accept-Language"] = language
        self.timeout = timeout
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        extra_timeout: float = 0.0,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            r = self._http.request(
                method, path, json=json, params=query, headers=headers, timeout=self.timeout + extra_timeout
            )
        except httpx.HTTPError as e:
            raise TransportError(f"{method} {path}: {type(e).__name__}: {e}") from e
        if r.status_code >= 400:
            raise error_for(r)
        return r.json()

    # -------------------------------------------------------- cases

    def register_case(self, body: CaseCreate | dict[str, Any], *, idempotency_key: str | None = None) -> str:
        """Register a case; its ``case_id``. :class:`Conflict` (with ``.case_id``) when the court
        already registered the case number; :class:`Unprocessable` naming the field."""
        answer = self._call(
            "POST", "/v1/cases", json=_body(CaseCreate, body), idempotency_key=idempotency_key
        )
        return str(answer["case_id"])

    def list_cases(
        self,
        *,
        case_number: str | None = None,
        status: str | None = None,
        id_number: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[CaseSummary]:
        """One page of the court's cases (oldest first); filters as ``GET /v1/cases``."""
        params = {"case_number": case_number, "status": status, "id_number": id_number}
        answer = self._call("GET", "/v1/cases", params={**params, "cursor": cursor, "limit": limit})
        return Page[CaseSummary].model_validate(answer)

    def iter_cases(self, **filters: Any) -> Iterator[CaseSummary]:
        """Every case matching ``filters`` (as :meth:`list_cases`), following the cursor."""
        cursor = None
        while True:
            page = self.list_cases(**filters, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_case(self, case_id: str) -> CaseDetail:
        return CaseDetail.model_validate(self._call("GET", f"/v1/cases/{case_id}"))

    # -------------------------------------------------------- inquiries

    def submit_inquiry(
        self, body: InquiryCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> InquiryAccepted:
        answer = self._call(
            "POST", "/v1/inquiries", json=_body(InquiryCreate, body), idempotency_key=idempotency_key
        )
        return InquiryAccepted.model_validate(answer)

    def get_inquiry(self, inquiry_id: str, *, wait: float = 0.0, version: int | None = None) -> Inquiry:
        """The inquiry now, or with ``wait`` (seconds, at most 60) as soon as it changes past
        ``version`` (long poll)."""
        wait = max(0.0, min(wait, MAX_WAIT_SECONDS))
        params = {"wait": wait or None, "version": version}
        answer = self._call("GET", f"/v1/inquiries/{inquiry_id}", params=params, extra_timeout=wait)
        return Inquiry.model_validate(answer)

    def wait_inquiry(self, inquiry_id: str, *, timeout: float = 60.0) -> Inquiry:
        """Long-poll until the inquiry settles (``complete``, ``partial``, ``rejected``) or ``timeout``
        seconds pass; the inquiry as last read (``pending`` on timeout)."""
        deadline = time.monotonic() + timeout
        inquiry = self.get_inquiry(inquiry_id)
        while not inquiry.settled and (left := deadline - time.monotonic()) > 0:
            inquiry = self.get_inquiry(inquiry_id, wait=left, version=inquiry.version)
        return inquiry

    # -------------------------------------------------------- batches

    def submit_batch(
        self, body: InquiryBatchCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> BatchAccepted:
        """Up to 1,000 inquiries at once; any refused item refuses the batch (:class:`Unprocessable`
        with ``loc`` ``["body", "items", i, ...]``)."""
        answer = self._call(
            "POST",
            "/v1/inquiry-batches",
            json=_body(InquiryBatchCreate, body),
            idempotency_key=idempotency_key,
        )
        return BatchAccepted.model_validate(answer)

    def get_batch(self, batch_id: str) -> Batch:
        return Batch.model_validate(self._call("GET", f"/v1/inquiry-batches/{batch_id}"))

    def wait_batch(
        self,
        batch_id: str,
        *,
        timeout: float = 300.0,
        interval: float = 0.5,
        on_progress: Callable[[Batch], None] | None = None,
    ) -> Batch:
        """Poll until the batch is ``done`` or ``timeout`` seconds pass, calling ``on_progress`` with
        every reading; the batch as last read."""
        deadline = time.monotonic() + timeout
        while True:
            batch = self.get_batch(batch_id)
            if on_progress is not None:
                on_progress(batch)
            if batch.status == "done" or time.monotonic() >= deadline:
                return batch
            time.sleep(interval)

    # -------------------------------------------------------- control orders

    def issue_order(
        self, body: ControlOrderCreate | dict[str, Any], *, idempotency_key: str | None = None
    ) -> str:
        """Issue a control order; its ``order_id``. What the agency does comes later as its status."""
        answer = self._call(
            "POST",
            "/v1/control-orders",
            json=_body(ControlOrderCreate, body),
            idempotency_key=idempotency_key,
        )
        return str(answer["order_id"])

    def get_order(self, order_id: str) -> ControlOrder:
        return ControlOrder.model_validate(self._call("GET", f"/v1/control-orders/{order_id}"))

    def wait_order(self, order_id: str, *, timeout: float = 60.0, interval: float = 0.5) -> ControlOrder:
        """Poll until the order leaves ``pending`` or ``timeout`` seconds pass; the order as last read.
        Right after it was issued the gateway may not know it yet (404): that is waited out too."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                order = self.get_order(order_id)
                if order.status != "pending":
                    return order
            except NotFound:
                if time.monotonic() >= deadline:
                    raise
            else:
                if time.monotonic() >= deadline:
                    return order
            time.sleep(interval)

    # -------------------------------------------------------- events

    def events(self, *, after: str | None = None, limit: int = 100) -> Page[Event]:
        """The court's events recorded after the cursor ``after`` (oldest first)."""
        return Page[Event].model_validate(
            self._call("GET", "/v1/events", params={"after": after, "limit": limit})
        )

    def iter_events(
        self,
        *,
        after: str | None = None,
        follow: bool = False,
        interval: float = 1.0,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Every event after ``after``, page by page; with ``follow``, keep polling every ``interval``
        seconds for new ones until ``stop()`` is true (or the caller stops iterating)."""
        while True:
            page = self.events(after=after)
            yield from page.items
            after = page.next_cursor
            if len(page.items) < 100:
                if not follow or (stop is not None and stop()):
                    return
                time.sleep(interval)
