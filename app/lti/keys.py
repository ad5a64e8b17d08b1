"""The tool's own RS256 signing keys: made on first use, kept in the store, published as a JWKS.

Rotation: ``rotate()`` adds a new key that signs from then on; the old one stays in the JWKS so platforms can
still check messages it signed (and refresh their cached copy), until ``retire(kid)`` takes it out. The CLI
runs both (``unrolled lti rotate-key`` / ``unrolled lti retire-key KID``). A key's ``kid`` is its RFC 7638
thumbprint, so two workers that race on first start at worst publish two keys, never a clash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from app.lti.store import LtiStore, ToolKey

KEY_BITS = 2048


def new_key(now: float | None = None) -> ToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = thumbprint(public)
    return ToolKey(kid=kid, private_pem=pem, created=time.time() if now is None else now)


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256(the required members e, kty, n as sorted JSON without spaces))."""
    members = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()


def public_jwk(key: ToolKey) -> dict[str, Any]:
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    return {**jwk, "kid": key.kid, "alg": "RS256", "use": "sig"}


class ToolKeys:
    def __init__(self, store: LtiStore) -> None:
        self.store = store

    def signing_key(self) -> ToolKey:
        """The newest key that is not retired, made (and stored) when there is none."""
        live = [k for k in self.store.tool_keys() if k.retired is None]
        if live:
            return live[0]
        self.store.add_key(new_key())
        return [k for k in self.store.tool_keys() if k.retired is None][0]

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        self.signing_key()  # a JWKS is never empty: the first request makes the first key
        return {"keys": [public_jwk(k) for k in self.store.tool_keys() if k.retired is None]}

    def rotate(self) -> ToolKey:
        # created strictly after the current key, so it is the newest even on a coarse clock
        newest = max((k.created for k in self.store.tool_keys()), default=0.0)
        key = new_key(max(time.time(), newest + 1e-3))
        self.store.add_key(key)
        return key

    def retire(self, kid: str) -> bool:
        if kid == self.signing_key().kid:
            raise ValueError("that key signs now: rotate first, then retire the old key")
        return self.store.retire_key(kid, time.time())
