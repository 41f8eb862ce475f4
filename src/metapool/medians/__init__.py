"""Medians and survival as clinical reviews report them.

* :func:`describe_medians`: median and IQR of the study medians (descriptive);
* :func:`pool_medians`: pooled median with CI, median of medians and weighted
  median of medians (McGrath et al. 2019);
* :func:`pool_medians_qe`: pooled median by the quantile estimation method
  (McGrath et al. 2019), inverse-variance weighted;
* :func:`pool_median_survival`: inverse-variance pooled Kaplan-Meier median
  survival from medians with CIs (McGrath et al. 2025);
* :func:`estimate_mean_sd`: mean and SD from median with IQR and/or range
  (Wan et al. 2014; Luo et al. 2018).
"""

from .describe import MedianSummary, describe_medians
from .mean_sd import MeanSDEstimate, estimate_mean_sd
from .median_of_medians import MEDIAN_METHODS, PooledMedian, pool_medians, weighted_quantile
from .quantile_estimation import QE_FAMILIES, QEFit, pool_medians_qe, qe_fit
from .survival import median_survival_se, pool_median_survival

__all__ = [
    "MedianSummary", "describe_medians", "MeanSDEstimate", "estimate_mean_sd", "MEDIAN_METHODS",
    "PooledMedian", "pool_medians", "weighted_quantile", "median_survival_se", "pool_median_survival",
    "QE_FAMILIES", "QEFit", "pool_medians_qe", "qe_fit",
]  # fmt: skip
