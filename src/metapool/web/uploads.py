"""Uploaded files: streamed into the workspace under a name the app makes, then read with the caps of the server.

An uploaded file's own name is never a path. It gives at most a display slug for the stem of the new
name (``<script>.csv`` becomes ``uploads/script.csv``, ``../../etc/passwd.csv`` becomes
``uploads/passwd.csv``); the folder is the app's, and the suffix is one of :data:`UPLOAD_TYPES` that both
the file's extension and its first bytes agree on. The file is counted while it is written and refused
past :attr:`metapool.web.security.Limits.file_bytes` (the whole request is capped before, by
:class:`metapool.web.security.BodyLimit`); a refused file leaves nothing behind.

References
----------
OWASP Cheat Sheet Series, "File Upload Cheat Sheet" (allow-listed extensions validated against the
content, generated file names, size limits, archive bombs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

from starlette.datastructures import UploadFile

from ..exceptions import MetapoolError
from ..io.decoding import looks_like
from ..io.tables import StudyTable, read_table
from .security import Limits
from .workspace import Workspace

#: Bytes read (and written) at a time while an upload streams into the workspace.
CHUNK = 64 * 1024


@dataclass(frozen=True)
class UploadType:
    """A kind of file the app accepts.

    Attributes
    ----------
    suffix : str
        The extension, lower case with its dot; also the suffix of the saved file.
    label : str
        What the file is, for messages ("CSV table").
    magic : bytes or None
        Leading bytes the content must start with; None for text, which must look like text
        (:func:`metapool.io.decoding.looks_like` finds no binary signature).
    """

    suffix: str
    label: str
    magic: bytes | None = None


_ZIP, _PDF = b"PK\x03\x04", b"%PDF-"

#: Every kind of file any screen accepts, by suffix (screens pass the subset they read as ``allowed``).
UPLOAD_TYPES: dict[str, UploadType] = {t.suffix: t for t in (
    UploadType(".csv", "CSV table"),
    UploadType(".tsv", "tab-separated table"),
    UploadType(".txt", "text file"),
    UploadType(".xlsx", "Excel workbook", _ZIP),
    UploadType(".xlsm", "Excel workbook with macros (read as data only)", _ZIP),
    UploadType(".ris", "RIS records export"),
    UploadType(".nbib", "MEDLINE/PubMed records export"),
    UploadType(".bib", "BibTeX records export"),
    UploadType(".md", "Markdown text"),
    UploadType(".html", "HTML page"),
    UploadType(".htm", "HTML page"),
    UploadType(".docx", "Word document", _ZIP),
    UploadType(".pdf", "PDF document", _PDF),
    UploadType(".toml", "analysis file"),
)}

#: What each screen accepts.
TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".xlsx", ".xlsm"})
RECORD_SUFFIXES = frozenset({".ris", ".nbib", ".txt", ".bib", ".csv"})
TEXT_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".docx", ".pdf"})


def display_name(upload: UploadFile) -> str:
    """The uploaded file's base name, for messages only (the browser's path parts, either slash, dropped)."""
    raw = (upload.filename or "").replace("\\", "/")
    return PurePath(raw.rsplit("/", 1)[-1]).name or "upload"


def upload_type(name: str, head: bytes, allowed: set[str] | frozenset[str]) -> UploadType:
    """The :class:`UploadType` of a file called ``name`` that starts with ``head``, if ``allowed`` accepts it.

    Raises
    ------
    MetapoolError
        The extension is not one of ``allowed``, or the content does not match it (a PNG named .csv,
        a text file named .xlsx), or the file is empty.
    """
    suffix = PurePath(name).suffix.lower()
    accepted = ", ".join(sorted(allowed))
    kind = UPLOAD_TYPES.get(suffix) if suffix in allowed else None
    if kind is None:
        raise MetapoolError(f"{name}: files of this type are not accepted here (accepted: {accepted}).")
    if not head:
        raise MetapoolError(f"{name} is empty.")
    if kind.magic is not None and not head.startswith(kind.magic):
        found = looks_like(head) or "a text file"
        raise MetapoolError(f"{name} is named like a {kind.label} ({suffix}) but looks like {found}.")
    if kind.magic is None and (found := looks_like(head)) is not None:
        raise MetapoolError(f"{name} is named like a {kind.label} ({suffix}) but looks like {found}.")
    return kind


async def save_upload(upload: UploadFile, workspace: Workspace, folder: str, allowed: set[str] | frozenset[str], *,
                      stem: str | None = None, max_bytes: int = Limits().file_bytes) -> Path:
    """Stream an uploaded file into ``workspace/folder`` under a new name; return its path.

    Parameters
    ----------
    upload : UploadFile
        A file field of a form read with :func:`metapool.web.security.read_form`.
    workspace : Workspace
        Where the file goes.
    folder : str
        The app's sub-folder (:data:`metapool.web.workspace.UPLOADS`, a review's folder ...).
    allowed : set of str
        Suffixes this screen accepts (:data:`TABLE_SUFFIXES`, :data:`RECORD_SUFFIXES`, ...).
    stem : str, optional
        Stem of the new name from the app's own vocabulary ("records", "table"); default the slug of
        the uploaded name (:meth:`Workspace.slug`).
    max_bytes : int
        Largest file accepted, counted while it is written.

    Returns
    -------
    Path
        ``folder/<stem>[-n]<suffix>`` inside the workspace, a file that did not exist before.

    Raises
    ------
    MetapoolError
        A type not allowed or content that does not match its extension, an empty file, a file larger
        than ``max_bytes`` (nothing is left in the folder).
    """
    name = display_name(upload)
    head = await upload.read(CHUNK)
    kind = upload_type(name, head, allowed)
    target = workspace.new_name(folder, stem or Workspace.slug(PurePath(name).stem, "upload"), kind.suffix)
    written = 0
    try:
        with open(target, "xb") as out:  # "x": never replace a file, even one created since new_name looked
            chunk = head
            while chunk:
                written += len(chunk)
                if written > max_bytes:
                    raise MetapoolError(f"{name} is larger than the {max_bytes / 2**20:.3g} MB this server accepts "
                                        "for one file.")
                out.write(chunk)
                chunk = await upload.read(CHUNK)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def read_uploaded_table(path: Path, limits: Limits, name: str | None = None) -> StudyTable:
    """Read an uploaded study table with the server's row and column caps.

    Parameters
    ----------
    path : Path
        A file saved by :func:`save_upload`.
    limits : Limits
        :attr:`Limits.upload_rows` and :attr:`Limits.upload_columns` are the caps; a workbook also passes
        the io layer's decompression-bomb guard (:func:`metapool.io.tables.check_office_archive`).
    name : str, optional
        The name the user knows the file by (:func:`display_name`), used in messages instead of the saved name.

    Raises
    ------
    MetapoolError
        Everything :func:`metapool.io.tables.read_table` refuses, and a table past a cap (the message names it).
    """
    try:
        return read_table(path, max_rows=limits.upload_rows, max_columns=limits.upload_columns)
    except MetapoolError as exc:
        if name is None:
            raise
        raise MetapoolError(str(exc).replace(path.name, name)) from None
