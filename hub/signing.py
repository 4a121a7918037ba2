"""Electronic seals between the hub and the agencies' registries: Ed25519 keys, the digests that are
signed, and rotation without downtime.

Who signs what (header names in :data:`HEADERS`):

- the hub signs every request to a registry (inquiries, control orders, change feeds):
  ``X-Hub-Key-Id`` and ``X-Hub-Signature`` over :func:`request_digest` — method, path with query
  (percent-decoded: :func:`canonical_target`),
  a SHA-256 of the body and the requester headers (court, case, officer, legal basis, purpose);
- the registry verifies it (``registries.signing``) and signs its answer: ``X-Registry-Key-Id`` and
  ``X-Registry-Signature`` over :func:`answer_digest` — the status, the request's signature (an
  answer cannot be replayed to another request) and a SHA-256 of the body;
- the hub verifies the answer (``connectors.signed_transport``) and keeps its seal
  (:class:`Seal`-shaped dict: signer, key id, digest, signature) with the agency's answer;
- on Kafka, the stream worker seals every message it sends to an agency's request or control topic
  (signer ``streams``: Kafka headers ``hub-key-id`` and ``hub-signature`` over
  :func:`message_digest` — topic, key and value), and the connectors refuse a message without a
  valid seal before anything reaches a registry (:func:`verify_message`): a message forged onto
  those topics by anyone who can write to the broker but holds no key is dead-lettered.

What is signed is the 32-byte SHA-256 digest, once per message (Ed25519 over 32 bytes costs the same
whatever the body's size). Signatures and digests travel as unpadded URL-safe base64.

Keys live in one directory per signer under the keys root (``HUB_SIGNING_KEYS_DIR``, default
``<HUB_STATE_DIR>/signing``): ``hub/`` for the hub's requests, ``streams/`` for the stream
worker's agency messages, ``<agency slug>/`` per registry (``bank-icbc``).
Each key is ``<key id>.key`` (PKCS#8 PEM, mode 0600) beside ``<key id>.pub`` (SubjectPublicKeyInfo
PEM); the file ``active`` names the key id that signs. A verifier accepts every ``.pub`` of the
signer's directory, so rotation is: :func:`add_key` (the new public key is accepted at once by
every verifier, which re-reads the directory when it meets an unknown key id), :func:`activate`
(signing switches), and after the overlap :func:`retire` of the old key (verifiers notice within
:data:`REFRESH_SECONDS`). Keys are read once and kept loaded; only the directory's change time is
looked at, at most once per :data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote_to_bytes

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import HubError

__all__ = [
    "ANSWER_KEY_HEADER",
    "ANSWER_SIGNATURE_HEADER",
    "HEADERS",
    "HUB_SIGNER",
    "MESSAGE_KEY_HEADER",
    "MESSAGE_SIGNATURE_HEADER",
    "REFRESH_SECONDS",
    "REQUEST_KEY_HEADER",
    "REQUEST_SIGNATURE_HEADER",
    "SIGNED_REQUESTER_HEADERS",
    "STREAMS_SIGNER",
    "KeyRing",
    "SignatureInvalid",
    "Signer",
    "activate",
    "add_key",
    "answer_digest",
    "b64",
    "canonical_target",
    "ensure_keys",
    "hub_signers",
    "message_digest",
    "message_headers",
    "request_digest",
    "retire",
    "seal_headers",
    "signer_dir",
    "verify_message",
]

HUB_SIGNER = "hub"
STREAMS_SIGNER = "streams"  # seals the stream worker's messages to the agencies' topics
MESSAGE_KEY_HEADER = "hub-key-id"  # Kafka headers of a sealed message (values: ASCII bytes)
MESSAGE_SIGNATURE_HEADER = "hub-signature"
REQUEST_KEY_HEADER = "X-Hub-Key-Id"
REQUEST_SIGNATURE_HEADER = "X-Hub-Signature"
ANSWER_KEY_HEADER = "X-Registry-Key-Id"
ANSWER_SIGNATURE_HEADER = "X-Registry-Signature"
HEADERS = (REQUEST_KEY_HEADER, REQUEST_SIGNATURE_HEADER, ANSWER_KEY_HEADER, ANSWER_SIGNATURE_HEADER)
# the requester headers a request's signature covers, in this order (absent = empty)
SIGNED_REQUESTER_HEADERS = ("X-Requesting-Court", "X-Case", "X-Officer", "X-Legal-Basis", "X-Purpose")
REFRESH_SECONDS = 2.0
_ACTIVE = "active"


class SignatureInvalid(HubError):
    """A signature is missing, names an unknown key, or does not verify; the message says which."""


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def request_digest(method: str, target: bytes, body: bytes, headers: Mapping[str, str]) -> bytes:
    """SHA-256 (32 bytes) of what a request's signature covers. ``target``: the raw path with its
    query (``/api/v2/persons?x=1``); ``headers``: the request's headers (case-insensitive mapping,
    e.g. httpx's or Starlette's), of which :data:`SIGNED_REQUESTER_HEADERS` count, as sent."""
    h = hashlib.sha256(b"hub-request\n")
    h.update(method.upper().encode() + b"\n" + canonical_target(target) + b"\n")
    h.update(hashlib.sha256(body).digest())
    for name in SIGNED_REQUESTER_HEADERS:
        h.update(b"\n" + headers.get(name, "").encode("latin-1", "replace"))
    return h.digest()


def canonical_target(target: bytes) -> bytes:
    """The path and query as signed: percent-decoded, ``+`` read as a space. HTTP clients re-encode
    a URL differently (aiohttp's yarl writes ``%28`` as ``(``), so the raw bytes on the wire are
    not what the client library was given; their decoded form is the same."""
    return unquote_to_bytes(target).replace(b"+", b" ")


def answer_digest(status: int, request_signature: str, body: bytes) -> bytes:
    """SHA-256 (32 bytes) of what an answer's signature covers: status, the request's signature
    (empty when the request had none) and the body."""
    h = hashlib.sha256(b"registry-answer\n")
    h.update(f"{status}\n{request_signature}\n".encode())
    h.update(hashlib.sha256(body).digest())
    return h.digest()


def message_digest(topic: str, key: bytes | None, value: bytes | None) -> bytes:
    """SHA-256 (32 bytes) of what a Kafka message's seal covers: its topic, key and value (a
    message moved to another agency's topic, or given another key, no longer verifies)."""
    h = hashlib.sha256(b"hub-message\n")
    h.update(topic.encode() + b"\n")
    h.update(hashlib.sha256(key or b"").digest())
    h.update(hashlib.sha256(value or b"").digest())
    return h.digest()


def message_headers(signer: Signer, topic: str, key: bytes | None, value: bytes) -> list[tuple[str, bytes]]:
    """The Kafka headers that seal a message to ``topic`` (``[(name, value), ...]``, as aiokafka
    and faust take them)."""
    kid, signature = signer.sign(message_digest(topic, key, value))
    return [(MESSAGE_KEY_HEADER, kid.encode()), (MESSAGE_SIGNATURE_HEADER, signature.encode())]


def verify_message(
    ring: KeyRing, topic: str, key: bytes | None, value: bytes | None, headers: Iterable[tuple[str, bytes]]
) -> str:
    """Check a consumed message's seal (``headers`` as aiokafka gives them); the key id that sealed
    it, or :class:`SignatureInvalid` naming what is wrong (missing, unknown key, does not verify)."""
    found = {name: raw for name, raw in headers if name in (MESSAGE_KEY_HEADER, MESSAGE_SIGNATURE_HEADER)}
    kid = found.get(MESSAGE_KEY_HEADER, b"").decode("ascii", "replace")
    signature = found.get(MESSAGE_SIGNATURE_HEADER, b"").decode("ascii", "replace")
    ring.verify(kid, signature, message_digest(topic, key, value))
    return kid


def hub_signers(agencies: Iterable[str]) -> list[str]:
    """Every signer of a hub with these agencies: the hub, its stream worker, each registry."""
    return [HUB_SIGNER, STREAMS_SIGNER, *agencies]


def seal_headers(
    signer: Signer, method: str, target: bytes, body: bytes, headers: Mapping[str, str]
) -> dict[str, str]:
    """The signature headers of a request (for a client other than the connectors' transport):
    ``target`` the raw path with query, ``headers`` the requester headers it sends."""
    kid, signature = signer.sign(request_digest(method, target, body, headers))
    return {REQUEST_KEY_HEADER: kid, REQUEST_SIGNATURE_HEADER: signature}


def signer_dir(root: Path, signer: str) -> Path:
    """The key directory of ``signer`` (``hub`` or an agency name) under ``root``."""
    return root / signer.replace(":", "-")


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    tmp.replace(path)


def add_key(directory: Path, *, activate_now: bool = False) -> str:
    """Generate a new key pair in ``directory`` (created if missing); return its key id
    (``<directory name>-<UTC time>-<random>``). Signing switches to it only with ``activate_now``
    (or a later :func:`activate`)."""
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    kid = f"{directory.name}-{stamp}-{secrets.token_hex(3)}"
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(directory / f"{kid}.key", private, 0o600)
    _write(directory / f"{kid}.pub", public, 0o644)
    if activate_now:
        activate(directory, kid)
    return kid


def activate(directory: Path, kid: str) -> None:
    """Make ``kid`` (a key of ``directory``) the one that signs. Raises ``FileNotFoundError``."""
    if not (directory / f"{kid}.key").exists():
        raise FileNotFoundError(f"no private key {kid} in {directory}")
    _write(directory / _ACTIVE, kid.encode(), 0o644)


def retire(directory: Path, kid: str) -> None:
    """Remove ``kid`` from ``directory``: nothing verifies against it any more. The active key
    cannot be retired (activate another first): ``ValueError``."""
    if _active_kid(directory) == kid:
        raise ValueError(f"{kid} is the active key of {directory}; activate another first")
    for suffix in (".key", ".pub"):
        (directory / f"{kid}{suffix}").unlink(missing_ok=True)


def ensure_keys(root: Path, signers: Iterable[str]) -> dict[str, str]:
    """Give every signer without a key one, active (first start); ``{signer: active key id}``."""
    out: dict[str, str] = {}
    for signer in signers:
        directory = signer_dir(root, signer)
        kid = _active_kid(directory)
        if kid is None or not (directory / f"{kid}.key").exists():
            kid = add_key(directory, activate_now=True)
        out[signer] = kid
    return out


def _active_kid(directory: Path) -> str | None:
    try:
        return (directory / _ACTIVE).read_text().strip() or None
    except FileNotFoundError:
        return None


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


class KeyRing:
    """The public keys of one signer (every ``.pub`` of its directory), kept loaded.

    ``verify`` re-reads the directory when it meets a key id it does not hold (a key added for a
    rotation) and, otherwise, when the directory changed, at most once per ``refresh`` seconds.
    Thread-safe.
    """

    def __init__(self, directory: Path, refresh: float = REFRESH_SECONDS) -> None:
        self.directory = directory
        self.refresh = refresh
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._seen_mtime = -2
        self._checked = 0.0
        self._lock = threading.Lock()
        self._load(force=True)

    def _load(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < self.refresh:
            return
        with self._lock:
            self._checked = now
            mtime = _mtime(self.directory)
            if mtime == self._seen_mtime:
                return
            keys: dict[str, Ed25519PublicKey] = {}
            for path in sorted(self.directory.glob("*.pub")) if mtime >= 0 else []:
                key = serialization.load_pem_public_key(path.read_bytes())
                if isinstance(key, Ed25519PublicKey):
                    keys[path.stem] = key
            self._keys, self._seen_mtime = keys, mtime

    def key_ids(self) -> list[str]:
        self._load()
        return sorted(self._keys)

    def verify(self, kid: str | None, signature: str | None, digest: bytes) -> None:
        """Check ``signature`` (base64) of ``digest`` by key ``kid``; :class:`SignatureInvalid`
        naming what is wrong otherwise."""
        if not kid or not signature:
            raise SignatureInvalid("signature missing")
        self._load()
        key = self._keys.get(kid)
        if key is None:
            self._load(force=True)
            key = self._keys.get(kid)
        if key is None:
            raise SignatureInvalid(f"unknown key id {kid[:80]!r}")
        try:
            key.verify(_unb64(signature), digest)
        except (InvalidSignature, ValueError):
            raise SignatureInvalid(f"signature does not verify with key {kid}") from None


class Signer:
    """The active private key of one signer, kept loaded; follows :func:`activate` (the ``active``
    file is looked at at most once per ``refresh`` seconds), unless pinned to ``key_id``. A
    directory without an active key (or without ``key_id``) raises ``FileNotFoundError`` at
    construction."""

    def __init__(
        self, directory: Path, refresh: float = REFRESH_SECONDS, *, key_id: str | None = None
    ) -> None:
        self.directory = directory
        self.refresh = refresh
        self._pinned = key_id
        self._kid = ""
        self._key: Ed25519PrivateKey | None = None
        self._seen_mtime = -2
        self._checked = 0.0
        self._lock = threading.Lock()
        self._load(force=True)

    def _load(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if (not force and now - self._checked < self.refresh) or (self._pinned and self._key):
            return
        with self._lock:
            self._checked = now
            mtime = _mtime(self.directory / _ACTIVE)
            if mtime == self._seen_mtime:
                return
            kid = self._pinned or _active_kid(self.directory)
            if kid is None:
                raise FileNotFoundError(f"no active signing key in {self.directory}")
            key = serialization.load_pem_private_key((self.directory / f"{kid}.key").read_bytes(), None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{kid} in {self.directory} is not an Ed25519 key")
            self._kid, self._key, self._seen_mtime = kid, key, mtime

    @property
    def key_id(self) -> str:
        self._load()
        return self._kid

    def sign(self, digest: bytes) -> tuple[str, str]:
        """``(key id, base64 signature)`` of ``digest`` by the active key."""
        self._load()
        assert self._key is not None
        return self._kid, b64(self._key.sign(digest))


def main(argv: list[str] | None = None) -> int:
    """``python -m hub.signing ensure | add SIGNER [--activate] | activate SIGNER KID | retire SIGNER KID``
    on ``HUB_SIGNING_KEYS_DIR`` (signers: ``hub``, ``streams`` or an agency name). Prints the key
    ids concerned."""
    import argparse

    from .settings import get_settings

    parser = argparse.ArgumentParser(prog="python -m hub.signing", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ensure", help="generate a key for every signer that has none")
    add = sub.add_parser("add", help="add a key (rotation, step 1)")
    add.add_argument("signer")
    add.add_argument("--activate", action="store_true")
    for name in ("activate", "retire"):
        step = sub.add_parser(name, help=f"{name} a key (rotation)")
        step.add_argument("signer")
        step.add_argument("kid")
    args = parser.parse_args(argv)
    settings = get_settings()
    root = settings.signing_keys_dir
    if root is None:
        parser.error("HUB_SIGNING_KEYS_DIR is not set")
    if args.command == "ensure":
        for signer, kid in ensure_keys(root, hub_signers(settings.agencies)).items():
            print(f"{signer}\t{kid}")
    elif args.command == "add":
        print(add_key(signer_dir(root, args.signer), activate_now=args.activate))
    elif args.command == "activate":
        activate(signer_dir(root, args.signer), args.kid)
    else:
        retire(signer_dir(root, args.signer), args.kid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
