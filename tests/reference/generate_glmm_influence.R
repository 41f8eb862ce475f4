#!/usr/bin/env Rscript
# Reference values for metapool's GLMM influence diagnostics (metapool.influence.influence,
# baujat on a GLMMResult): metafor's rma.glmm refitted by hand on every leave-one-out subset.
#
# generated fixture, DO NOT EDIT; regenerate with
# `Rscript tests/reference/generate_glmm_influence.R` from the repo root.
#
# Output: tests/reference/glmm_influence_reference.json.gz (gzip-compressed JSON):
#   meta     : versions, seed, control
#   datasets : list of {id, measure, xi, ni | ti, note, full, loo: [fit | null]}
#              where a fit is {estimate, se, tau2, QE_Wld, QE_LRT, k} and loo[[i]] is
#              rma.glmm on the data without study i (null when rma.glmm stops with an error).
#
# Conventions:
#   * metafor's rma.glmm does not support influence() or leave1out(); the refits are done
#     here by subsetting the data, with metafor's defaults (ML, nAGQ = 7, add = 1/2,
#     to = "only0") and tight lme4 tolerances (glmerControl(tolPwrss = 1e-12), Nelder-Mead
#     FtolAbs = 1e-12, XtolRel = 1e-10), as in generate_glmm.R, so that the optimum is the
#     maximum-likelihood estimate to the precision the comparison needs (1e-4).
#   * NA / NaN / +-Inf are written as JSON null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261127
set.seed(SEED)
OUT <- "tests/reference/glmm_influence_reference.json.gz"

TIGHT <- list(glmerCtrl = list(tolPwrss = 1e-12,
                                optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10)))

fit_one <- function(measure, xi, size) {
  res <- tryCatch(suppressWarnings(
    if (measure == "PLO") rma.glmm(measure = "PLO", xi = xi, ni = size, control = TIGHT)
    else rma.glmm(measure = "IRLN", xi = xi, ti = size, control = TIGHT)),
    error = function(e) NULL)
  if (is.null(res)) return(NULL)
  list(estimate = res$beta[1], se = res$se, tau2 = res$tau2, QE_Wld = res$QE.Wld,
       QE_LRT = res$QE.LRT, k = res$k)
}

datasets <- list()
add_dataset <- function(id, measure, xi, size, note) {
  loo <- lapply(seq_along(xi), function(i) fit_one(measure, xi[-i], size[-i]))
  d <- list(id = id, measure = measure, xi = xi, note = note,
            full = fit_one(measure, xi, size), loo = loo)
  if (measure == "PLO") d$ni <- size else d$ti <- size
  datasets[[length(datasets) + 1]] <<- d
}

pritz <- dat.pritz1997
add_dataset("pritz1997", "PLO", pritz$xi, pritz$ni, "dat.pritz1997")

random_plo <- function(k, mu, tau2) {
  ni <- round(exp(runif(k, log(20), log(400))))
  xi <- rbinom(k, ni, plogis(rnorm(k, mu, sqrt(tau2))))
  list(xi = xi, ni = ni)
}
r1 <- random_plo(8, -1.5, 0.6)
add_dataset("plo_k8", "PLO", r1$xi, r1$ni, "random: k = 8, mu = -1.5, tau2 = 0.6")
r2 <- random_plo(12, -2.5, 0.3)
add_dataset("plo_k12", "PLO", r2$xi, r2$ni, "random: k = 12, mu = -2.5, tau2 = 0.3")
r3 <- random_plo(6, 0.5, 0.05)
add_dataset("plo_k6_low", "PLO", r3$xi, r3$ni, "random: k = 6, mu = 0.5, tau2 = 0.05")

ti <- round(exp(runif(7, log(100), log(2000))))
xr <- rpois(7, ti * exp(rnorm(7, log(0.02), sqrt(0.4))))
add_dataset("irln_k7", "IRLN", xr, ti, "random rates: k = 7, rate 0.02, tau2 = 0.4")

out <- list(
  meta = list(
    generator = "tests/reference/generate_glmm_influence.R",
    R = R.version.string,
    metafor = as.character(packageVersion("metafor")),
    lme4 = as.character(packageVersion("lme4")),
    seed = SEED,
    control = "glmerControl(tolPwrss = 1e-12), optCtrl FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10"
  ),
  datasets = datasets
)
con <- gzfile(OUT, "w")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null"), con)
close(con)
cat("wrote", OUT, "with", length(datasets), "data sets\n")
