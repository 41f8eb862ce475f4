"""The folder the app serves: its analyses, reviews and runs, and the only place it writes.

Every path the app builds goes through :meth:`Workspace.inside`, which refuses anything that would
leave the folder (``..``, absolute paths, symbolic links out); uploaded file names are never used as
paths (:meth:`Workspace.new_name` makes one from the app's own vocabulary).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import MetapoolError

#: Sub-folders the app creates: uploaded tables, analysis runs (one sub-folder per run), reviews.
UPLOADS, RUNS, REVIEWS = "uploads", "runs", "reviews"


@dataclass(frozen=True)
class Entry:
    """One analysis or review of the workspace, as the workspace page lists it."""

    kind: str  # "analysis" or "review"
    name: str
    path: str  # relative to the workspace
    state: str  # one line: "3 runs, last 2026-12-03 18:40", "412 records, 120 screened", ...


class Workspace:
    """A folder of analyses and reviews.

    Parameters
    ----------
    root : path
        The folder; created if missing. Everything the app writes goes below it.
    """

    def __init__(self, root: str | Path) -> None:
        root = Path(root).expanduser()
        if root.exists() and not root.is_dir():
            raise MetapoolError(f"Workspace {str(root)!r} is a file, not a folder.")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()

    def inside(self, *parts: str) -> Path:
        """``root/parts...`` resolved, refused (MetapoolError) if it leaves the workspace."""
        path = self.root.joinpath(*parts).resolve()
        if path != self.root and self.root not in path.parents:
            raise MetapoolError(f"{'/'.join(parts)!r} is outside the workspace.")
        return path

    def relative(self, path: Path) -> str:
        """``path`` relative to the workspace, with forward slashes."""
        return path.resolve().relative_to(self.root).as_posix()

    @staticmethod
    def slug(text: str, default: str = "item") -> str:
        """A safe file-name stem from user text (letters, digits, dash; at most 40 characters)."""
        slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")
        return slug or default

    def new_name(self, folder: str, stem: str, suffix: str = "") -> Path:
        """A path ``folder/stem[-n]suffix`` inside the workspace that does not exist yet."""
        base = self.inside(folder)
        base.mkdir(parents=True, exist_ok=True)
        stem = self.slug(stem)
        for n in range(1, 10_000):
            candidate = base / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
            if not candidate.exists():
                return candidate
        raise MetapoolError(f"Too many files named {stem!r} in {folder!r}.")

    def analyses(self) -> list[Entry]:
        """Analysis files (``*.toml`` with ``[[outcome]]`` tables) directly in the workspace or one folder down."""
        found = []
        for path in sorted([*self.root.glob("*.toml"), *self.root.glob("*/*.toml")]):
            if path.name == "review.toml" or not path.is_file() or path.is_symlink():
                continue
            try:
                raw = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if isinstance(raw.get("outcome"), list):
                title = raw.get("title") if isinstance(raw.get("title"), str) else path.stem
                found.append(Entry("analysis", title, self.relative(path), self._runs_state(path)))
        return found

    def _runs_state(self, analysis: Path) -> str:
        runs = self.runs_of(analysis)
        return f"{len(runs)} run{'s' * (len(runs) != 1)}" if runs else "not run yet"

    def runs_of(self, analysis: Path) -> list[Path]:
        """Finished run folders of an analysis file (``runs/<slug>/<n>`` holding results.json), oldest first.

        Numbered folders only: the hidden folders a run builds beside its target (``.3.metapool-tmp``)
        are not runs, and run 10 comes after run 9.
        """
        folder = self.root / RUNS / self.slug(analysis.stem)
        if not folder.is_dir():
            return []
        return sorted((p for p in folder.iterdir() if p.name.isdigit() and p.is_dir() and not p.is_symlink()
                       and (p / "results.json").is_file()), key=lambda p: int(p.name))

    def reviews(self) -> list[Entry]:
        """Review folders (holding ``review.toml``) directly in the workspace, in ``reviews/`` or one folder down."""
        found = []
        for path in sorted({*self.root.glob("review.toml"), *self.root.glob("*/review.toml"),
                            *self.root.glob(f"{REVIEWS}/*/review.toml")}):
            if path.is_symlink():
                continue
            folder = path.parent
            state = "database ready" if (folder / "review.db").is_file() else "not initialised"
            found.append(Entry("review", folder.name if folder != self.root else self.root.name,
                               self.relative(folder) or ".", state))
        return found
