"""LTI Dynamic Registration (IMS LTI-DR 1.0): the LMS opens /lti/register?openid_configuration=URL
[&registration_token=T]; we read the platform's OpenID configuration, post our client registration to its
registration_endpoint, store the platform with the client_id and deployment_id it answers, and tell the LMS
window we are done (postMessage ``org.imsglobal.lti.close``, from static/register.js).

Off unless UNROLLED_LTI_DYNAMIC_REGISTRATION=1: an open registration URL lets anyone add a platform (and make
this server fetch a URL they name), so an administrator turns it on while registering and off afterwards.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.lti.ags import SCORE_SCOPE
from app.lti.errors import LtiError
from app.lti.pages import page, refused
from app.lti.service import ToolUrls
from app.lti.store import Platform

PLATFORM_CONFIG = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"
FETCH_TIMEOUT_S = 10
MAX_REPLY_BYTES = 1 << 20

router = APIRouter()


def _http_json(url: str, body: dict[str, Any] | None = None, token: str = "") -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT_S) as resp:  # noqa: S310
            raw = resp.read(MAX_REPLY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # an HTTPError holds the reply, and with it the connection
        raise LtiError(502, f"{url} answered {exc.code}.") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError, ValueError) as exc:
        raise LtiError(502, f"{url} could not be reached: {exc}.") from None
    try:
        reply = json.loads(raw[:MAX_REPLY_BYTES])
    except ValueError:
        raise LtiError(502, f"{url} did not answer JSON.") from None
    if not isinstance(reply, dict):
        raise LtiError(502, f"{url} did not answer a JSON object.")
    return reply


def tool_registration(urls: ToolUrls) -> dict[str, Any]:
    """Our client registration request (OpenID Connect registration with the LTI tool configuration)."""
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": urls.login,
        "redirect_uris": [urls.launch],
        "client_name": "Unrolled",
        "jwks_uri": urls.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": SCORE_SCOPE,
        TOOL_CONFIG: {
            "domain": urlsplit(urls.base).netloc,
            "target_link_uri": urls.launch,
            "description": "A visual simulator of recurrent neural networks, one timestep at a time.",
            "claims": ["iss", "sub"],
            "messages": [
                {"type": "LtiResourceLinkRequest", "target_link_uri": urls.launch},
                {"type": "LtiDeepLinkingRequest", "target_link_uri": urls.launch, "label": "Unrolled"},
            ],
        },
    }


def register(config_url: str, token: str, urls: ToolUrls) -> Platform:
    config = _http_json(config_url)
    issuer = config.get("issuer")
    needed = ("authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint")
    if not isinstance(issuer, str) or not all(isinstance(config.get(k), str) for k in needed):
        raise LtiError(502, "The platform's OpenID configuration lacks the issuer or an endpoint.")
    if urlsplit(issuer).netloc != urlsplit(config_url).netloc:
        raise LtiError(400, "The OpenID configuration's issuer is not on the host it was fetched from.")
    reply = _http_json(config["registration_endpoint"], tool_registration(urls), token)
    client_id = reply.get("client_id")
    deployment = (reply.get(TOOL_CONFIG) or {}).get("deployment_id")
    if not isinstance(client_id, str) or not client_id:
        raise LtiError(502, "The platform's registration reply has no client_id.")
    platform_name = (config.get(PLATFORM_CONFIG) or {}).get("product_family_code", "")
    return Platform(
        issuer=issuer,
        client_id=client_id,
        deployment_ids=(str(deployment),) if deployment else (),
        auth_login_url=config["authorization_endpoint"],
        auth_token_url=config["token_endpoint"],
        jwks_url=config["jwks_uri"],
        name=str(platform_name),
    )


@router.get("/register")
async def dynamic_registration(request: Request) -> Response:
    lti = request.app.state.lti
    if not lti.dynamic_registration:
        return refused(
            403, "Dynamic registration is turned off on this server (UNROLLED_LTI_DYNAMIC_REGISTRATION)."
        )
    config_url = request.query_params.get("openid_configuration", "")
    if urlsplit(config_url).scheme not in ("http", "https"):
        return refused(400, "The registration needs an openid_configuration URL.")
    urls = lti.urls(str(request.base_url))
    try:
        platform = await run_in_threadpool(
            register, config_url, request.query_params.get("registration_token", ""), urls
        )
    except LtiError as exc:
        return refused(exc.status, exc.reason)
    await run_in_threadpool(lti.add_platform, platform)
    return page("registered.html", title="Unrolled is registered", platform=platform)
