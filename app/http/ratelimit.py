"""A per-client token bucket on pages and the API: ``rate`` requests a minute on average, bursts of ``burst``.

Each client (by IP address as uvicorn reports it: the connection's, or X-Forwarded-For only when the connection
comes from one of UNROLLED_TRUSTED_PROXIES) holds
``tokens`` that refill continuously,

    tokens <- min(burst, tokens + (now - last) * rate / 60),

and a request spends one. With none left the reply is 429 with Retry-After = the seconds until one token is
back. Buckets live in this process's memory (one per worker), least recently used first out beyond
``max_clients``, so memory stays bounded whatever the traffic.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.http.security import send_json


class TokenBuckets:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_clients: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """Spend a token for ``client``: 0 if allowed, else the seconds to wait for the next one."""
        now = self.clock()
        tokens, last = self.buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self.buckets[client] = (tokens, now)
        if len(self.buckets) > self.max_clients:
            self.buckets.popitem(last=False)
        return wait


#: Paths no client is limited on.
EXEMPT = ("/static/", "/lti/static/", "/api/v1/health", "/api/v1/ready")


class RateLimit:
    """Every route but the exempt ones: pages and fragments cost as much as the API's traces, so they share the
    client's bucket; static files and the health probes (a load balancer asks them often) do not."""

    def __init__(self, app: ASGIApp, per_minute: int, burst: int, exempt: tuple[str, ...] = EXEMPT) -> None:
        self.app = app
        self.exempt = exempt
        self.buckets = TokenBuckets(per_minute, max(burst, 1))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").startswith(self.exempt):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.buckets.take(client)
            if wait > 0:
                seconds = str(max(1, math.ceil(wait))).encode()
                await send_json(
                    send,
                    429,
                    "too many requests; retry after the number of seconds in Retry-After",
                    [(b"retry-after", seconds)],
                )
                return
        await self.app(scope, receive, send)
