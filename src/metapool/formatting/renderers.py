"""Every ``*_summary`` module, imported so that each result type has its ``document`` renderer.

``import metapool`` has this module imported before the first document is made
(:func:`metapool._summary.load_renderers_with`), not at import time:
registration never depends on what the caller happened to import, and
``import metapool`` does not load every result type.
"""

from . import (  # noqa: F401  (each registers the document renderers of its concept's results)
    analysis_report_summary,
    bias_summary,
    glmm_summary,
    influence_summary,
    medians_summary,
    moderators_summary,
    rma_summary,
)
