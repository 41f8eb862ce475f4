"""Screen 5, the evidence card page: a run's card as a clean static page, and as one HTML file to share.

The page is the run's ``card.html`` itself, as :func:`metapool.report.render.render_card` wrote it
(``metapool run`` writes the same file): styles inline, no script, no figure, no external resource,
so the page and the downloaded file are the same bytes. It reads on a phone and prints on one sheet
(the card template's small-screen and print rules). It is served with
:data:`~metapool.web.security.OUTPUT_CSP` and the ``sandbox`` directive, at a URL that stays the
run's: ``/card?run=runs/<analysis>/<n>``; ``&download=1`` saves it as one file. The results page of
the run (``/analysis/result?run=…``) shows the same card beside the command that reproduces it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from .analysis import output_response, run_file, run_folder


def card_page(request: Request):
    ws = request.app.state.workspace
    run = run_folder(ws, request.query_params.get("run"))
    name = f"evidence-card-{ws.slug(ws.relative(run), 'report')}.html"
    return output_response(request, run_file(run, "card.html"), request.query_params.get("download") == "1", name)


ROUTES = [Route("/card", card_page, name="card")]
