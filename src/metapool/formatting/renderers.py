"""Every ``*_summary`` module, imported so that each result type has its ``document`` renderer.

``import metapool`` imports this module: registration never depends on what
the caller happened to import.
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
