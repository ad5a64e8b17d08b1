"""The LTI routes, all under /lti (app.http.security lets the registered platforms frame them):

    GET|POST /lti/login        OIDC login initiation          -> 302 to the platform's authorization endpoint
    POST     /lti/launch       the platform's id_token post   -> 303 to the page's /embed form, or the picker
    GET      /lti/picker/ID    the deep-linking picker with another preview (works without JavaScript)
    POST     /lti/deep-link    the picker's answer            -> auto-posted LtiDeepLinkingResponse
    GET      /lti/jwks         the tool's public keys
    GET      /lti              the admin page: the tool's URLs and the registered platforms
    GET      /lti/register     LTI Dynamic Registration (app.lti.registration)

Nothing after the launch needs a cookie: the launch id travels in the page's URL and the picker's form.
Scores are never taken from the browser: an exercise page computes its own and posts it to the launch's
gradebook column (app.web.exercise_routes -> app.lti.ags.submit_score).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from app.http.security import content_security_policy
from app.lti import ags, deep_linking, registration
from app.lti.errors import LtiError
from app.lti.launch import MESSAGE_TYPE, validate_launch
from app.lti.login import authorization_redirect
from app.lti.pages import page, refused
from app.lti.service import LtiService
from app.lti.targets import Choice, TargetError, choices, framed_url, target_url

STATIC = Path(__file__).resolve().parent / "static"
STATIC_FILES = {
    "lti.css": "text/css",
    "picker.js": "text/javascript",
    "autosubmit.js": "text/javascript",
    "register.js": "text/javascript",
}
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"

router = APIRouter(prefix="/lti", include_in_schema=False)


def service(request: Request) -> LtiService:
    return request.app.state.lti  # type: ignore[no-any-return]


async def _params(request: Request) -> dict[str, str]:
    """Query and form fields in one mapping (an OIDC step may arrive as GET or as POST)."""
    params = dict(request.query_params)
    if request.method == "POST":
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


@router.api_route("/login", methods=["GET", "POST"])
async def login(request: Request) -> Response:
    lti = service(request)
    params = await _params(request)
    urls = lti.urls(str(request.base_url))
    try:
        url = await run_in_threadpool(authorization_redirect, params, lti.store, urls.launch)
    except LtiError as exc:
        return refused(exc.status, exc.reason)
    return RedirectResponse(url, status_code=302)


@router.post("/launch")
async def launch(request: Request) -> Response:
    lti = service(request)
    form = await _params(request)
    try:
        platform, claims = await run_in_threadpool(validate_launch, form, lti.store, lti.platform_keys)
        launch_id = secrets.token_urlsafe(24)
        await run_in_threadpool(lti.store.save_launch, launch_id, claims)
        if claims[MESSAGE_TYPE] == "LtiDeepLinkingRequest":
            deep_linking.settings_of(claims)
            return picker(launch_id, choices()[0])
        target = target_url(claims.get(CUSTOM))
    except LtiError as exc:
        return refused(exc.status, exc.reason)
    except TargetError as exc:
        return refused(422, str(exc))
    return RedirectResponse(framed_url(target, launch_id), status_code=303)


def picker(
    launch_id: str,
    selected: Choice,
    title: str = "",
    graded: bool = False,
    error: str = "",
    status: int = 200,
) -> Response:
    groups: dict[str, list[Choice]] = {}
    for choice in choices():
        groups.setdefault(choice.group, []).append(choice)
    return page(
        "picker.html",
        status=status,
        title="Add Unrolled to your course",
        launch=launch_id,
        groups=list(groups.items()),
        selected=selected,
        item_title=title or selected.label,
        graded=graded,
        error=error,
    )


def _choice(url: str) -> Choice | None:
    return next((c for c in choices() if c.url == url), None)


async def _deep_link_launch(request: Request, launch_id: str) -> dict:
    claims = await run_in_threadpool(service(request).store.launch, launch_id)
    if claims is None:
        raise LtiError(404, "This deep-linking session is unknown: start again from the course.")
    deep_linking.settings_of(claims)
    return claims


@router.get("/picker/{launch_id}")
async def picker_preview(request: Request, launch_id: str) -> Response:
    try:
        await _deep_link_launch(request, launch_id)
    except LtiError as exc:
        return refused(exc.status, exc.reason)
    q = request.query_params
    selected = _choice(q.get("choice", "")) or choices()[0]
    return picker(launch_id, selected, q.get("title", "")[:200], q.get("graded") == "1")


@router.post("/deep-link")
async def deep_link(request: Request) -> Response:
    lti = service(request)
    form = await _params(request)
    launch_id = form.get("launch", "")
    try:
        claims = await _deep_link_launch(request, launch_id)
        platform = await run_in_threadpool(lti.store.find_platform, claims["iss"], ags.client_id_of(claims))
        if platform is None:
            raise LtiError(403, "The platform of this session is no longer registered.")
        items = []
        ungraded_note = ""
        if form.get("action") != "cancel":
            chosen = _choice(form.get("choice", ""))
            if chosen is None:
                return picker(launch_id, choices()[0], error="Choose a view or a lesson step.", status=422)
            title = form.get("title", "").strip()[:200] or chosen.label
            launch_url = lti.urls(str(request.base_url)).launch
            graded = chosen.max_score if form.get("graded") == "1" else 0
            items.append(deep_linking.content_item(chosen.url, title, launch_url, graded))
            if form.get("graded") == "1" and not graded:
                ungraded_note = " It is not graded: only exercise sets have a score."
        token = await run_in_threadpool(deep_linking.response_jwt, platform, claims, items, lti.keys)
    except LtiError as exc:
        return refused(exc.status, exc.reason)
    return_url = deep_linking.settings_of(claims)["deep_link_return_url"]
    origin = urlsplit(return_url)
    csp = content_security_policy(" ".join(("'self'", *lti.frame_ancestors()))).replace(
        "form-action 'self'", f"form-action 'self' {origin.scheme}://{origin.netloc}"
    )
    return page(
        "return.html",
        headers={"content-security-policy": csp},
        title="Back to the course",
        return_url=return_url,
        jwt=token,
        message="No activity was added."
        if not items
        else f"Adding “{items[0]['title']}” to the course.{ungraded_note}",
    )


@router.get("/jwks")
async def jwks(request: Request) -> JSONResponse:
    keys = await run_in_threadpool(service(request).keys.jwks)
    return JSONResponse(keys, headers={"cache-control": "public, max-age=300"})


@router.get("")
async def admin(request: Request) -> Response:
    lti = service(request)
    urls = lti.urls(str(request.base_url))
    platforms = await run_in_threadpool(lti.store.platforms)
    return page(
        "admin.html",
        title="Unrolled as an LTI 1.3 tool",
        urls=[
            ("OIDC login initiation URL", urls.login),
            ("Target link URI / redirect URI (launch and deep linking)", urls.launch),
            ("Public keyset (JWKS) URL", urls.jwks),
            ("Dynamic registration URL", urls.registration),
        ],
        platforms=platforms,
    )


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return JSONResponse({"detail": "not found"}, status_code=404)
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name])


router.include_router(registration.router)
