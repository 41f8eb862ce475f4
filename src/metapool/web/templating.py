"""The app's one Jinja2 environment: autoescape always on, the page context every template gets.

User text reaches pages only as template variables, never as template source, and autoescape is on
for every template whatever its file name; ``|safe`` is used only on HTML that metapool's own
renderers built with escaping (figures, the audit's highlighted text).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from .security import csrf_token

TEMPLATES = Path(__file__).parent / "templates"

#: The app's sections, in navigation order: (path, label).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("/", "Workspace"), ("/analysis", "Analyses"), ("/review", "Reviews"), ("/audit", "Audit a text"),
)


def page_context(request: Request) -> dict:
    """What every page knows: the CSP nonce, the CSRF token, the user, the navigation."""
    return {"csp_nonce": request.state.csp_nonce, "csrf_token": csrf_token(request),
            "user": request.session.get("user"), "role": request.session.get("role"),
            "team": request.app.state.team, "sections": SECTIONS}


def make_templates() -> Jinja2Templates:
    """The app's templates (autoescaped, undefined variables are errors, not empty text)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return Jinja2Templates(env=env, context_processors=[page_context])


def render(request: Request, name: str, context: dict | None = None, status: int = 200):
    """Render template ``name`` with the page context (the one way pages answer with HTML)."""
    return request.app.state.templates.TemplateResponse(request, name, context or {}, status_code=status)
