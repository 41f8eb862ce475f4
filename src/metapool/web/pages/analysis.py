"""Screen 2, analyses: upload a study table, map its columns, choose the methods, run, read the results.

The steps are those of the command line, with the same functions: the column guesses are
:func:`metapool.cli.detect.detect_outcomes` and :func:`~metapool.cli.detect.detect_study_columns`
(as ``metapool init``), the analysis file is written by :func:`metapool.cli.run.analysis_template`
(the one writer of analysis files) and checked by :func:`metapool.spec.parse_spec`, a run is
``metapool run`` in the background (:mod:`metapool.web.jobs`), and the results page shows results.json,
the run's evidence card, figures and the report's plain-language tables. Choices (kinds, measures,
methods, tests) and their explanations come from the registries.

Routes (``path`` is an analysis file, ``run`` a run folder, both relative to the workspace; anything
outside it is refused with 400, anything else that is not one with 404):

- ``GET /analysis``, ``GET /analysis/new``: the analyses and the upload form; ``POST /analysis/new``
  saves the table into ``uploads/`` (:func:`metapool.web.uploads.save_upload`).
- ``GET /analysis/setup?data=…`` (new) or ``GET /analysis/edit?path=…``: column mapping and outcome
  options; ``POST /analysis/setup`` adds an outcome or writes the analysis file.
- ``GET /analysis/view?path=…``, ``GET /analysis/open?path=…`` (the latest run, else the view):
  the analysis and its runs; ``POST /analysis/run`` queues a run; ``GET /analysis/job/{id}`` and
  its ``/progress`` fragment follow it.
- ``GET /analysis/result?run=…``: results; ``GET /analysis/file?run=…&name=…`` serves one file of the
  run, ``GET /analysis/zip?run=…`` the whole run as one zip.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from ...cli.run import STUDY_COLUMNS, shell_word
from ...exceptions import MetapoolError
from ..fields import whole_number
from ..jobs import Jobs, read_sidecar, run_command
from ..security import OUTPUT_CSP, read_form
from ..templating import render
from ..uploads import TABLE_SUFFIXES, display_name, read_uploaded_table, save_upload
from ..workspace import RUNS, UPLOADS, Workspace

#: Study-level keys of the mapping form with what each holds (those of ``metapool init``'s template).
STUDY_FIELDS = {key: text for key, (_, text) in STUDY_COLUMNS.items()}
#: What the analysis file says wrote it.
WRITTEN_BY = "the web app (metapool serve)"
#: Files of a run offered for download, with their labels.
DOWNLOADS = (("report.html", "Report (HTML)"), ("results.json", "Results (JSON)"),
             ("effect_sizes.csv", "Effect sizes (CSV)"), ("card.html", "Evidence card (HTML)"),
             ("card.md", "Evidence card (Markdown)"))
#: Media types of the files a run holds; any other file is offered as a download only.
MEDIA = {".html": "text/html; charset=utf-8", ".json": "application/json", ".csv": "text/csv; charset=utf-8",
         ".md": "text/markdown; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
         ".toml": "text/plain; charset=utf-8", ".docx": "application/octet-stream"}


# ---------------------------------------------------------------- paths


def _ws(request: Request) -> Workspace:
    return request.app.state.workspace


def _jobs(request: Request) -> Jobs:
    state = request.app.state
    if not hasattr(state, "jobs"):
        state.jobs = Jobs(state.workspace)
    return state.jobs


def analysis_file(ws: Workspace, value: str | None) -> Path:
    """The analysis file ``value`` names (400 outside the workspace, 404 when it is not an analysis file)."""
    if not value:
        raise HTTPException(404, "No analysis file was named.")
    path = ws.inside(value)
    if path.suffix != ".toml" or not path.is_file() or ws.relative(path) not in {a.path for a in ws.analyses()}:
        raise HTTPException(404, f"{value!r} is not an analysis file of this workspace.")
    return path


def is_report(folder: Path) -> bool:
    """Whether ``folder`` is a report metapool wrote (its marker and results.json; not a link, not a hidden folder)."""
    from ...io.outputs import MARKER

    return (folder.is_dir() and not folder.is_symlink() and not folder.name.startswith(".")
            and (folder / MARKER).is_file() and (folder / "results.json").is_file())


def run_folder(ws: Workspace, value: str | None) -> Path:
    """The run folder ``value`` names: a report folder inside the workspace (else 400 or 404).

    The app's runs are ``runs/<analysis>/<n>``; a folder ``metapool run`` or ``metapool demo`` wrote
    elsewhere in the workspace opens the same way (without the app's tables and edit buttons).
    """
    if not value:
        raise HTTPException(404, "No run was named.")
    path = ws.inside(value)
    if not is_report(path):
        raise HTTPException(404, f"{value!r} is not a report folder of this workspace.")
    return path


def reports(ws: Workspace) -> list[dict]:
    """Report folders up to two levels down that are not the app's runs (e.g. ``out/demo`` of ``make demo``)."""
    found = []
    for folder in sorted({ws.root, *ws.root.glob("*"), *ws.root.glob("*/*")}):
        if folder.name in (RUNS, UPLOADS) or ws.relative(folder).startswith(f"{RUNS}/") or not is_report(folder):
            continue
        try:
            title = json.loads((folder / "results.json").read_text(encoding="utf-8")).get("title", folder.name)
        except (OSError, ValueError):
            continue
        found.append({"path": ws.relative(folder) or ".", "title": title})
    return found


def run_file(run: Path, name: str | None) -> Path:
    """File ``name`` of run folder ``run``: a regular file inside it (never a folder listing), else 404."""
    if not name:
        raise HTTPException(404, "No file was named.")
    path = (run / name).resolve()
    if run not in path.parents or not path.is_file():
        raise HTTPException(404, f"{name!r} is not a file of this run.")
    return path


def _analysis_of_run(ws: Workspace, run: Path) -> Path | None:
    sidecar = read_sidecar(run) or {}
    try:
        return analysis_file(ws, sidecar.get("analysis"))
    except (HTTPException, MetapoolError):
        return None


# ---------------------------------------------------------------- upload


def index(request: Request):
    ws = _ws(request)
    return render(request, "analysis_index.html", {"analyses": ws.analyses(), "suffixes": sorted(TABLE_SUFFIXES),
                                                    "reports": reports(ws),
                                                    "reproduce": _reproduce_init()})


def _reproduce_init(data: str = "STUDIES.csv") -> dict:
    return {"command": f"metapool init {shell_word(data)} -o analysis.toml\nmetapool run analysis.toml -o OUT",
            "note": "The same steps from the command line: a template analysis file from the table's columns, "
                    "then the run."}


async def upload(request: Request):
    form = await read_form(request, max_files=1)
    file = form.get("table")
    if file is None or isinstance(file, str) or not file.filename:
        raise MetapoolError("Choose a study table to upload (CSV, TSV or XLSX).")
    ws = _ws(request)
    path = await save_upload(file, ws, UPLOADS, TABLE_SUFFIXES, max_bytes=request.app.state.limits.file_bytes)
    try:
        await run_in_threadpool(read_uploaded_table, path, request.app.state.limits, display_name(file))  # refused now
    except MetapoolError:
        path.unlink(missing_ok=True)
        raise
    return RedirectResponse("/analysis/setup?" + urlencode({"data": ws.relative(path)}), 303)


# ---------------------------------------------------------------- mapping and options


def _table(request: Request, data: str | None):
    if not data:
        raise HTTPException(404, "No study table was named.")
    path = _ws(request).inside(data)
    if path.suffix.lower() not in TABLE_SUFFIXES or not path.is_file():
        raise HTTPException(404, f"{data!r} is not a study table of this workspace.")
    return path, read_uploaded_table(path, request.app.state.limits)


def kind_keys(kind: str) -> tuple:
    """Every column key an outcome of ``kind`` can have (its alternatives' keys, then its optional ones)."""
    from ...spec import KINDS, OPTIONAL_COLUMNS

    keys = [k for alt in KINDS[kind]["columns"] for k in alt]
    return tuple(dict.fromkeys([*keys, *OPTIONAL_COLUMNS.get(kind, ())]))


def measure_choices(kind: str) -> list[tuple[str, str]]:
    """(code, explanation) of the measures an outcome of ``kind`` can use: those of its columns' data families."""
    from ...columns import default_measure
    from ...effect_sizes import MEASURES
    from ...spec import COLUMN_ROLES, KINDS

    defaults = [default_measure({COLUMN_ROLES[k] for k in alt if k in COLUMN_ROLES}) for alt in KINDS[kind]["columns"]]
    families = {MEASURES[m].family for m in defaults if m is not None}
    return [(code, f"{m.name} [{m.family}]") for code, m in MEASURES.items() if m.family in families]


def _choices() -> dict:
    """The registries' vocabularies for the form, with their explanations (as ``metapool list`` shows them)."""
    from ...cli.options import vocabulary
    from ...columns import COLUMN_FLAGS
    from ...spec import KINDS

    return {"kinds": {k: v["text"] for k, v in KINDS.items()},
            "methods": vocabulary("methods"), "tests": vocabulary("tests"),
            "columns": {key.replace("-", "_"): text for key, (_, text) in COLUMN_FLAGS.items()},
            "measures": {kind: measure_choices(kind) for kind in KINDS},
            "keys": {kind: kind_keys(kind) for kind in KINDS}}


def _blank(kind: str, name: str = "", columns: dict | None = None, source: int = -1) -> dict:
    return {"name": name, "kind": kind, "columns": dict(columns or {}), "measure": "", "method": "REML", "test": "z",
            "level": "95", "bias": True, "sensitivity": True, "keep": True, "source": source}


def _guessed(table) -> tuple[dict, list]:
    from ...cli.detect import detect_outcomes, detect_study_columns

    found = detect_study_columns(table)
    return ({k: found.get(k) or "" for k in STUDY_FIELDS},
            [_blank(d.kind, d.name, dict(d.columns)) for d in detect_outcomes(table)])


def _from_file(path: Path) -> tuple[str, str, dict, list]:
    """Title, data, study columns and outcomes of an existing analysis file, as the form holds them."""
    from ...spec import load_spec

    spec = load_spec(path)
    study = {k: (getattr(spec, k) if isinstance(getattr(spec, k), str) else "") or "" for k in STUDY_FIELDS}
    outcomes = []
    for i, o in enumerate(spec.outcomes):
        item = _blank(o.kind, o.name, o.columns, i)
        item.update(measure=o.measure or "", method=o.method, test=o.test, level=f"{o.level:g}", bias=o.bias,
                    sensitivity=o.sensitivity)
        outcomes.append(item)
    return spec.title, spec.data, study, outcomes


def _from_form(form) -> tuple[dict, list]:
    from ...spec import KINDS

    study = {k: str(form.get(k) or "") for k in STUDY_FIELDS}
    outcomes = []
    count = whole_number(form.get("outcomes")) or 0
    for i in range(min(count, 200)):
        kind = str(form.get(f"o{i}_kind") or "")
        if kind not in KINDS:
            continue
        source = str(form.get(f"o{i}_source") or "")
        item = _blank(kind, str(form.get(f"o{i}_name") or ""),
                      {k: str(form.get(f"o{i}_col_{k}") or "") for k in kind_keys(kind)},
                      -1 if whole_number(source) is None else whole_number(source))
        item.update({k: str(form.get(f"o{i}_{k}") or "") for k in ("measure", "method", "test", "level")},
                    bias=form.get(f"o{i}_bias") == "on", sensitivity=form.get(f"o{i}_sensitivity") == "on",
                    keep=form.get(f"o{i}_keep") == "on")
        outcomes.append(item)
    return study, outcomes


def _setup_page(request: Request, data: str, table, title: str, study: dict, outcomes: list, path: str = "",
                error: str = "", status: int = 200):
    return render(request, "analysis_setup.html", {
        "data": data, "path": path, "title": title, "study": study, "outcomes": outcomes, "error": error,
        "columns": list(table), "n_rows": table.n_rows, "notes": table.notes, "choices": _choices(),
        "study_fields": STUDY_FIELDS, "reproduce": _reproduce_init(data)}, status)


def setup(request: Request):
    data = request.query_params.get("data")
    _, table = _table(request, data)
    study, outcomes = _guessed(table)
    if not outcomes:
        outcomes = [_blank("proportion", "Outcome 1")]
    return _setup_page(request, data, table, Path(data).stem.replace("_", " ").capitalize(), study, outcomes)


def edit(request: Request):
    ws = _ws(request)
    path = analysis_file(ws, request.query_params.get("path"))
    title, data, study, outcomes = _from_file(path)
    data_path = (path.parent / data).resolve()
    rel_data = ws.relative(ws.inside(ws.relative(data_path))) if ws.root in data_path.parents else None
    if rel_data is None:
        raise MetapoolError(f"{ws.relative(path)}: its data file {data!r} is outside the workspace; edit the file"
                            " itself (the app only reads tables inside the workspace).")
    _, table = _table(request, rel_data)
    return _setup_page(request, rel_data, table, title, study, outcomes, ws.relative(path))


def _outcome_options(item: dict, extra: dict) -> tuple:
    """The outcome's option keys for the analysis file: the form's choices, then keys the form does not show."""
    options = [("measure", item["measure"])] if item["measure"] else []
    options += [("method", item["method"]), ("test", item["test"])]
    try:
        options.append(("level", float(item["level"]) if "." in item["level"] else int(item["level"])))
    except ValueError:
        raise MetapoolError(f"Outcome {item['name']!r}: the confidence level must be a number such as 95;"
                            f" got {item['level']!r}.") from None
    options += [("bias", item["bias"]), ("sensitivity", item["sensitivity"])]
    shown = {"name", "kind", "measure", "method", "test", "level", "bias", "sensitivity", *kind_keys(item["kind"])}
    return tuple(options + [(k, v) for k, v in extra.items() if k.replace("-", "_") not in shown])


def _file_extras(path: Path | None) -> tuple[tuple, list]:
    """Keys of an existing analysis file that the form does not show: top-level pairs, and each outcome's keys."""
    from ...io.settings import parse_toml

    if path is None:
        return (), []
    raw = parse_toml(path.read_text(encoding="utf-8"), path.name)
    shown = {"title", "data", "defaults", "outcome", *STUDY_FIELDS} - ({"study"} if isinstance(raw.get("study"), list)
                                                                     else set())  # labels joined from columns: kept
    top = tuple((k, v) for k, v in raw.items() if k.replace("-", "_") not in shown)
    return top, [o for o in raw.get("outcome", []) if isinstance(o, dict)]


def write_analysis(ws: Workspace, target: Path, data: Path, table, title: str, study: dict, outcomes: list,
                   existing: Path | None = None) -> Path:
    """Write the analysis file of the form into ``target`` (checked by :func:`metapool.spec.parse_spec` first).

    The text is :func:`metapool.cli.run.analysis_template`'s (the writer of ``metapool init``), with
    the user's columns and options; keys of an ``existing`` file that the form does not show (subgroups,
    moderators, GRADE keys, ``synthetic``...) are kept.
    """
    from ...cli.detect import Detected
    from ...cli.run import analysis_template
    from ...io.outputs import atomic_file, check_output_file
    from ...spec import parse_spec

    top, raw_outcomes = _file_extras(existing)
    detected = []
    for item in outcomes:
        if not item["keep"]:
            continue
        columns = tuple((k, item["columns"][k]) for k in kind_keys(item["kind"]) if item["columns"].get(k))
        for key, column in columns:
            if column not in table:
                raise MetapoolError(f"Outcome {item['name']!r}: column {column!r} ({key}) is not in the table.")
        extra = raw_outcomes[item["source"]] if 0 <= item["source"] < len(raw_outcomes) else {}
        detected.append(Detected(item["kind"], item["name"].strip() or "Outcome", columns, WRITTEN_BY,
                                 _outcome_options(item, extra)))
    if not detected:
        raise MetapoolError("Keep at least one outcome (tick “Include”).")
    for key, column in study.items():
        if column and column not in table:
            raise MetapoolError(f"Column {column!r} ({key}) is not in the table.")
    found = {k: (v or None) for k, v in study.items()}
    relative = Path(os.path.relpath(data, target.parent)).as_posix()
    text = analysis_template(relative, ws.relative(target), table, tuple(detected), found,
                             title.strip() or "Meta-analysis", WRITTEN_BY, top)
    spec = parse_spec(text, target.name, target.parent)  # refused here, with the key, before anything is written
    spec.check_columns(list(table))
    out = check_output_file(target, inputs=[data])
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


async def save(request: Request):
    form = await read_form(request)
    return await run_in_threadpool(_save, request, form)  # reads the table, writes the file: off the event loop


def _save(request: Request, form):
    ws = _ws(request)
    data = str(form.get("data") or "")
    data_path, table = _table(request, data)
    study, outcomes = _from_form(form)
    title, path = str(form.get("title") or ""), str(form.get("path") or "")
    existing = analysis_file(ws, path) if path else None
    if form.get("action") == "add":
        kind = str(form.get("add_kind") or "")
        if kind in _choices()["kinds"]:
            outcomes.append(_blank(kind, f"Outcome {len(outcomes) + 1}"))
        return _setup_page(request, data, table, title, study, outcomes, path)
    target = existing or ws.new_name(".", title or "analysis", ".toml")
    try:
        written = write_analysis(ws, target, data_path, table, title, study, outcomes, existing)
    except MetapoolError as exc:
        return _setup_page(request, data, table, title, study, outcomes, path, str(exc), 400)
    return RedirectResponse("/analysis/view?" + urlencode({"path": ws.relative(written)}), 303)


# ---------------------------------------------------------------- the analysis, its runs


def _run_entry(ws: Workspace, run: Path) -> dict:
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    return {"path": ws.relative(run), "number": run.name, "created": results.get("created", ""),
            "outcomes": len(results.get("outcomes", []))}


def view(request: Request):
    from ...spec import load_spec

    ws = _ws(request)
    path = analysis_file(ws, request.query_params.get("path"))
    rel = ws.relative(path)
    error, spec = "", None
    try:
        spec = load_spec(path)
    except MetapoolError as exc:
        error = str(exc)
    runs = [_run_entry(ws, r) for r in reversed(ws.runs_of(path))]
    return render(request, "analysis_view.html", {
        "path": rel, "spec": spec, "error": error, "runs": runs, "text": path.read_text(encoding="utf-8"),
        "reproduce": {"command": run_command(rel, "OUT"),
                      "files": [(rel, "/analysis/source?" + urlencode({"path": rel}))],
                      "note": "Run this analysis file from the command line (OUT: a new or empty folder):"}})


def source(request: Request):
    ws = _ws(request)
    path = analysis_file(ws, request.query_params.get("path"))
    return _download(path.read_bytes(), path.name, "text/plain; charset=utf-8")


def open_analysis(request: Request):
    ws = _ws(request)
    path = analysis_file(ws, request.query_params.get("path"))
    runs = ws.runs_of(path)
    if runs:
        return RedirectResponse("/analysis/result?" + urlencode({"run": ws.relative(runs[-1])}), 303)
    return RedirectResponse("/analysis/view?" + urlencode({"path": ws.relative(path)}), 303)


async def start_run(request: Request):
    ws = _ws(request)
    form = await read_form(request)
    path = await run_in_threadpool(analysis_file, ws, str(form.get("path") or ""))
    job = _jobs(request).start(path)
    return RedirectResponse(f"/analysis/job/{job.id}", 303)


def _job(request: Request):
    job = _jobs(request).get(request.path_params["job"])
    if job is None:
        raise HTTPException(404, "No such run in progress (a restarted server forgets the runs it was doing; "
                                 "an unfinished run is not listed and can be started again).")
    return job


def job_page(request: Request):
    job = _job(request)
    return render(request, "analysis_job.html", {"job": job, "reproduce": {
        "command": run_command(job.analysis, job.run or "OUT"),
        "note": "This run, from the command line:"}})


def job_progress(request: Request):
    job = _job(request)
    response = render(request, "analysis_progress.html", {"job": job})
    if job.state == "done" and request.headers.get("hx-request"):
        response.headers["HX-Redirect"] = "/analysis/result?" + urlencode({"run": job.run})
    return response


# ---------------------------------------------------------------- results


def summary_rows(results: dict) -> list[dict]:
    """One row per outcome from results.json: the estimate with its CI as the card writes it, k, N and I²
    (the columns of ``metapool run``'s printed summary)."""
    from ...formatting.numbers import fmt_percent

    card = {r["outcome"]: r for r in results.get("card", {}).get("outcomes", [])}
    rows = []
    for o in results.get("outcomes", []):
        row = card.get(o["name"], {})
        i2 = (o.get("model") or {}).get("i2")
        rows.append({"name": o["name"], "error": o.get("error") or "", "estimate": row.get("estimate", ""),
                     "k": f"{o['k']:,}", "n": "–" if o.get("n_patients") is None else f"{o['n_patients']:,}",
                     "i2": "–" if i2 is None else fmt_percent(i2)})
    return rows


def result(request: Request):
    ws = _ws(request)
    run = run_folder(ws, request.query_params.get("run"))
    rel = ws.relative(run)
    results = json.loads((run / "results.json").read_text(encoding="utf-8"))
    sidecar = read_sidecar(run)
    analysis = _analysis_of_run(ws, run)
    q = {"run": rel}
    files = [(label, "/analysis/file?" + urlencode(q | {"name": name, "download": "1"}))
             for name, label in DOWNLOADS if (run / name).is_file()]
    if sidecar:
        files.append(("Analysis file as run (TOML)", "/analysis/file?" + urlencode(q | {"name": "analysis.toml",
                                                                                        "download": "1"})))
    files.append(("Everything (zip)", "/analysis/zip?" + urlencode(q)))
    return render(request, "analysis_result.html", {
        "run": rel, "number": run.name, "results": results, "summary": summary_rows(results), "sidecar": sidecar,
        "panels": outcome_panels(sidecar, run),
        "analysis": ws.relative(analysis) if analysis else "", "downloads": files,
        "q": urlencode(q),
        "reproduce": {"command": sidecar["command"] if sidecar else run_command("ANALYSIS.toml", rel),
                      "files": files[:-1], "note": "This run, from the command line (the analysis file as it was run"
                                                   " is among the downloads):"}})


def outcome_panels(sidecar: dict | None, run: Path) -> list[dict]:
    """Each outcome's plain-language tables, each followed by its figures, as the report places them
    (:func:`metapool.report.plain.figure_sections`); from the run's ``<n>.json`` (none for a run made elsewhere)."""
    from types import SimpleNamespace

    from ...report.plain import PlainTable, figure_sections

    panels = []
    for o in (sidecar or {}).get("outcomes", []):
        tables = [PlainTable(t["title"], tuple(t["header"]), tuple(tuple(r) for r in t["rows"]), t["note"], t["anchor"])
                  for t in o["tables"]]
        figures = [SimpleNamespace(**f) for f in o["figures"] if (run / f["file"]).is_file()]
        sections = figure_sections(figures, tables)
        blocks = [(t, sections.get(t.anchor, []) if t.anchor not in [b.anchor for b in tables[:i]] else [])
                  for i, t in enumerate(tables)]
        panels.append({"name": o["name"], "error": o["error"], "influence": o["influence"], "blocks": blocks,
                       "loose": [] if tables else figures})
    return panels


def _download(content: bytes, name: str, media: str) -> Response:
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "download"
    return Response(content, media_type=media, headers={"Content-Disposition": f'attachment; filename="{safe}"'})


def output_response(request: Request, path: Path, download: bool, name: str | None = None) -> Response:
    """A run's file: as a download, or shown with :data:`~metapool.web.security.OUTPUT_CSP` (no script runs)."""
    media = MEDIA.get(path.suffix.lower(), "application/octet-stream")
    if download or path.suffix.lower() not in (".html", ".svg", ".png", ".json", ".md", ".csv"):
        return _download(path.read_bytes(), name or path.name, media)
    request.scope.setdefault("state", {})["output_file"] = True
    return FileResponse(path, media_type=media, headers={"Content-Security-Policy": OUTPUT_CSP + "; sandbox"})


def run_file_route(request: Request):
    ws = _ws(request)
    run = run_folder(ws, request.query_params.get("run"))
    name = request.query_params.get("name")
    download = request.query_params.get("download") == "1"
    if name == "analysis.toml":  # the analysis file as it was run, kept beside the folder
        sidecar = read_sidecar(run)
        if not sidecar:
            raise HTTPException(404, "This run was not made by the app; its analysis file is not kept beside it.")
        return _download(sidecar["analysis_text"].encode("utf-8"), Path(sidecar["analysis"]).name, MEDIA[".toml"])
    return output_response(request, run_file(run, name), download)


def _zip_chunks(run: Path, sidecar: dict | None):
    """The run folder as a zip, produced while it is sent (zipfile writes to a stream without seeking)."""
    buffer = _Pipe()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(run.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, f"{run.name}/{path.relative_to(run).as_posix()}")
                yield buffer.take()
        if sidecar:
            archive.writestr(f"{run.name}/{Path(sidecar['analysis']).name}", sidecar["analysis_text"])
    yield buffer.take()


class _Pipe(io.RawIOBase):
    """A write-only stream whose bytes are taken away as they come (for :func:`_zip_chunks`)."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self._chunks.append(bytes(b))
        return len(b)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def run_zip(request: Request):
    ws = _ws(request)
    run = run_folder(ws, request.query_params.get("run"))
    name = f"{ws.slug(ws.relative(run), 'report')}.zip"
    return StreamingResponse(_zip_chunks(run, read_sidecar(run)), media_type="application/zip",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = [
    Route("/analysis", index, name="analyses"),
    Route("/analysis/new", index, methods=["GET"]),
    Route("/analysis/new", upload, methods=["POST"]),
    Route("/analysis/setup", setup, methods=["GET"]),
    Route("/analysis/setup", save, methods=["POST"]),
    Route("/analysis/edit", edit),
    Route("/analysis/view", view),
    Route("/analysis/source", source),
    Route("/analysis/open", open_analysis),
    Route("/analysis/run", start_run, methods=["POST"]),
    Route("/analysis/job/{job}", job_page),
    Route("/analysis/job/{job}/progress", job_progress),
    Route("/analysis/result", result),
    Route("/analysis/file", run_file_route),
    Route("/analysis/zip", run_zip),
]
