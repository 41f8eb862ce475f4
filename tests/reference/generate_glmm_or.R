#!/usr/bin/env Rscript
# Reference values for metapool's GLMM of 2x2 tables (metapool.rma_glmm("OR",
# model = "UM.FS")), computed with metafor's rma.glmm(measure = "OR",
# model = "UM.FS"), which calls lme4::glmer.
#
# generated fixture, DO NOT EDIT; regenerate with
# `Rscript tests/reference/generate_glmm_or.R` from the repo root.
#
# Output: tests/reference/glmm_or_reference.json.gz (gzip-compressed JSON):
#   meta     : versions, seed, defaults
#   datasets : list of {id, ai, bi, ci, di, note, fits: [{test, tight, result | error, warnings}]}
#
# Conventions:
#   * NA / NaN / +-Inf are written as JSON null.
#   * Every rma.glmm() call uses metafor's defaults (model "UM.FS", method
#     "ML", nAGQ = 7, coding = 1/2, drop00 = TRUE, add = 1/2, to = "only0");
#     warnings are recorded as strings, an error gives result = null and
#     error = <message>.
#   * Each data set is also fitted with tight lme4 tolerances ("tight": true;
#     bobyqa for both glmer stages with rhoend = 1e-8 and tolPwrss = 1e-10, or
#     where PIRLS then fails, lme4's default tolPwrss; "tight_control" says
#     which): with k + 2 parameters lme4's default Nelder-Mead (FtolAbs =
#     1e-5) stops early where the likelihood is flat.
#   * ll is metafor's fit.stats["ll", "ML"] (ll.QE - deviance(glmer) / 2, where
#     lme4's deviance() of a GLMM is the conditional deviance at the modes);
#     ll_lme4 is logLik() of the glmer fit (the AGQ marginal log-likelihood
#     relative to the saturated model, as lme4 computes it for nAGQ > 1);
#     ll_QE and ll_FE are logLik() of the saturated and common-effect GLMs.
#   * Random data sets: control logits a_i ~ N(m, 1), log odds ratios
#     ~ N(mu, tau2) (treatment logit a_i + theta_i), arm sizes log-uniform;
#     "shape" tells which corner is covered.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261127
set.seed(SEED)
OUT <- "tests/reference/glmm_or_reference.json.gz"

TIGHT <- list(
  "bobyqa, rhoend = 1e-8, tolPwrss = 1e-10" =
    list(glmerCtrl = list(optimizer = "bobyqa", tolPwrss = 1e-10, optCtrl = list(rhoend = 1e-8, maxfun = 1e6))),
  "bobyqa, rhoend = 1e-8" =
    list(glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-8, maxfun = 1e6))))

num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(x)

fit_one <- function(ai, bi, ci, di, test, tight = FALSE) {
  if (isTRUE(tight)) {
    for (name in names(TIGHT)) {
      out <- fit_one(ai, bi, ci, di, test, TIGHT[[name]])
      out$tight <- TRUE
      out$tight_control <- name
      if (is.null(out$error)) break
    }
    return(out)
  }
  warns <- character(0)
  ctrl <- if (is.list(tight)) tight else list()
  res <- withCallingHandlers(
    tryCatch(rma.glmm(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, model = "UM.FS",
                      test = test, control = ctrl, retfit = TRUE),
             error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  if (inherits(res, "error")) {
    return(list(test = test, tight = tight, result = NULL, error = conditionMessage(res),
                warnings = I(warns)))
  }
  pr <- predict(res)
  conv <- res$res.ML@optinfo$conv$lme4$messages
  list(test = test, tight = tight, error = NULL, warnings = I(warns),
       lme4_messages = I(if (is.null(conv)) character(0) else conv),
       result = list(
         estimate = res$beta[1], se = res$se, zval = res$zval, pval = res$pval,
         ci_lb = res$ci.lb, ci_ub = res$ci.ub, tau2 = res$tau2, I2 = res$I2, H2 = res$H2,
         vt = res$vt, QE_Wld = num(res$QE.Wld), QEp_Wld = num(res$QEp.Wld), QE_LRT = num(res$QE.LRT),
         QEp_LRT = num(res$QEp.LRT), QE_df = num(res$QE.df), ll = res$fit.stats["ll", "ML"],
         ll_lme4 = c(logLik(res$res.ML)), ll_QE = c(logLik(res$res.QE)), ll_FE = c(logLik(res$res.FE)),
         pi_lb = pr$pi.lb, pi_ub = pr$pi.ub, or = exp(res$beta[1]), or_ci_lb = exp(res$ci.lb),
         or_ci_ub = exp(res$ci.ub), k = res$k))
}

datasets <- list()
add_dataset <- function(id, ai, bi, ci, di, note = "", tests = "z") {
  fits <- c(lapply(tests, function(tt) fit_one(ai, bi, ci, di, tt)),
            list(fit_one(ai, bi, ci, di, "z", tight = TRUE)))
  datasets[[length(datasets) + 1]] <<- list(id = id, ai = ai, bi = bi, ci = ci, di = di, note = note,
                                            fits = fits)
  cat(id, "\n")
}
add_n <- function(id, ai, n1i, ci, n2i, note = "", tests = "z") {
  add_dataset(id, ai, n1i - ai, ci, n2i - ci, note, tests)
}

# metafor's worked examples and other 2x2 data sets shipped with it
with(dat.bcg, add_dataset("bcg", tpos, tneg, cpos, cneg, "dat.bcg", tests = c("z", "t")))
with(dat.nielweise2007, add_n("nielweise2007", ai, n1i, ci, n2i, "dat.nielweise2007 (zero cells)"))
with(dat.li2007, add_n("li2007", ai, n1i, ci, n2i, "dat.li2007 (rare events, zero cells)"))
with(dat.hine1989, add_n("hine1989", ai, n1i, ci, n2i, "dat.hine1989"))
with(dat.lee2004, add_n("lee2004", ai, n1i, ci, n2i, "dat.lee2004"))

# random 2x2 tables of many shapes
shapes <- list(
  list(k = c(2, 40), n = c(20, 2000), m = c(-3, 0), mu = c(-1, 1), tau2 = c(0, 0, 0.1, 0.5, 1)),
  list(k = c(2, 6), n = c(10, 60), m = c(-2, 1), mu = c(-1, 1), tau2 = c(0, 0.3, 1)),
  list(k = c(10, 40), n = c(50, 1000), m = c(-6, -4), mu = c(-0.5, 0.5), tau2 = c(0, 0.2, 0.5)),
  list(k = c(5, 30), n = c(50, 500), m = c(-2, 0), mu = c(-1, 1), tau2 = c(2, 4)),
  list(k = c(5, 20), n = c(1e4, 1e5), m = c(-4, -1), mu = c(-0.5, 0.5), tau2 = c(0, 0.05, 0.3))
)
for (i in 1:40) {
  s <- (i - 1) %% length(shapes) + 1
  sh <- shapes[[s]]
  k <- sample(sh$k[1]:sh$k[2], 1)
  n1i <- round(exp(runif(k, log(sh$n[1]), log(sh$n[2]))))
  n2i <- round(exp(runif(k, log(sh$n[1]), log(sh$n[2]))))
  tau2 <- sample(sh$tau2, 1)
  mu <- runif(1, sh$mu[1], sh$mu[2])
  a <- rnorm(k, runif(1, sh$m[1], sh$m[2]), 1)
  ai <- rbinom(k, n1i, plogis(a + rnorm(k, mu, sqrt(tau2))))
  ci <- rbinom(k, n2i, plogis(a))
  add_n(sprintf("or_%02d", i), ai, n1i, ci, n2i,
        sprintf("shape %d, k = %d, tau2 = %g, mu = %.2f", s, k, tau2, mu),
        tests = if (i %% 10 == 0) c("z", "t") else "z")
}

# corners
add_n("or_k2", c(3, 40), c(50, 60), c(10, 20), c(50, 60), "k = 2")
add_n("or_double_zero", c(0, 5, 8, 2, 12, 0), c(40, 60, 80, 30, 100, 25),
      c(0, 9, 15, 6, 14, 3), c(40, 60, 80, 30, 100, 25), "one double-zero study (drop00) and a zero cell")
add_n("or_all_events", c(20, 5, 8, 2, 12), c(20, 60, 80, 30, 100),
      c(20, 9, 15, 6, 14), c(20, 60, 80, 30, 100), "one study with only events (drop00)")
add_n("or_common", c(10, 20, 40, 5), c(100, 200, 400, 50), c(20, 40, 80, 10), c(100, 200, 400, 50),
      "identical odds ratios (tau2 = 0)")
add_n("or_zero_arm", c(0, 0, 0, 0), c(50, 60, 70, 80), c(3, 5, 2, 6), c(50, 60, 70, 80),
      "no events in any treatment arm (separation)")
add_n("or_huge_n", c(123456, 250000, 180000, 310000, 222222), rep(1e6, 5),
      c(150000, 240000, 200000, 290000, 260000), rep(1e6, 5), "n = 10^6 per arm")
add_n("or_one_study", 5, 50, 10, 50, "k = 1")
add_n("or_sparse", c(1, 0, 2, 0, 1, 0, 3, 1), c(100, 120, 90, 110, 100, 95, 130, 105),
      c(0, 2, 4, 1, 3, 2, 5, 0), c(100, 115, 95, 100, 105, 100, 125, 110), "1-5 events per arm")

out <- list(
  meta = list(
    metafor = as.character(packageVersion("metafor")),
    lme4 = as.character(packageVersion("lme4")),
    R = R.version.string, seed = SEED,
    defaults = "rma.glmm(measure = 'OR', model = 'UM.FS', method = 'ML', nAGQ = 7, coding = 1/2, drop00 = TRUE)"
  ),
  datasets = datasets
)
json <- toJSON(out, digits = NA, null = "null", na = "null", auto_unbox = TRUE)
con <- gzfile(OUT, "w")
writeLines(json, con)
close(con)
cat("wrote", OUT, "with", length(datasets), "data sets\n")
