"""Where metapool writes: output folders built aside and swapped into place, single files replaced atomically.

An output folder (``metapool run -o DIR``) is never written in place:

1. :func:`check_output_folder` refuses a target that is a file or a symbolic
   link, that holds a symbolic link, an input file of the run or files
   metapool did not write, an existing report without ``force``, or whose
   parent cannot be written.
2. :func:`reserved_folder` checks, creates the parent and takes the folder's
   lock (a sibling lock file held with :func:`fcntl.flock`, released by the
   system when the process dies, so a killed run never blocks the next one;
   a second run is refused at once), then checks again. A run holds it from
   its start.
3. :func:`staged_folder` hands out an empty temporary sibling folder. When the
   block ends without error it writes the :data:`MARKER` file (metapool's
   version, the time and the list of files) and swaps the folder into place
   by renaming (same parent, so each rename is atomic); on any error or
   ``KeyboardInterrupt`` the temporary folder is removed and the previous
   output stays exactly as it was.

A single results file (``metapool batch -o FILE``, ``metapool init -o FILE``)
is checked by :func:`check_output_file` and written by :func:`atomic_file`
(a temporary file in the same folder, renamed over the target at the end).
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..exceptions import MetapoolError

__all__ = ["MARKER", "absolute_path", "check_output_folder", "folder_lock", "reserved_folder", "staged_folder",
           "check_output_file", "atomic_file"]

#: Marker file in every folder metapool wrote (JSON: version, time, files); ``--force`` replaces only such folders.
MARKER = ".metapool-output"

#: Output folders whose lock this process holds (see :func:`folder_lock`).
_held: set[Path] = set()


def absolute_path(path: str | Path) -> Path:
    """Absolute, normalised form of ``path``; a symbolic link in it is not resolved (so it can be refused)."""
    return Path(os.path.abspath(os.fspath(path)))


def _sibling(target: Path, role: str) -> Path:
    """The hidden sibling of ``target`` used as its ``lock``, ``tmp`` (new output) or ``old`` (previous output)."""
    return target.parent / f".{target.name}.metapool-{role}"


def _file_id(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_dev, st.st_ino


def _input_ids(inputs: Iterable[str | Path]) -> dict:
    """Device and inode of each existing input file (hard links and other names of it included)."""
    return {_file_id(Path(p)): Path(p) for p in inputs if Path(p).exists()}


def _entries(folder: Path) -> list[Path]:
    """Every entry below ``folder`` (files, folders, links), without following links."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        found += [Path(root, name) for name in dirs + files]
    return found


def _manifest(folder: Path) -> set[str] | None:
    """The files listed in ``folder``'s marker, or None when it has no readable marker.

    A folder written before the marker existed counts as metapool's when its
    ``results.json`` names a metapool version and it holds only the report's
    files (:data:`LEGACY_FILES`, figures as SVG/PNG under ``figures/``).
    """
    marker = folder / MARKER
    if marker.is_symlink() or not marker.is_file():
        return _legacy_manifest(folder)
    try:
        return set(json.loads(marker.read_text(encoding="utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


#: The files of a report written before the marker existed (besides figures/*.svg|png).
LEGACY_FILES = frozenset({"report.html", "results.json", "effect_sizes.csv", "card.html", "card.md"})


def _legacy_manifest(folder: Path) -> set[str] | None:
    results = folder / "results.json"
    try:
        if results.is_symlink() or "metapool_version" not in json.loads(results.read_text(encoding="utf-8")):
            return None
    except (OSError, ValueError, TypeError):
        return None
    names = {e.relative_to(folder).as_posix() for e in _entries(folder) if not e.is_dir()}
    figures = {n for n in names if n.startswith("figures/") and n.count("/") == 1 and n.endswith((".svg", ".png"))}
    return names if names - figures <= LEGACY_FILES else None


def check_output_folder(outdir: str | Path, inputs: Iterable[str | Path] = (), force: bool = False) -> Path:
    """Refuse an output folder metapool must not write into; returns its absolute path.

    Parameters
    ----------
    outdir
        The output folder (it need not exist).
    inputs
        The input files of the run (data file, analysis file): refused inside
        the folder, by path or as the same file under another name.
    force
        Allow replacing a folder metapool wrote before (it holds :data:`MARKER`).

    Raises
    ------
    MetapoolError
        The folder is a file or a symbolic link, holds a symbolic link, an input
        file or files metapool did not write (even with ``force``), holds a
        report and ``force`` is false, or its parent cannot be written.
    """
    target = absolute_path(outdir)
    if target.is_symlink():
        raise MetapoolError(f"{target} is a symbolic link; name a real folder for the output.")
    if target.exists() and not target.is_dir():
        raise MetapoolError(f"{target} is a file, not a folder; name a folder for the output.")
    inputs = list(inputs)
    real = target.resolve()
    for path in inputs:
        source = Path(path).resolve()
        if source == real or source.is_relative_to(real):
            raise MetapoolError(f"the output folder {target} holds the input file {path}; choose another folder.")
    if target.is_dir():
        ids = _input_ids(inputs)
        entries = _entries(target)
        for entry in entries:
            if entry.is_symlink():
                raise MetapoolError(f"{entry} is a symbolic link; metapool writes only into real folders"
                                    " (remove the link or choose another folder).")
            if entry.is_file() and _file_id(entry) in ids:
                raise MetapoolError(f"{entry} in the output folder is the input file {ids[_file_id(entry)]};"
                                    " choose another folder.")
        if entries:
            files = _manifest(target)
            names = {e.relative_to(target).as_posix() for e in entries}
            known = set() if files is None else files | {MARKER} | {p.as_posix() for f in files
                                                                    for p in Path(f).parents if p != Path(".")}
            others = sorted(names - known)
            if others:
                raise MetapoolError(f"{target} holds files metapool did not write ({', '.join(others[:3])}"
                                    + (", ..." if len(others) > 3 else "") + "); choose a new or empty folder.")
            if not force:
                raise MetapoolError(f"{target} holds a metapool report; use --force to replace it.")
    parent = next(p for p in target.parents if p.exists())
    if not os.access(parent, os.W_OK | os.X_OK):
        raise MetapoolError(f"cannot write in {parent} (read-only or no permission); choose another output folder.")
    return target


@contextmanager
def folder_lock(target: str | Path) -> Iterator[None]:
    """Hold the lock of output folder ``target``; another process asking for it is refused at once.

    The lock is :func:`fcntl.flock` on the sibling file ``.NAME.metapool-lock``,
    removed on release; the system releases it when the process dies, so a
    killed run never blocks the next. Re-entrant within a process (a run holds
    the folder from its start and writes it at the end).
    """
    target = absolute_path(target)
    if target in _held:
        yield
        return
    path = _sibling(target, "lock")
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise MetapoolError(f"another metapool run is writing to {target}; wait for it to finish.") from None
        try:
            current = path.stat().st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:  # the previous holder removed the file after we opened it
            current = False
        if current:
            break
        os.close(fd)
    _held.add(target)
    try:
        yield
    finally:
        _held.discard(target)
        path.unlink(missing_ok=True)
        os.close(fd)


@contextmanager
def reserved_folder(outdir: str | Path, inputs: Iterable[str | Path] = (), force: bool = False) -> Iterator[Path]:
    """Hold output folder ``outdir`` for a run: checked, locked, its parent created; yields its absolute path.

    :func:`check_output_folder` runs before anything is created and again
    under the lock (another run may have written the folder in between); what
    a killed run left beside the folder is tidied. Hold it from the start of a
    run so that a concurrent run is refused at once, not after its work.
    """
    target = check_output_folder(outdir, inputs, force)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MetapoolError(f"cannot create {target.parent}: {exc.strerror}.") from None
    with folder_lock(target):
        check_output_folder(target, inputs, force)
        _recover(target)
        yield target


def _remove(path: Path) -> None:
    """Remove a file, link or folder tree (links are removed, never followed)."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def _recover(target: Path) -> None:
    """Under the lock: tidy what a killed run left (its new folder; its previous output when the swap was cut)."""
    _remove(_sibling(target, "tmp"))
    old = _sibling(target, "old")
    if old.is_dir() and not old.is_symlink() and not target.exists():
        old.rename(target)
    _remove(old)


def _write_marker(folder: Path) -> None:
    from .. import __version__

    files = sorted(p.relative_to(folder).as_posix() for p in _entries(folder) if p.is_file())
    created = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()
    (folder / MARKER).write_text(json.dumps({"metapool": __version__, "created": created, "files": files},
                                            indent=1), encoding="utf-8")


def _swap(new: Path, target: Path) -> Path | None:
    """Rename ``new`` to ``target``, the previous ``target`` moved aside first; returns where it went."""
    if not target.exists():
        new.rename(target)
        return None
    old = _sibling(target, "old")
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise
    return old


@contextmanager
def staged_folder(outdir: str | Path, inputs: Iterable[str | Path] = (), force: bool = False) -> Iterator[Path]:
    """Build an output folder in a temporary sibling and swap it into place at the end.

    Yields the empty temporary folder to write into. When the block ends
    without error the folder gets the :data:`MARKER` file and replaces
    ``outdir``; on any error or interrupt it is removed and ``outdir`` stays as
    it was. The folder is held as by :func:`reserved_folder` throughout.

    Raises
    ------
    MetapoolError
        As :func:`check_output_folder`; when another process holds the folder;
        and when a file cannot be written (with the system's reason, e.g. no
        space left on the device).
    """
    with reserved_folder(outdir, inputs, force) as target:
        tmp = _sibling(target, "tmp")
        tmp.mkdir()
        try:
            yield tmp
            _write_marker(tmp)
            old = _swap(tmp, target)
        except OSError as exc:
            _remove(tmp)
            where = f" ({exc.filename})" if exc.filename else ""
            raise MetapoolError(f"could not write the output: {exc.strerror}{where}; {target} was left as it was.") \
                from None
        except BaseException:
            _remove(tmp)
            raise
        if old is not None:
            _remove(old)


def check_output_file(path: str | Path, inputs: Iterable[str | Path] = ()) -> Path:
    """Refuse an output file metapool must not write; returns its absolute path.

    Raises
    ------
    MetapoolError
        ``path`` is a folder or a symbolic link, is one of ``inputs`` (by path
        or as the same file under another name), or its folder does not exist
        or cannot be written.
    """
    target = absolute_path(path)
    if target.is_symlink():
        raise MetapoolError(f"{target} is a symbolic link; name a regular file for the output.")
    if target.is_dir():
        raise MetapoolError(f"{target} is a folder; name a file for the output.")
    if not target.parent.is_dir():
        raise MetapoolError(f"the folder {target.parent} does not exist; create it first or name another file.")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise MetapoolError(f"cannot write in {target.parent} (read-only or no permission); name another file.")
    inputs = list(inputs)
    same_path = any(Path(p).resolve() == target.resolve() for p in inputs)
    if same_path or (target.exists() and _file_id(target) in _input_ids(inputs)):
        raise MetapoolError(f"{target} is an input file of this run; name another file for the output.")
    return target


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` when the block ends without error.

    On any error or interrupt the temporary file is removed and ``path`` stays
    as it was. OS errors become :class:`MetapoolError` with the system's reason.
    """
    target = absolute_path(path)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.metapool-tmp"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise MetapoolError(f"could not write {target}: {exc.strerror}; it was left as it was.") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
