"""Assignment and Grade Services: posting an attempt's score to the line item the launch named.

    token  POST auth_token_url  grant_type=client_credentials, scope=.../score,
           client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer,
           client_assertion = JWT(iss = sub = client_id, aud = auth_token_url, iat, exp, jti), tool key
    score  POST <lineitem>/scores  (application/vnd.ims.lis.v1.score+json, Bearer token)
           {userId, scoreGiven, scoreMaximum, activityProgress: Completed, gradingProgress: FullyGraded, timestamp}

``submit_score`` records the attempt before posting, so one attempt id posts at most once even when the page
sends it twice; a transient failure (no connection, 429, 5xx) is retried a few times with a growing pause.
A launch without a line item keeps the score in the store and the page shows it.
"""

from __future__ import annotations

import json
import math
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jwt

from app.lti.errors import LtiError
from app.lti.keys import ToolKeys
from app.lti.store import Attempt, LtiStore, Platform

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
RETRY_PAUSES_S = (0.2, 1.0, 3.0)
TIMEOUT_S = 10


class TransientError(Exception):
    """The platform could not be reached or answered 429/5xx: worth another try."""


class PermanentError(Exception):
    """The platform refused the request (4xx): another try would be refused too."""


def line_item(claims: dict[str, Any]) -> str | None:
    """The line item a launch's scores go to, when the platform allows us to post scores."""
    endpoint = claims.get(AGS_CLAIM)
    if not isinstance(endpoint, dict) or SCORE_SCOPE not in endpoint.get("scope", []):
        return None
    url = endpoint.get("lineitem")
    return url if isinstance(url, str) and url else None


def scores_url(lineitem: str) -> str:
    """The scores endpoint: the line item's path with /scores appended, its query kept."""
    parts = urllib.parse.urlsplit(lineitem)
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def _request(url: str, data: bytes, headers: dict[str, str]) -> dict[str, Any]:
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 (the platform's own URL)
            body = resp.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the reply, and with it the connection
            if exc.code == 429 or exc.code >= 500:
                raise TransientError(f"{url} answered {exc.code}") from None
            raise PermanentError(f"{url} answered {exc.code}: {exc.read()[:200]!r}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise TransientError(f"{url} could not be reached: {exc}") from None
    return json.loads(body) if body.strip() else {}


def with_retries(call: Callable[[], Any]) -> Any:
    """``call()``, tried again after each pause of RETRY_PAUSES_S while it fails transiently."""
    for pause in (*RETRY_PAUSES_S, None):
        try:
            return call()
        except TransientError:
            if pause is None:
                raise
            time.sleep(pause)
    raise AssertionError("unreachable")


def access_token(platform: Platform, keys: ToolKeys, scope: str = SCORE_SCOPE) -> str:
    key = keys.signing_key()
    now = int(time.time())
    assertion = jwt.encode(
        {
            "iss": platform.client_id,
            "sub": platform.client_id,
            "aud": platform.auth_token_url,
            "iat": now,
            "exp": now + 300,
            "jti": secrets.token_urlsafe(16),
        },
        key.private_pem,
        algorithm="RS256",
        headers={"kid": key.kid},
    )
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": scope,
        }
    ).encode()
    reply = _request(platform.auth_token_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
    token = reply.get("access_token")
    if not isinstance(token, str) or not token:
        raise PermanentError("the platform's token endpoint gave no access_token")
    return token


def post_score(lineitem: str, token: str, user_id: str, score: float, maximum: float, timestamp: str) -> None:
    """One score POST; ``timestamp`` is the attempt's, so a retried POST repeats the same score event (a
    platform ignores a score whose timestamp is not newer than the one it holds)."""
    body = {
        "userId": user_id,
        "scoreGiven": score,
        "scoreMaximum": maximum,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": timestamp,
    }
    _request(
        scores_url(lineitem),
        json.dumps(body).encode(),
        {"Content-Type": "application/vnd.ims.lis.v1.score+json", "Authorization": f"Bearer {token}"},
    )


def check_score(score: float, maximum: float) -> None:
    if not (math.isfinite(score) and math.isfinite(maximum)) or maximum <= 0 or not 0 <= score <= maximum:
        raise LtiError(422, "A score must be a number from 0 to its maximum, and the maximum above 0.")


def submit_score(
    store: LtiStore, keys: ToolKeys, launch_id: str, attempt_id: str, score: float, maximum: float
) -> Attempt:
    """Post one attempt's score to the launch's line item (at most once per attempt id) and return the
    attempt as recorded: status "posted", "failed" (with the reason), or "local" without a line item."""
    check_score(score, maximum)
    claims = store.launch(launch_id)
    if claims is None:
        raise LtiError(404, "This launch is unknown: open the activity from the course again.")
    lineitem = line_item(claims)
    # An attempt id names an attempt within its launch: two students doing the same exercise set are two
    # launches, so the key the store keeps is the pair.
    key = f"{launch_id}:{attempt_id}"
    attempt = Attempt(key, launch_id, score, maximum, "pending" if lineitem else "local")
    if not store.claim_attempt(attempt):
        known = store.attempt(key)
        assert known is not None
        return known  # submitted before: never posted twice
    if lineitem is None:
        return attempt
    platform = store.find_platform(claims["iss"], client_id_of(claims))
    if platform is None:
        store.set_attempt_status(key, "failed", "the platform is no longer registered")
    else:
        try:
            user = str(claims.get("sub", ""))
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
            token = with_retries(lambda: access_token(platform, keys))
            with_retries(lambda: post_score(lineitem, token, user, score, maximum, stamp))
            store.set_attempt_status(key, "posted")
        except (TransientError, PermanentError) as exc:
            store.set_attempt_status(key, "failed", str(exc))
    result = store.attempt(key)
    assert result is not None
    return result


def client_id_of(claims: dict[str, Any]) -> str:
    aud = claims.get("aud")
    return str(aud[0] if isinstance(aud, list) and len(aud) == 1 else claims.get("azp", aud))
