"""``document(result)``: the one generic function that turns any result into its summary document.

Results are data: a result class holds numbers and builds no text. Its
``summary()`` is ``document(self)``, and the renderers are registered on
:func:`document` by the modules of :mod:`metapool.formatting` (``import
metapool`` has them imported before the first document is made, so every
result type of the package has one). The
generic function lives here, in the core layer, so that a result can
delegate to it without importing the presentation layer.

Register a renderer for a new result type with ``@document.register``::

    @document.register
    def _(res: MyResult) -> Document:
        ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch

__all__ = ["Rendered", "Summarized", "document", "load_renderers_with"]

#: Callables that register renderers, run once before the first document is made (see load_renderers_with).
_PENDING: list[Callable[[], None]] = []


def load_renderers_with(load: Callable[[], None]) -> None:
    """Have ``load()`` register renderers before the first :func:`document` (or dispatch) call.

    ``import metapool`` hands in the import of :mod:`metapool.formatting.renderers`,
    so that importing the package stays light (the renderers import every
    result type) while every result type still has its renderer when one is
    asked for, whatever the caller imported.
    """
    _PENDING.append(load)


def _load_pending() -> None:
    while _PENDING:
        _PENDING.pop(0)()


@singledispatch
def _render(result):
    kind = type(result)
    raise TypeError(f"No document renderer is registered for {kind.__module__}.{kind.__qualname__};"
                    " register one with metapool.formatting.document.register.")


def document(result):
    """The summary of ``result`` as a :class:`~metapool.formatting.Document` (text, Markdown, HTML).

    A :func:`functools.singledispatch` generic function: ``document.register``
    adds a renderer for a type, ``document.dispatch(cls)`` gives the one used.

    Raises
    ------
    TypeError
        When no renderer is registered for the type of ``result``.
    """
    _load_pending()
    return _render(result)


def _dispatch(cls):
    _load_pending()
    return _render.dispatch(cls)


document.register = _render.register
document.dispatch = _dispatch
document.registry = _render.registry


class Summarized:
    """Mixin of result classes: :meth:`summary` is :func:`document` of the result."""

    def summary(self):
        """The result as a :class:`~metapool.formatting.Document` (text/HTML/Markdown)."""
        return document(self)


class Rendered(Summarized):
    """Mixin of result classes that print as their summary: ``str()``, IPython's text and Jupyter's HTML view."""

    def __str__(self) -> str:
        return self.summary().to_text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary().to_text())

    def _repr_html_(self) -> str:
        return self.summary().to_html()
