#!/usr/bin/env Rscript
# Reference values for metapool's GLMMs (metapool.rma_glmm), computed with
# metafor's rma.glmm (which calls lme4::glmer).
#
# generated fixture, DO NOT EDIT; regenerate with
# `Rscript tests/reference/generate_glmm.R` from the repo root.
#
# Output: tests/reference/glmm_reference.json.gz (gzip-compressed JSON):
#   meta     : versions, seed, defaults
#   datasets : list of {id, measure, xi, ni | ti, note, fits: [{test, result | error, warnings}]}
#
# Conventions:
#   * NA / NaN / +-Inf are written as JSON null.
#   * Every rma.glmm() call uses metafor's defaults (method "ML", nAGQ = 7,
#     add = 1/2, to = "only0"); warnings are recorded as strings, an error
#     (e.g. "Cannot fit ML model") gives result = null and error = <message>.
#   * Each data set is also fitted with tight lme4 tolerances ("tight": true;
#     glmerControl(tolPwrss = 1e-12) and Nelder-Mead FtolAbs = 1e-12,
#     XtolRel = 1e-10): lme4's default PIRLS tolerance (1e-7 on the penalised
#     deviance) perturbs the objective, which moves the estimates where the
#     likelihood is flat (large tau2, huge n).
#   * Random data sets: logit (or log-rate) study effects drawn from
#     N(mu, tau2), sizes log-uniform; "shape" tells which corner is covered.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261126
set.seed(SEED)
OUT <- "tests/reference/glmm_reference.json.gz"

TIGHT <- list(glmerCtrl = list(tolPwrss = 1e-12,
                                optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10)))

fit_one <- function(measure, xi, ni, ti, test, tight = FALSE) {
  warns <- character(0)
  ctrl <- if (tight) TIGHT else list()
  res <- withCallingHandlers(
    tryCatch(
      if (measure == "PLO") rma.glmm(measure = "PLO", xi = xi, ni = ni, test = test, control = ctrl)
      else rma.glmm(measure = "IRLN", xi = xi, ti = ti, test = test, control = ctrl),
      error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  if (inherits(res, "error")) {
    return(list(test = test, tight = tight, result = NULL, error = conditionMessage(res),
                warnings = I(warns)))
  }
  list(test = test, tight = tight, error = NULL, warnings = I(warns), result = list(
    estimate = res$beta[1], se = res$se, zval = res$zval, pval = res$pval,
    ci_lb = res$ci.lb, ci_ub = res$ci.ub, tau2 = res$tau2, I2 = res$I2, H2 = res$H2,
    vt = res$vt, QE_Wld = res$QE.Wld, QEp_Wld = res$QEp.Wld, QE_LRT = res$QE.LRT,
    QEp_LRT = res$QEp.LRT, QE_df = res$QE.df, ll = res$fit.stats["ll", "ML"],
    pi_lb = predict(res)$pi.lb, pi_ub = predict(res)$pi.ub, k = res$k))
}

datasets <- list()
add_dataset <- function(id, measure, xi, size, note = "", tests = "z") {
  one <- function(tt, tight) {
    if (measure == "PLO") fit_one(measure, xi, size, NULL, tt, tight)
    else fit_one(measure, xi, NULL, size, tt, tight)
  }
  fits <- c(lapply(tests, one, tight = FALSE), list(one("z", TRUE)))
  d <- list(id = id, measure = measure, xi = xi, note = note, fits = fits)
  if (measure == "PLO") d$ni <- size else d$ti <- size
  datasets[[length(datasets) + 1]] <<- d
}

# metafor's worked example
pritz <- dat.pritz1997
add_dataset("pritz1997", "PLO", pritz$xi, pritz$ni, "dat.pritz1997", tests = c("z", "t"))

# random proportions of many shapes
shapes <- list(
  list(k = c(2, 60), n = c(5, 5000), mu = c(-4, 2), tau2 = c(0, 0, 0.1, 0.5, 1, 3, 8)),
  list(k = c(2, 5), n = c(5, 50), mu = c(-3, 3), tau2 = c(0, 0.5, 2)),
  list(k = c(20, 60), n = c(50, 5000), mu = c(-6, -2), tau2 = c(0, 0.2, 1)),
  list(k = c(5, 32), n = c(5, 200), mu = c(-1, 1), tau2 = c(0, 0.05, 0.3))
)
for (i in 1:80) {
  sh <- shapes[[(i - 1) %% length(shapes) + 1]]
  k <- sample(sh$k[1]:sh$k[2], 1)
  ni <- round(exp(runif(k, log(sh$n[1]), log(sh$n[2]))))
  tau2 <- sample(sh$tau2, 1)
  mu <- runif(1, sh$mu[1], sh$mu[2])
  xi <- rbinom(k, ni, plogis(rnorm(k, mu, sqrt(tau2))))
  add_dataset(sprintf("plo_%02d", i), "PLO", xi, ni,
              sprintf("shape %d, tau2 = %g, mu = %.2f", (i - 1) %% length(shapes) + 1, tau2, mu),
              tests = if (i %% 10 == 0) c("z", "t") else "z")
}

# corners where lme4 is known to struggle
add_dataset("plo_identical", "PLO", rep(10, 6), rep(50, 6), "identical proportions")
add_dataset("plo_identical_sizes", "PLO", c(5, 10, 20, 40), c(25, 50, 100, 200), "identical proportions, different n")
add_dataset("plo_all_zero", "PLO", rep(0, 5), c(10, 20, 30, 40, 50), "no events anywhere")
add_dataset("plo_all_events", "PLO", c(10, 20, 30), c(10, 20, 30), "only events")
add_dataset("plo_huge_n", "PLO", c(1234567, 2500000, 1800000, 3100000, 2222222),
            rep(1e7, 5), "n = 10^7")
add_dataset("plo_extreme_tau2", "PLO", c(0, 1, 50, 199, 200, 3, 180, 2), rep(200, 8), "extreme heterogeneity")
add_dataset("plo_one_event", "PLO", c(1, 0, 0, 0, 0, 0), rep(100, 6), "a single event")
add_dataset("plo_k2", "PLO", c(3, 40), c(50, 60), "k = 2")

# random incidence rates
for (i in 1:25) {
  k <- sample(2:40, 1)
  ti <- round(exp(runif(k, log(10), log(1e5))), 1)
  tau2 <- sample(c(0, 0, 0.1, 0.5, 2), 1)
  mu <- runif(1, -8, -2)
  xi <- rpois(k, ti * exp(rnorm(k, mu, sqrt(tau2))))
  add_dataset(sprintf("irln_%02d", i), "IRLN", xi, ti, sprintf("tau2 = %g, mu = %.2f", tau2, mu))
}

out <- list(
  meta = list(
    metafor = as.character(packageVersion("metafor")),
    lme4 = as.character(packageVersion("lme4")),
    R = R.version.string, seed = SEED,
    defaults = "rma.glmm(method = 'ML', nAGQ = 7, add = 1/2, to = 'only0')"
  ),
  datasets = datasets
)
json <- toJSON(out, digits = NA, null = "null", na = "null", auto_unbox = TRUE)
con <- gzfile(OUT, "w")
writeLines(json, con)
close(con)
cat("wrote", OUT, "with", length(datasets), "data sets\n")
