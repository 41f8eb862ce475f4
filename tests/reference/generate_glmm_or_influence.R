#!/usr/bin/env Rscript
# Reference values for metapool's sensitivity analyses of GLMM fits of 2x2 tables
# (metapool.influence.leave_one_out, influence, baujat on rma_glmm("OR") fits):
# metafor's rma.glmm(measure = "OR", model = "UM.FS") refitted by hand on every
# leave-one-out subset.
#
# generated fixture, DO NOT EDIT; regenerate with
# `Rscript tests/reference/generate_glmm_or_influence.R` from the repo root.
#
# Output: tests/reference/glmm_or_influence_reference.json.gz (gzip-compressed JSON):
#   meta     : versions, seed, control
#   datasets : list of {id, ai, bi, ci, di, note, full, loo: [fit | null]}
#              where a fit is {estimate, se, tau2, QE_Wld, QE_LRT, k, control} and loo[[i]]
#              is rma.glmm on the tables without study i (null when rma.glmm stops with an error).
#
# Conventions:
#   * metafor's rma.glmm does not support influence() or leave1out(); the refits are done
#     here by subsetting the tables, with metafor's defaults (model "UM.FS", ML, nAGQ = 7,
#     coding = 1/2, drop00 = TRUE, add = 1/2, to = "only0").
#   * With k + 2 parameters lme4's default Nelder-Mead (FtolAbs = 1e-5) stops early where the
#     likelihood is flat, so every fit uses tight lme4 tolerances as generate_glmm_or.R does:
#     bobyqa for both glmer stages with rhoend = 1e-8 and tolPwrss = 1e-10, or where PIRLS
#     then fails lme4's default tolPwrss ("control" says which).
#   * NA / NaN / +-Inf are written as JSON null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261128
set.seed(SEED)
OUT <- "tests/reference/glmm_or_influence_reference.json.gz"

TIGHT <- list(
  "bobyqa, rhoend = 1e-8, tolPwrss = 1e-10" =
    list(glmerCtrl = list(optimizer = "bobyqa", tolPwrss = 1e-10, optCtrl = list(rhoend = 1e-8, maxfun = 1e6))),
  "bobyqa, rhoend = 1e-8" =
    list(glmerCtrl = list(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-8, maxfun = 1e6))))

num <- function(x) if (is.null(x) || length(x) == 0) NA else unname(x)

fit_one <- function(ai, bi, ci, di) {
  for (name in names(TIGHT)) {
    res <- tryCatch(suppressWarnings(
      rma.glmm(measure = "OR", ai = ai, bi = bi, ci = ci, di = di, model = "UM.FS",
               control = TIGHT[[name]])),
      error = function(e) NULL)
    if (!is.null(res)) {
      return(list(estimate = res$beta[1], se = res$se, tau2 = res$tau2, QE_Wld = num(res$QE.Wld),
                  QE_LRT = num(res$QE.LRT), k = res$k, control = name))
    }
  }
  NULL
}

datasets <- list()
add_dataset <- function(id, ai, bi, ci, di, note) {
  loo <- lapply(seq_along(ai), function(i) fit_one(ai[-i], bi[-i], ci[-i], di[-i]))
  datasets[[length(datasets) + 1]] <<- list(id = id, ai = ai, bi = bi, ci = ci, di = di, note = note,
                                            full = fit_one(ai, bi, ci, di), loo = loo)
  cat(id, "\n")
}

with(dat.bcg, add_dataset("bcg", tpos, tneg, cpos, cneg, "dat.bcg"))

random_tables <- function(k, n, m, mu, tau2) {
  n1i <- round(exp(runif(k, log(n[1]), log(n[2]))))
  n2i <- round(exp(runif(k, log(n[1]), log(n[2]))))
  a <- rnorm(k, m, 1)
  ai <- rbinom(k, n1i, plogis(a + rnorm(k, mu, sqrt(tau2))))
  ci <- rbinom(k, n2i, plogis(a))
  list(ai = ai, bi = n1i - ai, ci = ci, di = n2i - ci)
}
r1 <- random_tables(9, c(30, 400), -1.5, -0.6, 0.4)
add_dataset("or_k9", r1$ai, r1$bi, r1$ci, r1$di, "random: k = 9, control logit ~ N(-1.5, 1), mu = -0.6, tau2 = 0.4")
r2 <- random_tables(7, c(15, 80), -2.5, 0.4, 0.15)
add_dataset("or_k7_sparse", r2$ai, r2$bi, r2$ci, r2$di,
            "random: k = 7, small arms, control logit ~ N(-2.5, 1), mu = 0.4, tau2 = 0.15")

out <- list(
  meta = list(
    generator = "tests/reference/generate_glmm_or_influence.R",
    R = R.version.string,
    metafor = as.character(packageVersion("metafor")),
    lme4 = as.character(packageVersion("lme4")),
    seed = SEED,
    control = paste(names(TIGHT), collapse = "; else ")
  ),
  datasets = datasets
)
con <- gzfile(OUT, "w")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null"), con)
close(con)
cat("wrote", OUT, "with", length(datasets), "data sets\n")
