"""The one exception an LTI step raises to refuse a request: an HTTP status and a sentence for the page."""

from __future__ import annotations


class LtiError(Exception):
    """Raised to refuse an LTI request; the router turns it into a page (or JSON) with ``status``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
