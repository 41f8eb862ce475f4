"""The old home of the document model, kept so that ``from metapool.formatting.document import Document`` works.

The document model is :mod:`metapool.formatting.blocks`; the name
``metapool.formatting.document`` is the dispatcher ``document(result)``
(defined in :mod:`metapool._summary`). Import from :mod:`metapool.formatting`.
"""

from .._summary import Rendered, document
from .blocks import Document, KeyValues, Paragraph, Table

__all__ = ["Document", "KeyValues", "Paragraph", "Rendered", "Table", "document"]
