"""OIDC third-party login initiation: the platform sends the browser here, we send it to the platform's
authorization endpoint with a fresh ``state`` and ``nonce`` (kept in the store), and the platform answers with
a form post of a signed id_token to our launch URL (app.lti.launch).

    platform -> GET/POST /lti/login?iss&login_hint&target_link_uri[&lti_message_hint&client_id&lti_deployment_id]
    tool     -> 302 auth_login_url?scope=openid&response_type=id_token&response_mode=form_post&prompt=none
                   &client_id&redirect_uri&login_hint&lti_message_hint&state&nonce
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from app.lti.errors import LtiError
from app.lti.store import LtiStore, PendingLogin


def authorization_redirect(params: Mapping[str, str], store: LtiStore, launch_url: str) -> str:
    """Where the browser goes next: the platform's authorization endpoint, with the request's state."""
    issuer, login_hint = params.get("iss", ""), params.get("login_hint", "")
    if not issuer or not login_hint or not params.get("target_link_uri"):
        raise LtiError(400, "A login initiation needs iss, login_hint and target_link_uri.")
    platform = store.find_platform(issuer, params.get("client_id") or None)
    if platform is None:
        raise LtiError(403, f"The platform {issuer!r} is not registered with this Unrolled server.")
    deployment = params.get("lti_deployment_id")
    if deployment and deployment not in platform.deployment_ids:
        raise LtiError(403, f"The deployment {deployment!r} of {issuer!r} is not registered here.")
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.save_login(PendingLogin(state, nonce, platform.issuer, platform.client_id, time.time()))
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return platform.auth_login_url + separator + urlencode(query)
