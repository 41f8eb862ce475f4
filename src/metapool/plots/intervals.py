"""Confidence intervals of single proportions shown beside each study.

The exact interval is :func:`metapool.inference.exact.clopper_pearson`.

References
----------
Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits
illustrated in the case of the binomial. Biometrika 26:404-413.
Wilson EB (1927). Probable inference, the law of succession, and statistical
inference. JASA 22:209-212.
"""

from __future__ import annotations

import numpy as np

from .._distributions import norm_ppf
from ..inference.exact import clopper_pearson

__all__ = ["clopper_pearson", "wilson", "PROPORTION_CIS"]


def wilson(x, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits (without continuity correction) for ``x`` out of ``n``."""
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    z = norm_ppf(0.5 + level / 2.0)
    p = x / n
    centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n)
    half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / (1.0 + z * z / n)
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


#: Study-level CI methods for single proportions: code -> (display name, function).
PROPORTION_CIS = {
    "exact": ("Clopper-Pearson", clopper_pearson),
    "wilson": ("Wilson", wilson),
}
