"""/api/docs: the API reference, rendered on the server from this app's own OpenAPI schema (app.web.api_reference);
/api/recipes: worked examples, docs/recipes.md rendered on the server (app.web.recipes_page).

No script and no inline style, so the strict Content-Security-Policy of every other page holds here too
(a vendored Swagger UI or Redoc needs 'unsafe-inline' or fails WCAG AA contrast)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.api_reference import reference
from app.web.lessons import page_context
from app.web.recipes_page import recipes
from app.web.templating import templates

router = APIRouter(include_in_schema=False)


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    ref = reference(request.app.openapi())
    context = page_context(request, "api-docs", f"{ref.title} reference", ref=ref)
    return templates.TemplateResponse(request, "api_docs.html", context)


@router.get("/api/recipes", response_class=HTMLResponse)
def api_recipes(request: Request) -> HTMLResponse:
    doc = recipes()
    context = page_context(request, "api-recipes", doc.title, doc=doc)
    return templates.TemplateResponse(request, "recipes.html", context)
