"""``document(result)``: the one generic function that turns any result into its summary document.

Results are data: a result class holds numbers and builds no text. Its
``summary()`` is ``document(self)``, and the renderers are registered on
:func:`document` by the modules of :mod:`metapool.formatting` (``import
metapool`` imports them, so every result type of the package has one). The
generic function lives here, in the core layer, so that a result can
delegate to it without importing the presentation layer.

Register a renderer for a new result type with ``@document.register``::

    @document.register
    def _(res: MyResult) -> Document:
        ...
"""

from __future__ import annotations

from functools import singledispatch

__all__ = ["Rendered", "Summarized", "document"]


@singledispatch
def document(result):
    """The summary of ``result`` as a :class:`~metapool.formatting.Document` (text, Markdown, HTML).

    Raises
    ------
    TypeError
        When no renderer is registered for the type of ``result``.
    """
    kind = type(result)
    raise TypeError(f"No document renderer is registered for {kind.__module__}.{kind.__qualname__};"
                    " register one with metapool.formatting.document.register.")


class Summarized:
    """Mixin of result classes: :meth:`summary` is :func:`document` of the result."""

    def summary(self):
        """The result as a :class:`~metapool.formatting.Document` (text/HTML/Markdown)."""
        return document(self)


class Rendered(Summarized):
    """Mixin of result classes that print as their summary: ``str()`` and Jupyter's HTML view."""

    def __str__(self) -> str:
        return self.summary().to_text()

    def _repr_html_(self) -> str:
        return self.summary().to_html()
