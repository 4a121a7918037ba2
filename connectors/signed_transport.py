"""The hub's side of the electronic seal (see ``hub.signing``) on every registry call.

:class:`SignedTransport` is the connectors' HTTP transport (``connectors.http_client``) plus:

- every request is signed with the hub's active key (``X-Hub-Key-Id``, ``X-Hub-Signature``);
- every answer of a known registry must carry that registry's valid signature over its status,
  the request's signature and its body; otherwise the call raises
  :class:`hub.errors.RegistrySignatureError` (a permanent failure: the runtime reports the agency
  ``failed`` with the reason and dead-letters the request) before an adapter reads a byte of it;
- each verified answer's seal (``signer``, ``key_id``, ``digest``, ``signature``) is appended to
  the list :func:`collecting_seals` opened for the call in progress, which the runtime stores with
  the agency's answer.

Inquiries, control orders and change feeds share the one client, so all of them are sealed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import httpx

from hub.errors import RegistrySignatureError
from hub.settings import HubSettings
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
    b64,
    request_digest,
    signer_dir,
)

from .http_client import RegistryTransport, registry_client

__all__ = ["SignedTransport", "collecting_seals", "sealed_registry_client"]

# the seals of the answers verified for the call in progress (set by the runtime around a call)
_SEALS: ContextVar[list[dict[str, str]] | None] = ContextVar("seals", default=None)


@contextlib.contextmanager
def collecting_seals() -> Iterator[list[dict[str, str]]]:
    """Collect, in a list, the seal of every answer verified inside the block (same task, or tasks
    it starts)."""
    seals: list[dict[str, str]] = []
    token = _SEALS.set(seals)
    try:
        yield seals
    finally:
        _SEALS.reset(token)


class SignedTransport(httpx.AsyncBaseTransport):
    """Around ``inner`` (the connectors' ``RegistryTransport``): signs requests with ``signer``;
    verifies answers from the registries in ``registries`` (``{netloc: (agency, its public keys)}``);
    answers of other hosts are not verified."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        signer: Signer,
        registries: dict[bytes, tuple[str, KeyRing]],
    ) -> None:
        self.inner = inner
        self.signer = signer
        self.registries = registries

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        kid, signature = self.signer.sign(
            request_digest(request.method, request.url.raw_path, body, request.headers)
        )
        request.headers[REQUEST_KEY_HEADER] = kid
        request.headers[REQUEST_SIGNATURE_HEADER] = signature
        response = await self.inner.handle_async_request(request)
        registry = self.registries.get(request.url.netloc)
        if registry is None:
            return response
        agency, keys = registry
        content = await response.aread()
        digest = answer_digest(response.status_code, signature, content)
        answer_kid = response.headers.get(ANSWER_KEY_HEADER)
        try:
            keys.verify(answer_kid, response.headers.get(ANSWER_SIGNATURE_HEADER), digest)
        except SignatureInvalid as e:
            raise RegistrySignatureError(
                agency, f"answer refused (HTTP {response.status_code}): {e}", status_code=response.status_code
            ) from None
        seals = _SEALS.get()
        if seals is not None:
            seals.append(
                {
                    "signer": agency,
                    "key_id": answer_kid or "",
                    "digest": "sha256:" + b64(digest),
                    "signature": response.headers[ANSWER_SIGNATURE_HEADER],
                }
            )
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )


def sealed_registry_client(
    settings: HubSettings, agencies: list[str], *, limits: httpx.Limits, timeout: httpx.Timeout
) -> httpx.AsyncClient:
    """The connectors' client: sealed (``SignedTransport``) when ``HUB_SIGNING_KEYS_DIR`` is set,
    the plain ``registry_client`` otherwise. Keys are loaded here, once."""
    root = settings.signing_keys_dir
    if root is None:
        return registry_client(limits=limits, timeout=timeout)
    registries = {
        httpx.URL(settings.registry_url(a)).netloc: (a, KeyRing(signer_dir(root, a))) for a in agencies
    }
    signer = Signer(signer_dir(root, HUB_SIGNER))
    transport = SignedTransport(RegistryTransport(limits=limits), signer=signer, registries=registries)
    return httpx.AsyncClient(transport=transport, timeout=timeout)
