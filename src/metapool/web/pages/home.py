"""Screen 1, the workspace: the analyses and reviews in the served folder, with their state."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from ..templating import render


async def workspace(request: Request):
    ws = request.app.state.workspace
    return render(request, "workspace.html", {"root": str(ws.root), "analyses": ws.analyses(), "reviews": ws.reviews()})


ROUTES = [Route("/", workspace, name="workspace")]
