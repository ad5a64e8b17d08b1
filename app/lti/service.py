"""The LTI tool's parts for one server: its store, its keys, the platforms' key cache and the tool's URLs.

``frame_ancestors()`` is asked by app.http.security for every page under /embed and /lti; it reads the registered
platforms at most every ANCESTORS_TTL_S seconds (a platform added by the CLI in another process shows up
within that time, one added through this server at once).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from app.lti.keys import ToolKeys
from app.lti.platform_keys import PlatformKeys
from app.lti.store import LtiStore, Platform

ANCESTORS_TTL_S = 30.0
PUBLIC_URL_ENV = "UNROLLED_PUBLIC_URL"
DYNAMIC_REGISTRATION_ENV = "UNROLLED_LTI_DYNAMIC_REGISTRATION"


@dataclass(frozen=True)
class ToolUrls:
    """The URLs an LMS administrator pastes, under the server's public origin."""

    base: str

    @property
    def login(self) -> str:
        return f"{self.base}/lti/login"

    @property
    def launch(self) -> str:
        return f"{self.base}/lti/launch"

    @property
    def deep_link(self) -> str:
        return f"{self.base}/lti/launch"  # one redirect URI: the message type says which it is

    @property
    def jwks(self) -> str:
        return f"{self.base}/lti/jwks"

    @property
    def registration(self) -> str:
        return f"{self.base}/lti/register"

    @property
    def config(self) -> str:
        return f"{self.base}/lti/config.json"


class LtiService:
    def __init__(
        self, store: LtiStore, public_url: str | None = None, dynamic_registration: bool = False
    ) -> None:
        self.store = store
        self.dynamic_registration = dynamic_registration
        self.keys = ToolKeys(store)
        self.platform_keys = PlatformKeys()
        self.public_url = public_url.rstrip("/") if public_url else None
        self._ancestors: tuple[str, ...] = ()
        self._ancestors_read = -float("inf")
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, store: LtiStore, env: Mapping[str, str] | None = None) -> LtiService:
        env = os.environ if env is None else env
        enabled = env.get(DYNAMIC_REGISTRATION_ENV, "").strip().lower() in ("1", "true", "yes")
        return cls(store, env.get(PUBLIC_URL_ENV) or None, enabled)

    def urls(self, request_base: str) -> ToolUrls:
        """The tool's URLs: under UNROLLED_PUBLIC_URL when set, else under the request's own origin."""
        return ToolUrls(self.public_url or request_base.rstrip("/"))

    def add_platform(self, platform: Platform) -> None:
        self.store.add_platform(platform)
        with self._lock:
            self._ancestors_read = -float("inf")

    def frame_ancestors(self) -> tuple[str, ...]:
        with self._lock:
            if time.monotonic() - self._ancestors_read > ANCESTORS_TTL_S:
                origins = (o for p in self.store.platforms() for o in p.ancestors())
                self._ancestors = tuple(dict.fromkeys(origins))
                self._ancestors_read = time.monotonic()
            return self._ancestors
