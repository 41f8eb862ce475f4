"""Generalised linear mixed models of study counts (metafor's ``rma.glmm``), in one package.

* :mod:`.model`: :func:`rma_glmm`, the binomial-normal (PLO) and
  Poisson-normal (IRLN) random-intercept models, dispatching ``measure="OR"``
  to :mod:`.tables`;
* :mod:`.tables`: 2x2 tables with fixed study intercepts and a random log
  odds ratio (metafor's ``UM.FS``);
* :mod:`.kernels`, :mod:`.table_kernels`: the batched numerics (adaptive
  Gauss-Hermite quadrature, Newton's method, the saturated GLM);
* :mod:`.result`: :class:`GLMMResult` and its :class:`Correction` (metafor's
  ``add``, ``to``, ``drop00``: the escalc options of the observed outcomes
  behind I^2 and H^2), assembled for both models in one place,
  :mod:`.assemble` (Wald inference, heterogeneity tests, I^2, weights);
* :mod:`.information`: each study's information for the pooled value (the
  GLMM's weights);
* :mod:`.subsets`: the GLMM refitted to subsets of a fit's studies as one
  batch (behind leave-one-out, cumulative, influence and GOSH analyses, which
  :mod:`metapool.influence.glmm` registers; bias analyses of GLMM fits are in
  :mod:`metapool.bias.glmm`).

The package is in the models layer: :mod:`metapool.models.methods` fits GLMMs.
"""

from .model import GLMM_MEASURES, rma_glmm
from .result import GLMM_MODELS, Correction, GLMMResult

__all__ = ["GLMM_MEASURES", "GLMM_MODELS", "Correction", "GLMMResult", "rma_glmm"]
