"""The platforms' signing keys, fetched from each one's JWKS URL and cached.

PyJWT's PyJWKClient keeps a JWKS for ``lifespan`` seconds and fetches it again when a token names a ``kid`` it
does not hold, which is how a platform's key rotation reaches us without a restart. It refetches for an
unknown kid at most once per JWKS_COOLDOWN_S, so tokens with made-up kids cannot make us hammer the platform.
"""

from __future__ import annotations

import threading

import jwt
from jwt import PyJWKClient

JWKS_LIFESPAN_S = 300
JWKS_COOLDOWN_S = 5
FETCH_TIMEOUT_S = 10


class KeyFetchError(Exception):
    """The platform's JWKS could not be fetched or read."""


class PlatformKeys:
    def __init__(self, lifespan_s: int = JWKS_LIFESPAN_S) -> None:
        self.lifespan_s = lifespan_s
        self._clients: dict[str, PyJWKClient] = {}
        self._lock = threading.Lock()

    def key_for(self, jwks_url: str, token: str) -> jwt.PyJWK:
        """The key in the platform's JWKS whose kid the token's header names.

        Raises KeyFetchError when the JWKS cannot be had, jwt.PyJWKClientError when no key matches."""
        with self._lock:
            client = self._clients.get(jwks_url)
            if client is None:
                client = PyJWKClient(
                    jwks_url,
                    lifespan=self.lifespan_s,
                    timeout=FETCH_TIMEOUT_S,
                    cooldown_duration=JWKS_COOLDOWN_S,
                )
                self._clients[jwks_url] = client
        try:
            return client.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise KeyFetchError(f"could not fetch the platform's keys from {jwks_url}: {exc}") from exc
