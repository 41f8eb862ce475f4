"""Differences between a GLMM result and an ``rma.glmm`` reference fit, in tolerance units.

Shared by the GLMM reference tests (one-group measures and 2x2 tables): each
value is an absolute difference (estimate, tau2) or a difference relative to
the reference's magnitude plus its SE (limits), so one tolerance serves all.
"""


def limit_errors(res, ref: dict) -> dict:
    """|difference| of the estimate, tau2, SE, CI and prediction limits, scaled by their tolerance unit."""
    scale = abs(ref["se"])
    return {
        "estimate": abs(res.estimate - ref["estimate"]),
        "tau2": abs(res.tau2 - ref["tau2"]),
        "se": abs(res.se - ref["se"]) / abs(ref["se"]),
        "ci_lb": abs(res.ci_lower - ref["ci_lb"]) / (abs(ref["ci_lb"]) + scale),
        "ci_ub": abs(res.ci_upper - ref["ci_ub"]) / (abs(ref["ci_ub"]) + scale),
        "pi_lb": abs(res.pi_lower - ref["pi_lb"]) / (abs(ref["pi_lb"]) + scale),
        "pi_ub": abs(res.pi_upper - ref["pi_ub"]) / (abs(ref["pi_ub"]) + scale),
    }
