"""Save figures as SVG and PNG (and any other format matplotlib writes)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["save_figure", "figure_svg"]


def _figure(obj):
    return getattr(obj, "figure", obj) if not hasattr(obj, "savefig") else obj


def save_figure(obj, path, formats=("svg", "png"), dpi: int = 300) -> list[Path]:
    """Write a figure (or the figure of an axes) once per format.

    ``path`` is the file name without (or with, ignored) extension; returns
    the written paths. PNGs are rendered at ``dpi``; the bounding box is
    tightened so text columns outside the axes are kept.
    """
    fig = _figure(obj)
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix.lower().lstrip(".") in formats else stem
    out = []
    for fmt in formats:
        target = stem.with_name(f"{stem.name}.{fmt}")
        fig.savefig(target, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.1,
                    metadata={"Date": None} if fmt == "svg" else None)  # fmt: skip
        out.append(target)
    return out


def figure_svg(obj) -> str:
    """The figure as SVG text (for inlining in an HTML report)."""
    import io

    buf = io.StringIO()
    _figure(obj).savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.1, metadata={"Date": None})
    return buf.getvalue()
