"""What a review gives the analysis: its PRISMA 2020 diagram and counts, and the study table.

The counts are :func:`metapool.review.prisma.prisma_counts` (checked box by box), drawn by
:func:`metapool.plots.prisma.prisma_plot` as the SVG that ``metapool review prisma`` writes; the study
table is the CSV of ``metapool review studies`` (:func:`metapool.cli.review.write_study_table`),
written in the review's folder of the workspace, offered as a download (to fill in the outcome columns)
and to the Analysis screen (``/analysis/setup?data=...``).
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ..security import read_form, require_role
from ..templating import render
from .review import open_folder, quote_path, review_command, review_context, run, run_long, text_field


#: The names "create the study table" gives its files in the review's folder.
_STUDY_FILE = re.compile(r"studies(-\d+)?\.csv")


def _svg(counts, title: str) -> str:
    from ...plots._style import pyplot
    from ...plots.export import figure_svg
    from ...plots.prisma import prisma_plot

    ax = prisma_plot(counts, title=title)
    try:
        return figure_svg(ax)
    finally:
        pyplot().close(ax.figure)


def _page(request: Request, review, rel: str, counts, command: str, written: str | None = None,
          studies: int | None = None):
    return render(request, "review_prisma.html", {
        **review_context(request, review, rel), "counts": counts, "written": written, "studies": studies,
        "svg_url": f"/review/prisma.svg?path={quote_path(rel)}",
        "analysis_url": f"/analysis/setup?data={quote_path(written)}" if written else None,
        "download_url": f"/review/studies.csv?path={quote_path(rel)}&file={quote_path(Path(written).name)}"
        if written else None,
        "reproduce": {"command": command}})


async def prisma(request: Request):
    from ...review.prisma import prisma_counts

    review, rel = open_folder(request, request.query_params.get("path"))
    counts = await run(prisma_counts, review)
    return _page(request, review, rel, counts, "\n".join([review_command(rel, "prisma", "-o", "prisma.svg", "--json"),
                                                          review_command(rel, "studies", "-o", "studies.csv")]))


async def download_studies(request: Request):
    """A study table of the review (``studies.csv``, ``studies-2.csv`` ...), sent as a file to fill in."""
    _, rel = open_folder(request, request.query_params.get("path"))
    name = request.query_params.get("file", "")
    target = request.app.state.workspace.inside(rel, name) if _STUDY_FILE.fullmatch(name) else None
    if target is None or not target.is_file():
        raise HTTPException(404, f"{name!r} is not a study table of this review.")
    return FileResponse(target, media_type="text/csv", filename=name)


async def prisma_svg(request: Request):
    from ...review.prisma import prisma_counts

    review, _ = open_folder(request, request.query_params.get("path"))
    counts = await run(prisma_counts, review)
    svg = await run(_svg, counts, review.config.title)
    return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})


async def study_table(request: Request):
    """Write the included studies as the extraction template in the review's folder; link it to a new analysis."""
    require_role(request, "lead")  # duplicates and the study table are the lead's (docs/web.md)
    from ...cli.review import write_study_table
    from ...io.outputs import check_output_file
    from ...review.prisma import prisma_counts

    form = await read_form(request)
    review, rel = open_folder(request, text_field(form, "path"))
    ws = request.app.state.workspace
    target = check_output_file(ws.new_name(rel, "studies", ".csv"), review.local_files)
    outcomes = text_field(form, "outcomes").split(",")
    n = await run_long(write_study_table, review, target, outcomes)
    counts = await run(prisma_counts, review)
    named = [o.strip() for o in outcomes if o.strip()]
    command = review_command(rel, "studies", "-o", target.name, *(["--outcomes", ",".join(named)] if named else []))
    return _page(request, review, rel, counts, command, written=ws.relative(target), studies=n)


ROUTES = [
    Route("/review/prisma", prisma, name="review_prisma"),
    Route("/review/prisma.svg", prisma_svg, name="review_prisma_svg"),
    Route("/review/studies", study_table, methods=["POST"]),
    Route("/review/studies.csv", download_studies),
]
