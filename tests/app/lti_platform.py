"""An LMS for the LTI tests: the ``lti1p3platform`` package (an LTI 1.3 platform written elsewhere) behind a few
FastAPI routes, served by uvicorn on a free loopback port in a thread.

The package builds and signs the launch messages (OIDC preflight URL, id_token claims, AGS and deep-linking
claims), issues AGS access tokens for the tool's signed client assertion and checks the tool's deep-linking
reply against the tool's JWKS. Its own FastAPI adapter imports pkg_resources (gone from current setuptools),
so the two small adapters it needs (a redirect and a launch form) are written here.

A test names what the next launch carries in ``lms.launches[hint]`` (a :class:`LaunchSpec`) and starts it with
``lms.login_url(hint)``; what the tool sent back lands in ``lms.scores`` and ``lms.deep_link_items``.
"""

from __future__ import annotations

import html
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration

from app.lti.keys import thumbprint

CLIENT_ID = "unrolled-at-test-lms"
DEPLOYMENT_ID = "deployment-1"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
STUDENT = "https://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TEACHER = "https://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


class KeyedRegistration(Registration):
    """A registration whose JWKS and id_token header carry a kid (the RFC 7638 thumbprint of the published
    key), as real platforms do; ``signing_pem`` can differ from the published key to forge a signature."""

    signing_pem: str | None = None

    def get_jwks(self) -> list[dict[str, Any]]:
        keys = super().get_jwks()
        return [{**k, "kid": thumbprint(k)} for k in keys]

    def get_kid(self) -> str | None:
        return self.get_jwks()[0]["kid"]

    def get_platform_private_key(self) -> str | None:
        return self.signing_pem or super().get_platform_private_key()


@dataclass
class LaunchSpec:
    """What one launch carries, and how it may be spoiled for a refusal test."""

    kind: str = "resource"  # "resource" or "deep_link"
    custom: dict[str, str] = field(default_factory=dict)
    user: str = "student-1"
    roles: tuple[str, ...] = (STUDENT,)
    line_item: bool = False
    deep_link_data: str | None = None
    audience: str | None = None  # another tool's client_id as aud and azp
    deployment_id: str | None = None  # an unregistered deployment
    issuer: str | None = None  # an unregistered issuer in the id_token
    expires_in: int = 300  # negative: already expired
    forge_signature: bool = False


class LmsConfig(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class LmsLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> RedirectResponse:
        return RedirectResponse(url, status_code=302)


class LmsLaunch(LTIAdvantageMessageLaunchAbstract):
    """The library's launch, read from the tool's authorization request (query) and answered with an
    auto-submitting form (the shape of the library's own launch.html)."""

    def get_preflight_response(self) -> dict[str, Any]:
        return dict(self._request.query_params)  # type: ignore[union-attr]

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> HTMLResponse:
        return HTMLResponse(launch_form(launch_data["launch_url"], launch_data))


def page_head(title: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><title>{title}</title><link rel="icon" href="data:,"></head>'
    )


def launch_form(action: str, fields: dict[str, Any]) -> str:
    inputs = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(str(fields[k]))}">'
        for k in ("id_token", "state")
    )
    return (
        f"{page_head('Launching')}<body>"
        f'<form method="post" action="{html.escape(action)}" id="launch">{inputs}'
        '<button type="submit">Continue</button></form>'
        '<script>document.getElementById("launch").submit()</script></body></html>'
    )


class TestLms:
    """The LMS's state: its registration of the tool, the launches it will send, what came back."""

    __test__ = False  # not a test class

    def __init__(self, port: int, tool_base: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.tool_base = tool_base
        self.private_pem = rsa_pem()
        self.launches: dict[str, LaunchSpec] = {}
        self.scores: list[dict[str, Any]] = []
        self.score_failures = 0  # the next this-many score POSTs answer 503
        self.deep_link_items: list[list[dict[str, Any]]] = []
        self.deep_link_claims: list[dict[str, Any]] = []
        self.last_deep_link_jwt = ""
        self.tool_jwks: dict[str, Any] | None = None
        self.registrations: list[dict[str, Any]] = []  # client registrations the tool sent (dynamic)

    @property
    def issuer(self) -> str:
        return self.base

    def registration(self, spec: LaunchSpec | None = None) -> KeyedRegistration:
        reg = KeyedRegistration()
        reg.set_iss(self.issuer).set_client_id(CLIENT_ID).set_deployment_id(DEPLOYMENT_ID)
        reg.set_oidc_login_url(f"{self.tool_base}/lti/login").set_launch_url(f"{self.tool_base}/lti/launch")
        reg.set_deeplink_launch_url(f"{self.tool_base}/lti/launch")
        reg.set_platform_private_key(self.private_pem).set_platform_public_key(public_pem(self.private_pem))
        if self.tool_jwks is not None:
            reg.set_tool_key_set(self.tool_jwks)  # type: ignore[arg-type]
        else:
            reg.set_tool_key_set_url(f"{self.tool_base}/lti/jwks")
        if spec is not None:
            if spec.deployment_id:
                reg.set_deployment_id(spec.deployment_id)
            if spec.issuer:
                reg.set_iss(spec.issuer)
            if spec.forge_signature:
                reg.signing_pem = rsa_pem()
        return reg

    def config(self, spec: LaunchSpec | None = None) -> LmsConfig:
        return LmsConfig(registration=self.registration(spec))

    def login_url(self, hint: str, user: str = "student-1") -> str:
        """Where the LMS sends the browser to start launch ``hint``: the tool's login initiation URL."""
        login = LmsLogin(None, self.config())
        login.set_lti_message_hint(hint=hint)
        return login.prepare_preflight_url(user)

    def tool_platform_args(self) -> list[str]:
        """``unrolled lti add-platform`` arguments that register this LMS with the tool."""
        return [
            "--issuer", self.issuer, "--client-id", CLIENT_ID, "--deployment", DEPLOYMENT_ID,
            "--auth-login-url", f"{self.base}/authorize", "--auth-token-url", f"{self.base}/token",
            "--jwks-url", f"{self.base}/jwks", "--name", "Test LMS",
        ]  # fmt: skip


def lms_app(lms: TestLms) -> FastAPI:
    app = FastAPI()

    @app.get("/jwks")
    def jwks() -> JSONResponse:
        return JSONResponse({"keys": lms.registration().get_jwks()})

    @app.get("/course/{hint}")
    def course(hint: str) -> HTMLResponse:
        """A course page that frames the activity, as an LMS does: the frame starts at the tool's login."""
        src = html.escape(lms.login_url(hint))
        return HTMLResponse(
            f"{page_head('Course')}<body><h1>Course</h1>"
            f'<iframe id="activity" title="Activity" src="{src}" width="900" height="700"></iframe></body></html>'
        )

    @app.get("/authorize")
    def authorize(request: Request) -> Response:
        hint = request.query_params.get("lti_message_hint", "")
        spec = lms.launches.get(hint)
        if spec is None:
            return JSONResponse({"error": f"no launch {hint!r}"}, status_code=400)
        launch = LmsLaunch(request, lms.config(spec))  # type: ignore[arg-type]
        launch.set_user_data(spec.user, list(spec.roles), full_name="Ada Student")
        launch.set_resource_link_claim(f"link-{hint}", title=f"Activity {hint}")
        launch.set_launch_context_claim("course-1", context_title="Recurrent networks")
        if spec.custom:
            launch.set_custom_parameters_claim(spec.custom)
        if spec.line_item:
            launch.set_ags(
                lineitems_url=f"{lms.base}/lineitems",
                lineitem_url=f"{lms.base}/lineitems/{hint}",
                allow_creating_lineitems=False,
            )
        if spec.kind == "deep_link":
            # the library puts extra_data in the claim as its "data", the opaque value the tool must echo
            data: Any = spec.deep_link_data
            launch.set_dl(f"{lms.base}/deep-link-return", title="Add an activity", extra_data=data)
        if spec.audience:
            launch.set_extra_claims({"aud": spec.audience, "azp": spec.audience})
        launch.set_id_token_expiration(spec.expires_in)
        return launch.lti_launch()  # type: ignore[no-any-return]

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = dict((await request.form()).items())
        try:
            return JSONResponse(lms.config().get_access_token(form))  # type: ignore[arg-type]
        except Exception as exc:  # the library's refusals are plain exceptions
            return JSONResponse({"error": "invalid_request", "detail": str(exc)}, status_code=400)

    @app.post("/lineitems/{item}/scores")
    async def scores(item: str, request: Request) -> Response:
        auth = request.headers.get("authorization", "").split()
        config = lms.config()
        config.get_registration()
        if len(auth) != 2 or auth[0].lower() != "bearer" or not config.validate_token(auth[1], [SCORE_SCOPE]):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        if request.headers.get("content-type") != "application/vnd.ims.lis.v1.score+json":
            return JSONResponse({"error": "wrong media type"}, status_code=415)
        if lms.score_failures > 0:
            lms.score_failures -= 1
            return JSONResponse({"error": "try again"}, status_code=503)
        lms.scores.append({"line_item": item, **(await request.json())})
        return Response(status_code=204)

    # Dynamic registration: lti1p3platform has none, so these two routes follow LTI-DR 1.0 by hand.
    @app.get("/.well-known/openid-configuration")
    def openid_configuration() -> JSONResponse:
        return JSONResponse(
            {
                "issuer": lms.issuer,
                "authorization_endpoint": f"{lms.base}/authorize",
                "token_endpoint": f"{lms.base}/token",
                "jwks_uri": f"{lms.base}/jwks",
                "registration_endpoint": f"{lms.base}/register",
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "test-lms"
                },
            }
        )

    @app.post("/register")
    async def register(request: Request) -> JSONResponse:
        if request.headers.get("authorization") != "Bearer one-time-token":
            return JSONResponse({"error": "invalid token"}, status_code=401)
        body = await request.json()
        lms.registrations.append(body)
        tool_config = "https://purl.imsglobal.org/spec/lti-tool-configuration"
        return JSONResponse({**body, "client_id": "dynamic-client", tool_config: {"deployment_id": "dyn-1"}})

    @app.post("/deep-link-return")
    async def deep_link_return(request: Request) -> HTMLResponse:
        form = dict((await request.form()).items())
        config = lms.config()
        config.get_registration()
        items = config.validate_deeplinking_resp(form)  # type: ignore[arg-type]
        lms.deep_link_items.append(items)
        lms.last_deep_link_jwt = form["JWT"]
        lms.deep_link_claims.append(config._jwt["body"])
        titles = ", ".join(item.get("title", "") for item in items) or "nothing"
        return HTMLResponse(
            f'{page_head("Added")}<body><h1 id="added">Added: {html.escape(titles)}</h1></body></html>'
        )

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_lms(tool_base: str, port: int | None = None) -> Iterator[TestLms]:
    """The LMS served on 127.0.0.1 in a thread for the duration of the block."""
    port = port or free_port()
    lms = TestLms(port, tool_base)
    server = uvicorn.Server(uvicorn.Config(lms_app(lms), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test LMS did not start")
        time.sleep(0.02)
    try:
        yield lms
    finally:
        server.should_exit = True
        thread.join(timeout=10)
