"""Screen 4, "Audit a text": paste or upload a text, see its reported numbers highlighted with each finding.

The page is an adapter over :func:`metapool.audit.audit`, the function ``metapool audit`` calls: the
text goes through the audit's own reader (:func:`metapool.audit.sources.text_of`: plain text, HTML,
DOCX, PDF), the findings are shown by the audit's renderer (:func:`metapool.audit.render.highlight_html`,
which escapes every piece of the text), and nothing here checks a number. The audited text and the
findings (JSON) are kept in the workspace's ``audits/`` folder, so that the reproduce box's command
(``metapool audit audits/NAME.txt --json``) gives the same result on the command line.
"""

from __future__ import annotations

import json
import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from ...cli.run import shell_word
from ...exceptions import MetapoolError
from ..security import read_form
from ..templating import render
from ..uploads import TEXT_SUFFIXES, display_name, save_upload
from ..workspace import Workspace

#: The workspace folder of audited texts and their findings.
AUDITS = "audits"

#: Names of the files the download route serves (the app made them: a slug and a suffix).
_DOWNLOADABLE = re.compile(r"[a-z0-9][a-z0-9-]{0,60}\.json")


def _form(request: Request, *, text: str = "", data: str = "", error: str | None = None, status: int = 200):
    ws: Workspace = request.app.state.workspace
    return render(request, "audit.html", {
        "text": text, "data": data, "error": error, "analyses": ws.analyses(), "accept": ",".join(sorted(TEXT_SUFFIXES)),
        "result": None}, status)


async def audit_form(request: Request):
    return _form(request)


async def audit_text(request: Request):
    from ...audit.pipeline import audit
    from ...audit.render import highlight_html, summary_line
    from ...audit.sources import text_of

    ws: Workspace = request.app.state.workspace
    form = await read_form(request, max_files=1)
    pasted = str(form.get("text", ""))
    data_choice = str(form.get("data", ""))
    upload = form.get("file")
    upload = upload if isinstance(upload, UploadFile) and upload.filename else None
    analyses = {a.path: a for a in ws.analyses()}
    if data_choice and data_choice not in analyses:  # only an analysis file the page listed
        return _form(request, text=pasted, error="Choose an analysis file from the list.", status=400)
    if upload is None and not pasted.strip():
        return _form(request, text=pasted, data=data_choice, error="Paste a text or choose a file to audit.", status=400)
    path = None
    try:
        if upload is not None:
            path = await save_upload(upload, ws, AUDITS, TEXT_SUFFIXES, max_bytes=request.app.state.limits.file_bytes)
            source = display_name(upload)
        else:
            path = ws.new_name(AUDITS, "pasted-text", ".txt")
            path.write_text(pasted, encoding="utf-8")
            source = "pasted text"
        text = await run_in_threadpool(text_of, path.read_bytes(), source)
        data = ws.inside(data_choice) if data_choice else None
        result = await run_in_threadpool(lambda: audit(text, data=data, source=source))
    except MetapoolError as exc:
        if path is not None:  # a text the audit could not read is not kept
            path.unlink(missing_ok=True)
        return _form(request, text=pasted, data=data_choice, error=str(exc), status=400)
    findings = path.with_suffix(".json")
    findings = ws.new_name(AUDITS, path.stem, ".json") if findings.exists() else findings
    findings.write_text(json.dumps(result.to_dict(), indent=2), encoding="utf-8")
    command = " ".join(["metapool audit", shell_word(ws.relative(path)),
                        *(["--data", shell_word(data_choice)] if data_choice else []), "--json"])
    return render(request, "audit.html", {
        "text": pasted, "data": data_choice, "error": None, "analyses": list(analyses.values()),
        "accept": ",".join(sorted(TEXT_SUFFIXES)),
        "result": {"summary": summary_line(result), "flagged": result.flagged, "fragment": highlight_html(result),
                   "source": source, "json": findings.name, "saved": ws.relative(path), "command": command}})


async def audit_download(request: Request):
    """The findings of an audit of this workspace, as JSON (only files the page wrote)."""
    name = request.path_params["name"]
    ws: Workspace = request.app.state.workspace
    if not _DOWNLOADABLE.fullmatch(name):
        raise HTTPException(404, "There is no such audit.")
    path = ws.inside(AUDITS, name)
    if not path.is_file() or path.is_symlink():
        raise HTTPException(404, "There is no such audit.")
    return FileResponse(path, media_type="application/json", filename=name)


async def audit_stylesheet(request: Request):
    """The audit renderer's stylesheet, served as a file (the app's policy allows no inline style)."""
    from ...audit.render import stylesheet

    return Response(stylesheet(), media_type="text/css", headers={"cache-control": "no-cache"})


ROUTES = [
    Route("/audit", audit_form, methods=["GET"], name="audit"),
    Route("/audit", audit_text, methods=["POST"]),
    Route("/audit/style.css", audit_stylesheet, methods=["GET"]),
    Route("/audit/download/{name}", audit_download, methods=["GET"]),
]
