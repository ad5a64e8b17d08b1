"""``unrolled lti ...``: register platforms and manage the tool's keys from the server's shell.

    unrolled lti add-platform --issuer URL --client-id ID --deployment ID [--deployment ID ...]
                              --auth-login-url URL --auth-token-url URL --jwks-url URL [--name N] [--frame-origin O]
    unrolled lti platforms         list the registrations
    unrolled lti urls --base URL   the values an LMS administrator pastes
    unrolled lti rotate-key        a new signing key; the old one stays published until retired
    unrolled lti retire-key -- KID stop publishing an old key (a kid may start with "-", hence the --)

They use the server's database (UNROLLED_DB / UNROLLED_DATA_DIR), so a running server sees a new platform
within app.lti.service.ANCESTORS_TTL_S seconds for framing and at once for launches.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from app.lti.keys import ToolKeys
from app.lti.service import ToolUrls
from app.lti.store import DatabaseLtiStore, Platform


def _store() -> DatabaseLtiStore:
    from app.settings import Settings
    from app.storage import open_database

    return DatabaseLtiStore(open_database(Settings.from_env()))


def _url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL")
    return value


def add_platform(args: argparse.Namespace) -> int:
    platform = Platform(
        issuer=args.issuer,
        client_id=args.client_id,
        deployment_ids=tuple(dict.fromkeys(args.deployment)),
        auth_login_url=args.auth_login_url,
        auth_token_url=args.auth_token_url,
        jwks_url=args.jwks_url,
        name=args.name,
        frame_origins=tuple(args.frame_origin),
    )
    _store().add_platform(platform)
    deployments = ", ".join(platform.deployment_ids)
    print(f"registered {platform.issuer} (client_id {platform.client_id}, deployments {deployments})")
    return 0


def list_platforms(args: argparse.Namespace) -> int:
    for p in _store().platforms():
        print(f"{p.issuer}\t{p.client_id}\t{','.join(p.deployment_ids)}\t{p.name}")
    return 0


def urls(args: argparse.Namespace) -> int:
    tool = ToolUrls(args.base.rstrip("/"))
    print(f"OIDC login initiation URL: {tool.login}")
    print(f"Target link URI / redirect URI: {tool.launch}")
    print(f"Public JWKS URL: {tool.jwks}")
    print(f"Dynamic registration URL: {tool.registration}")
    return 0


def rotate_key(args: argparse.Namespace) -> int:
    keys = ToolKeys(_store())
    old = keys.signing_key().kid
    new = keys.rotate().kid
    print(f"new signing key {new}; {old} stays published until: unrolled lti retire-key -- {old}")
    return 0


def retire_key(args: argparse.Namespace) -> int:
    try:
        done = ToolKeys(_store()).retire(args.kid)
    except ValueError as exc:
        print(f"unrolled lti retire-key: {exc}", file=sys.stderr)
        return 2
    if not done:
        print(f"unrolled lti retire-key: no published key {args.kid}", file=sys.stderr)
        return 2
    print(f"retired {args.kid}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    lti = sub.add_parser("lti", help="LTI 1.3: register LMS platforms, manage the tool's keys")
    cmds = lti.add_subparsers(dest="lti_command", required=True)
    a = cmds.add_parser("add-platform", help="register an LMS (or replace its registration)")
    a.add_argument(
        "--issuer", required=True, help="the platform's issuer (iss), e.g. https://canvas.instructure.com"
    )
    a.add_argument("--client-id", required=True, help="the client ID the platform gave the tool")
    a.add_argument(
        "--deployment", action="append", required=True, help="a deployment ID (repeat for several)"
    )
    a.add_argument(
        "--auth-login-url", required=True, type=_url, help="the platform's OIDC authorization endpoint"
    )
    a.add_argument("--auth-token-url", required=True, type=_url, help="the platform's OAuth2 token endpoint")
    a.add_argument("--jwks-url", required=True, type=_url, help="the platform's public keyset URL")
    a.add_argument("--name", default="", help="a name for the admin page")
    a.add_argument("--frame-origin", action="append", default=[], type=_url,
                   help="an origin whose pages frame launches, besides the issuer's and the login URL's")  # fmt: skip
    a.set_defaults(func=add_platform)
    cmds.add_parser("platforms", help="list registered platforms").set_defaults(func=list_platforms)
    u = cmds.add_parser("urls", help="print the tool's URLs for an LMS administrator")
    u.add_argument(
        "--base",
        required=True,
        type=_url,
        help="the server's public origin, e.g. https://unrolled.example.edu",
    )
    u.set_defaults(func=urls)
    cmds.add_parser("rotate-key", help="make a new signing key").set_defaults(func=rotate_key)
    r = cmds.add_parser("retire-key", help="stop publishing an old key")
    r.add_argument("kid")
    r.set_defaults(func=retire_key)
