"""Save figures as SVG and PNG (and any other format matplotlib writes), each laid out once.

A figure is laid out and measured once for all its formats: with a PNG, the
PNG is the canvas drawn at its resolution, cropped to the figure's tight
bounding box (the layout engine, e.g. constrained layout, runs in that one
draw); without one, the SVG renderer alone lays the figure out in its draw
and then measures the tight box with the text metrics of that draw. The
layout is then frozen and every other format is drawn with that same
bounding box, so no format repeats the layout or the tight-box passes of
``savefig(bbox_inches="tight")`` (the SVG is drawn at the figure's size in
one pass and cropped by its ``viewBox``). Text metrics of the SVG renderer
are remembered for the process (:func:`~metapool.plots._style.text_metrics`):
a report's figures repeat their labels and numbers. SVG text is written as text
(``svg.fonttype = "none"``) in the font stack :data:`~metapool.plots._style.SVG_FONT_STACK`:
a tenth of the size of text drawn as paths, selectable and searchable.
"""

from __future__ import annotations

import functools
import io
import re
from pathlib import Path

from ._style import SVG_FONT_STACK, font_height_metrics, text_metrics

__all__ = ["save_figure", "figure_svg", "figure_files"]

#: Margin around the tight bounding box of a figure, in inches.
PAD_IN = 0.1

#: Settings while a figure is written: SVG text as text; PNG text unhinted (a quarter faster to
#: lay out and draw, and at 150 dpi as sharp to read).
RC = {"svg.fonttype": "none", "text.hinting": "none"}


def _figure(obj):
    return getattr(obj, "figure", obj) if not hasattr(obj, "savefig") else obj


def _png(fig, dpi: float, pad: float):
    """Draw ``fig`` at ``dpi`` once: its PNG bytes (cropped to the tight box) and that box in inches."""
    import numpy as np
    from PIL import Image

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)  # whatever the session's backend
    canvas.draw()  # runs the layout engine and measures every text at the PNG's resolution
    bbox = fig.get_tightbbox(canvas.get_renderer()).padded(pad)
    pixels = np.asarray(canvas.buffer_rgba())
    height = pixels.shape[0]
    x0, x1 = (int(round(v * dpi)) for v in (bbox.x0, bbox.x1))
    y0, y1 = (height - int(round(v * dpi)) for v in (bbox.y1, bbox.y0))  # image rows run top-down
    crop = pixels[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)]
    if crop.size == 0:  # nothing drawn: the whole canvas
        crop = pixels
    buf = io.BytesIO()  # opaque (the figure's background is drawn): RGB, fast compression (smaller than RGBA at 6)
    Image.fromarray(np.ascontiguousarray(crop[..., :3])).save(buf, format="png", dpi=(dpi, dpi), compress_level=1)
    return buf.getvalue(), bbox


@functools.cache
def _svg_canvas_class():
    """An SVG canvas drawing with a renderer it holds, whose text metrics are remembered (:func:`text_metrics`).

    The layout engine asks the canvas for its renderer
    (``Figure._get_renderer``): it gets the very renderer that then draws
    the figure and measures its tight box, so each text is laid out once.
    """
    from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG

    class Renderer(RendererSVG):
        def get_text_width_height_descent(self, s, prop, ismath):
            return text_metrics(s, prop, ismath)

        def _get_font_height_metrics(self, prop):  # asked for by matplotlib's text layout, else read from the font
            return font_height_metrics(prop, 72.0)

    class Canvas(FigureCanvasSVG):
        renderer = None

        def get_renderer(self):
            return self.renderer

    return Canvas, Renderer


def _svg(fig, dpi: float, bbox=None, pad: float = PAD_IN):
    """The SVG of ``fig`` in one pass and the box it is cropped to by its viewBox (inches).

    Without ``bbox``, the layout engine (if any) runs in the draw and the
    figure's tight box is measured afterwards with the texts' metrics of the
    draw, padded by ``pad``. The figure gets its own canvas back afterwards.
    """
    from matplotlib.backends.backend_mixed import MixedModeRenderer

    canvas_class, renderer_class = _svg_canvas_class()
    own = fig.canvas
    canvas = canvas_class(fig)
    buf = io.StringIO()
    fig.set_dpi(72)  # SVG units are points
    width, height = fig.get_size_inches()
    canvas.renderer = MixedModeRenderer(fig, width, height, dpi, renderer_class(width * 72, height * 72, buf,
                                        image_dpi=dpi, metadata={"Date": None}))  # fmt: skip
    try:
        fig.draw(canvas.renderer)
        canvas.renderer.finalize()
        if bbox is None:
            bbox = fig.get_tightbbox(canvas.renderer).padded(pad)
    finally:
        fig.set_canvas(own)  # not one whose renderer has finished its file
    x, y, w, h = bbox.x0 * 72, (height - bbox.y1) * 72, bbox.width * 72, bbox.height * 72
    return re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*" viewBox="[^"]*"',
                  lambda m: f'<svg {m[1]}width="{w:.2f}pt" height="{h:.2f}pt" viewBox="{x:.2f} {y:.2f} {w:.2f} {h:.2f}"',
                  buf.getvalue(), count=1), bbox


def _compact_svg(text: str) -> str:
    """matplotlib's SVG made compact for inlining: no metadata or indentation, upright text without a rotation.

    Text in :data:`SVG_FONT_STACK`'s fonts gets its font stack from one CSS
    rule of the SVG's own style sheet instead of on every text element.
    """
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    text = re.sub(r' transform="rotate\(-?0 [-0-9.e]+ [-0-9.e]+\)"', "", text)
    for font, stack in SVG_FONT_STACK.items():
        family = re.compile(rf"font-family: '{re.escape(font)}'[^;\"]*;? ?")
        if family.search(text):
            text = family.sub("", text).replace("*{stroke-linejoin", f"text{{font-family: {stack}}} *{{stroke-linejoin",
                                                1)
    return re.sub(r">\s+<", "><", re.sub(r"\s*\n\s*", "\n", text))


def figure_files(obj, formats=("svg", "png"), dpi: float = 150, salt: str = "metapool") -> dict[str, bytes]:
    """A figure (or the figure of an axes) rendered into each of ``formats``, laid out once.

    Parameters
    ----------
    obj
        A matplotlib figure or axes.
    formats
        Formats matplotlib writes (``"svg"``, ``"png"``, ``"pdf"`` ...).
    dpi
        Resolution of the PNG (and of its layout pass, which the other formats reuse).
    salt
        Seed of the SVG element ids (``svg.hashsalt``): the same figure gives
        the same bytes; give figures inlined in one page different salts so
        their ids differ.

    Returns
    -------
    dict
        Format to the file's bytes. The figure's layout engine is switched
        off afterwards (its layout is frozen).
    """
    import matplotlib

    fig = _figure(obj)
    out = {}
    with matplotlib.rc_context(RC | {"svg.hashsalt": salt}):
        if "png" in formats:
            out["png"], bbox = _png(fig, dpi, PAD_IN)
        else:  # laid out, drawn and measured by the SVG renderer alone
            svg, bbox = _svg(fig, dpi)
            out["svg"] = _compact_svg(svg).encode("utf-8")
        fig.set_layout_engine("none")  # laid out once above: no format repeats it
        for fmt in formats:
            if fmt == "svg" and fmt not in out:
                out[fmt] = _compact_svg(_svg(fig, dpi, bbox)[0]).encode("utf-8")
            elif fmt not in out:
                buf = io.BytesIO()
                fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches=bbox)
                out[fmt] = buf.getvalue()
    return {fmt: out[fmt] for fmt in formats}


def save_figure(obj, path, formats=("svg", "png"), dpi: int = 300) -> list[Path]:
    """Write a figure (or the figure of an axes) once per format (:func:`figure_files`).

    ``path`` is the file name without (or with, ignored) extension; returns
    the written paths. PNGs are rendered at ``dpi``; the bounding box is
    tightened so text columns outside the axes are kept.
    """
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix.lower().lstrip(".") in formats else stem
    out = []
    for fmt, data in figure_files(obj, formats, dpi, salt=stem.name).items():
        target = stem.with_name(f"{stem.name}.{fmt}")
        target.write_bytes(data)
        out.append(target)
    return out


def figure_svg(obj) -> str:
    """The figure as SVG text (for inlining in an HTML report)."""
    return figure_files(obj, ("svg",), dpi=72)["svg"].decode("utf-8")
