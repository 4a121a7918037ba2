"""The registry's side of the electronic seal (see ``hub.signing``): verify the hub's signature on
every request of the agency's API, and sign every answer.

A request without ``X-Hub-Key-Id`` / ``X-Hub-Signature``, with a key id the registry does not hold
among the hub's public keys, or whose signature does not verify over the request (method, path and
query, body, requester headers), is refused with 401 and the reason. Every answer of the API —
refusals and faults included — carries ``X-Registry-Key-Id`` and ``X-Registry-Signature`` over its
status, the request's signature and its body. ``/_admin/*`` and ``/healthz`` are neither checked
nor signed (they take the registry's credential only).

A registry is sealed when it has a keys root (``HUB_SIGNING_KEYS_DIR``): its own key pair in
``<root>/<agency slug>/`` and the hub's public keys in ``<root>/hub/``. The fault switch
``bad_signature`` (``POST /_admin/faults``) makes it send a broken signature, so the hub's refusal
of such an answer can be shown.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.signing import (
    ANSWER_KEY_HEADER,
    ANSWER_SIGNATURE_HEADER,
    HUB_SIGNER,
    REQUEST_KEY_HEADER,
    REQUEST_SIGNATURE_HEADER,
    KeyRing,
    SignatureInvalid,
    Signer,
    answer_digest,
    request_digest,
    signer_dir,
)

__all__ = ["RegistrySeal", "request_target"]


def request_target(request: Request) -> bytes:
    """The raw path with its query, as the client sent it (what the hub signed)."""
    scope = request.scope
    path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string") or b""
    return path + b"?" + query if query else path


def _broken(signature: str) -> str:
    """The signature with its first character changed: same length, never valid."""
    return ("B" if signature[0] != "B" else "C") + signature[1:]


class RegistrySeal:
    """Checks the hub's seal on requests and seals answers for one registry (keys kept loaded)."""

    def __init__(self, agency: str, root: Path) -> None:
        self.agency = agency
        self.hub_keys = KeyRing(signer_dir(root, HUB_SIGNER))
        self.signer = Signer(signer_dir(root, agency))
        self.break_signatures = False
        self.verified: Counter[str] = Counter()  # requests accepted, by the hub's key id
        self.refused = 0
        self.last_refusal: str | None = None

    async def check(self, request: Request) -> str | None:
        """None when the request carries a valid signature of the hub; else the refusal's reason."""
        kid = request.headers.get(REQUEST_KEY_HEADER)
        body = await request.body()
        digest = request_digest(request.method, request_target(request), body, request.headers)
        try:
            self.hub_keys.verify(kid, request.headers.get(REQUEST_SIGNATURE_HEADER), digest)
        except SignatureInvalid as e:
            self.refused += 1
            self.last_refusal = f"electronic seal refused: {e}"
            return self.last_refusal
        assert kid is not None
        self.verified[kid] += 1
        return None

    def answer_headers(self, status: int, request_signature: str, body: bytes) -> list[tuple[bytes, bytes]]:
        """The raw ``X-Registry-Key-Id`` / ``X-Registry-Signature`` headers of an answer with
        ``status`` and ``body`` to the request signed ``request_signature`` (broken while the
        ``bad_signature`` fault is on)."""
        kid, signature = self.signer.sign(answer_digest(status, request_signature, body))
        if self.break_signatures:
            signature = _broken(signature)
        return [
            (ANSWER_KEY_HEADER.lower().encode(), kid.encode()),
            (ANSWER_SIGNATURE_HEADER.lower().encode(), signature.encode()),
        ]

    async def seal(self, request: Request, response: Response) -> Response:
        """``response`` with the registry's signature headers (a streamed body is read whole)."""
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            chunks = [c if isinstance(c, bytes) else c.encode() async for c in response.body_iterator]  # type: ignore[attr-defined]
            body = b"".join(chunks)
            headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
            response = Response(content=body, status_code=response.status_code, headers=headers)
        signature = request.headers.get(REQUEST_SIGNATURE_HEADER, "")
        for name, value in self.answer_headers(response.status_code, signature, body):
            response.headers[name.decode()] = value.decode()
        return response

    def snapshot(self) -> dict[str, Any]:
        """``GET /_admin/signatures``: the hub's keys held, requests verified per key, refusals,
        the key this registry signs with and whether the fault switch breaks its signatures."""
        return {
            "agency": self.agency,
            "hub_keys": self.hub_keys.key_ids(),
            "verified": dict(self.verified),
            "refused": self.refused,
            "last_refusal": self.last_refusal,
            "signing_key": self.signer.key_id,
            "bad_signature": self.break_signatures,
        }
