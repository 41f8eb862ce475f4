"""Design matrices of meta-regression: re-exported from :mod:`metapool.models.design.matrix`, where they live.

They moved to the models layer because :func:`metapool.rma` builds its design matrix with them.
"""

from ..models.design.matrix import Design, build_design, check_rank

__all__ = ["Design", "build_design", "check_rank"]
