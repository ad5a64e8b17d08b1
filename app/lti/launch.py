"""Validating a launch: the platform's form post of ``id_token`` and ``state`` to /lti/launch.

Checked, in this order (each failure is an LtiError with its own sentence):
  state     names a login we started and have not used (taken from the store: single use), not expired
  issuer    registered, and the one the login was for
  signature RS256 by a key in the platform's JWKS (cached; fetched again for an unknown kid)
  exp/iat   the token is current (LEEWAY_S for clock skew)
  aud/azp   our client_id is an audience; with several audiences, azp is our client_id
  nonce     the nonce of that login (so a token cannot be replayed through a new login)
  deployment_id  one registered for the platform
  version, message_type  LTI 1.3.0, a resource link or deep-linking request
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

from app.lti.errors import LtiError
from app.lti.platform_keys import KeyFetchError, PlatformKeys
from app.lti.store import LOGIN_TTL_S, LtiStore, Platform

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DEPLOYMENT = CLAIM + "deployment_id"
MESSAGE_TYPE = CLAIM + "message_type"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
LEEWAY_S = 60


def validate_launch(
    form: Mapping[str, str], store: LtiStore, keys: PlatformKeys
) -> tuple[Platform, dict[str, Any]]:
    """The platform and the verified claims of a launch, or LtiError."""
    if form.get("error"):
        detail = form.get("error_description") or form["error"]
        raise LtiError(400, f"The platform refused the login: {detail}")
    token, state = form.get("id_token", ""), form.get("state", "")
    if not token or not state:
        raise LtiError(400, "A launch needs an id_token and a state.")
    login = store.take_login(state)
    if login is None:
        raise LtiError(
            400, "This launch's state is unknown or was used already: start again from the course."
        )
    if time.time() - login.created > LOGIN_TTL_S:
        raise LtiError(400, "This launch took too long after its login: start again from the course.")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise LtiError(400, "The id_token is not a readable JWT.") from None
    issuer = unverified.get("iss")
    platform = store.find_platform(issuer, login.client_id) if isinstance(issuer, str) else None
    if platform is None:
        raise LtiError(403, f"The issuer {issuer!r} is not registered with this Unrolled server.")
    if issuer != login.issuer:
        raise LtiError(401, "The id_token comes from another issuer than the login did.")
    claims = _verified_claims(token, platform, keys)
    if claims.get("nonce") != login.nonce:
        raise LtiError(401, "The id_token's nonce is not this login's: a replayed or mixed-up launch.")
    if claims.get(DEPLOYMENT) not in platform.deployment_ids:
        raise LtiError(403, f"The deployment {claims.get(DEPLOYMENT)!r} is not registered for {issuer!r}.")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise LtiError(400, "This is not an LTI 1.3.0 launch.")
    if claims.get(MESSAGE_TYPE) not in MESSAGE_TYPES:
        raise LtiError(400, f"Unrolled does not handle {claims.get(MESSAGE_TYPE)!r} messages.")
    return platform, claims


def _verified_claims(token: str, platform: Platform, keys: PlatformKeys) -> dict[str, Any]:
    try:
        key = keys.key_for(platform.jwks_url, token)
    except KeyFetchError as exc:
        raise LtiError(502, str(exc)) from None
    except jwt.PyJWTError:
        raise LtiError(401, "No key in the platform's JWKS matches the id_token's kid.") from None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY_S,
            options={"require": ["exp", "iat", "iss", "aud", "nonce"]},
        )
    except jwt.InvalidSignatureError:
        raise LtiError(401, "The id_token's signature does not match the platform's key.") from None
    except jwt.ExpiredSignatureError:
        raise LtiError(401, "The id_token has expired.") from None
    except jwt.InvalidAudienceError:
        raise LtiError(401, "The id_token is not meant for this tool (wrong audience).") from None
    except jwt.PyJWTError as exc:
        raise LtiError(401, f"The id_token is not valid: {exc}.") from None
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if len(audiences) > 1 and claims.get("azp") != platform.client_id:
        raise LtiError(401, "The id_token has several audiences and its azp is not this tool.")
    return claims
