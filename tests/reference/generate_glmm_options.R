#!/usr/bin/env Rscript
# Reference values for metapool's GLMMs with the escalc options add, to and
# drop00 (metapool.rma_glmm(..., add=, to=, drop00=)), computed with metafor's
# rma.glmm(..., add =, to =, drop00 =), which passes them to escalc (the
# observed outcomes yi, vi behind vt, I2 and H2) and, for 2x2 tables, uses
# drop00 to decide which tables enter the model.
#
# generated fixture, DO NOT EDIT; regenerate with
# `Rscript tests/reference/generate_glmm_options.R` from the repo root.
#
# Output: tests/reference/glmm_options_reference.json.gz (gzip-compressed JSON):
#   meta     : versions, defaults
#   datasets : list of {id, measure, counts (xi, ni | ti | ai, bi, ci, di), note,
#               fits: [{add, to, drop00, result, escalc: {yi, vi}, warnings}]}
#
# Conventions:
#   * NA / NaN / +-Inf are written as JSON null.
#   * Every rma.glmm() call uses metafor's defaults (method "ML", nAGQ = 7,
#     model "UM.FS" for OR, test "z") apart from add, to and drop00; warnings
#     are recorded as strings.
#   * tight: estimate, se, tau2, I2, H2 of the same fit with tight lme4
#     tolerances (as generate_glmm.R and generate_glmm_or.R: Nelder-Mead
#     FtolAbs = 1e-12 and tolPwrss = 1e-12 for one group; bobyqa with
#     rhoend = 1e-8 and tolPwrss = 1e-10 for 2x2 tables), since lme4's
#     default optimiser stops early where the likelihood is flat.
#   * escalc holds yi and vi of escalc() with the same add, to (and, for OR,
#     drop00) as the fit, one entry per study of the data set (NA where
#     escalc gives no finite outcome or drops the study).
#   * k is the number of studies in the model, k_yi the number with a finite
#     outcome (those behind vt), QE_df the df of the heterogeneity tests.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

OUT <- "tests/reference/glmm_options_reference.json.gz"

TIGHT <- list(
  one_group = list(glmerCtrl = list(tolPwrss = 1e-12,
                                    optCtrl = list(FtolAbs = 1e-12, FtolRel = 1e-15, XtolRel = 1e-10))),
  tables = list(glmerCtrl = list(optimizer = "bobyqa", tolPwrss = 1e-10,
                                 optCtrl = list(rhoend = 1e-8, maxfun = 1e6))))

fit_one <- function(measure, counts, add, to, drop00) {
  warns <- character(0)
  args <- c(list(measure = measure), counts, list(add = add, to = to, drop00 = drop00))
  res <- withCallingHandlers(
    do.call(rma.glmm, args),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  ctrl <- if (measure == "OR") TIGHT$tables else TIGHT$one_group
  tight <- suppressWarnings(do.call(rma.glmm, c(args, list(control = ctrl))))
  es_args <- c(list(measure = measure), counts, list(add = add, to = to))
  if (measure == "OR") es_args$drop00 <- drop00
  es <- suppressWarnings(do.call(escalc, es_args))
  list(add = add, to = to, drop00 = drop00, warnings = I(warns),
       tight = list(estimate = tight$beta[1], se = tight$se, tau2 = tight$tau2, I2 = tight$I2, H2 = tight$H2),
       escalc = list(yi = as.numeric(es$yi), vi = as.numeric(es$vi)),
       result = list(
         estimate = res$beta[1], se = res$se, tau2 = res$tau2, I2 = res$I2, H2 = res$H2,
         vt = res$vt, QE_Wld = res$QE.Wld, QE_LRT = res$QE.LRT, QE_df = res$QE.df,
         k = res$k, k_yi = res$k.yi))
}

OPTIONS <- list(
  list(0.5, "only0", TRUE),   # metafor's defaults
  list(0.1, "all", TRUE),
  list(0.5, "if0all", TRUE),
  list(0, "only0", TRUE),     # no correction: studies with a zero cell have no finite outcome
  list(0.5, "none", TRUE),
  list(0.5, "only0", FALSE))  # drop00 = FALSE: ignored for one group; keeps double-zero tables for OR
OR_EXTRA <- list(list(0.1, "all", FALSE), list(0, "only0", FALSE), list(0.5, "if0all", FALSE))

datasets <- list()
add_dataset <- function(id, measure, counts, note, options = OPTIONS) {
  fits <- lapply(options, function(o) fit_one(measure, counts, o[[1]], o[[2]], o[[3]]))
  datasets[[length(datasets) + 1]] <<- c(list(id = id, measure = measure, note = note), counts,
                                          list(fits = fits))
}

add_dataset("plo_zero_cells", "PLO",
            list(xi = c(0, 3, 10, 7, 12, 0, 25, 15), ni = c(20, 40, 60, 35, 50, 15, 100, 15)),
            "proportions: two studies without events, one with only events")
add_dataset("irln_zero_events", "IRLN",
            list(xi = c(0, 4, 11, 2, 0, 20), ti = c(150, 300, 420, 90, 80, 600)),
            "rates: two studies without events")
ai <- c(0, 2, 9, 0, 15, 3, 1, 0, 10); n1i <- c(30, 25, 40, 20, 50, 30, 40, 25, 10)
ci <- c(0, 6, 2, 3, 12, 1, 8, 0, 12); n2i <- c(30, 25, 40, 20, 50, 30, 40, 25, 12)
add_dataset("or_double_zero", "OR", list(ai = ai, bi = n1i - ai, ci = ci, di = n2i - ci),
            "2x2 tables: two without events in both groups, one with only events, one zero cell",
            options = c(OPTIONS, OR_EXTRA))

out <- list(
  meta = list(
    metafor = as.character(packageVersion("metafor")),
    lme4 = as.character(packageVersion("lme4")),
    R = R.version.string,
    defaults = "rma.glmm(method = 'ML', nAGQ = 7, model = 'UM.FS', test = 'z'); add, to, drop00 as given"
  ),
  datasets = datasets
)
json <- toJSON(out, digits = NA, null = "null", na = "null", auto_unbox = TRUE)
con <- gzfile(OUT, "w")
writeLines(json, con)
close(con)
cat("wrote", OUT, "\n")
