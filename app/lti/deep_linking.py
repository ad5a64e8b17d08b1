"""Deep linking: the teacher picks pages in our picker and we answer the platform with a signed
LtiDeepLinkingResponse, auto-posted to its ``deep_link_return_url``.

The response is a JWT signed with the tool's current key (app.lti.keys), kid in its header:
    iss = our client_id, aud = the platform's issuer, deployment_id and nonce, iat/exp,
    content_items: one ltiResourceLink per choice (custom unrolled_url names the page; a graded exercise set
                   also asks for a lineItem out of its number of questions, so the platform makes a gradebook
                   column), data: echoed as received.
Cancel answers with the same message and no items.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt

from app.lti.errors import LtiError
from app.lti.keys import ToolKeys
from app.lti.launch import CLAIM, DEPLOYMENT, MESSAGE_TYPE
from app.lti.store import Platform
from app.lti.targets import CUSTOM_KEY, TargetError, target_url

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS = DL + "deep_linking_settings"
RESPONSE_LIFETIME_S = 300


def settings_of(claims: dict[str, Any]) -> dict[str, Any]:
    settings = claims.get(SETTINGS)
    if claims.get(MESSAGE_TYPE) != "LtiDeepLinkingRequest" or not isinstance(settings, dict):
        raise LtiError(400, "This launch is not a deep-linking request.")
    if not isinstance(settings.get("deep_link_return_url"), str):
        raise LtiError(400, "The deep-linking request has no deep_link_return_url.")
    return settings


def content_item(url: str, title: str, launch_url: str, max_score: int = 0) -> dict[str, Any]:
    """The link to ``url``; with ``max_score``, graded: the platform makes a column scored out of it."""
    try:
        page = target_url({CUSTOM_KEY: url})
    except TargetError as exc:
        raise LtiError(422, str(exc)) from None
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": title,
        "url": launch_url,
        "custom": {CUSTOM_KEY: page},
        "iframe": {"width": 900, "height": 700},
    }
    if max_score:
        item["lineItem"] = {"scoreMaximum": float(max_score), "label": title}
    return item


def response_jwt(
    platform: Platform, claims: dict[str, Any], items: list[dict[str, Any]], keys: ToolKeys
) -> str:
    settings = settings_of(claims)
    if items and not settings.get("accept_multiple", True) and len(items) > 1:
        raise LtiError(422, "The platform takes one item at a time here: choose one.")
    accepted = settings.get("accept_types")
    if items and isinstance(accepted, list) and "ltiResourceLink" not in accepted:
        raise LtiError(422, "The platform does not accept LTI links from this placement.")
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME_S,
        "nonce": secrets.token_urlsafe(16),
        DEPLOYMENT: claims[DEPLOYMENT],
        MESSAGE_TYPE: "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        DL + "content_items": items,
    }
    if "data" in settings:
        payload[DL + "data"] = settings["data"]
    key = keys.signing_key()
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
