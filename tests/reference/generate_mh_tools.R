#!/usr/bin/env Rscript
# generated fixture, DO NOT EDIT; regenerate with
#   Rscript tests/reference/generate_mh_tools.R
# from the repository root. Writes tests/reference/mh_tools_reference.json.gz.
#
# Reference values of metafor 3.8-1 for the bias and sensitivity tools that
# metafor supports on Mantel-Haenszel (rma.mh: OR, RR, RD) and Peto (rma.peto)
# fits, all with their defaults:
#   * regtest(fit) (model "rma": for these fits a common-effect meta-regression
#     of the study-level yi on sei, z test), and regtest(fit, model = "lm");
#   * ranktest(fit) (Begg and Mazumdar's rank correlation of the study-level yi);
#   * fsn(fit$yi, fit$vi) (Rosenthal's fail-safe N of the study-level yi);
#   * leave1out(fit) (the MH / Peto model refitted without each table);
#   * cumul(fit) in the data order and cumul(fit, order = ai + ci, decreasing = TRUE)
#     (the model fitted to the first 1, 2, ..., k tables);
#   * gosh(fit) for k <= 10 (every subset of the tables).
# trimfill() and influence() have no method for rma.mh / rma.peto (checked below:
# their errors are recorded). Data: metafor's dat.bcg and dat.nielweise2007,
# and random tables with zero cells and double-zero tables.
# Conventions: NA / NaN / Inf are written as null.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261203
set.seed(SEED)
OUT <- file.path("tests", "reference", "mh_tools_reference.json.gz")
if (!dir.exists(dirname(OUT))) stop("run from the repository root")

num <- function(x) { x <- as.numeric(x); x[!is.finite(x)] <- NA; x }
err <- function(expr) tryCatch(expr, error = function(e) list(error = conditionMessage(e)))

reg <- function(r) list(z = num(r$zval), p = num(r$pval), ddf = num(r$ddf), limit = num(r$est),
                        ci_lower = num(r$ci.lb), ci_upper = num(r$ci.ub))

case <- function(id, method, measure, tab) {
  args <- list(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di)
  fit <- suppressWarnings(if (method == "MH") do.call(rma.mh, c(args, measure = measure))
                          else do.call(rma.peto, args))
  l1o <- suppressWarnings(leave1out(fit))
  series <- function(s) list(estimate = num(s$estimate), se = num(s$se), z = num(s$zval),
                              p = num(s$pval), ci_lower = num(s$ci.lb), ci_upper = num(s$ci.ub),
                              q = num(s$Q), q_p = num(s$Qp), i2 = num(s$I2), h2 = num(s$H2))
  events <- tab$ai + tab$ci
  out <- list(id = id, method = method, measure = measure, tables = tab, k = fit$k, k_yi = fit$k.yi,
              leave1out = series(l1o),
              cumul = series(suppressWarnings(cumul(fit))),
              cumul_events_decreasing = series(suppressWarnings(cumul(fit, order = events, decreasing = TRUE))))
  if (fit$k <= 10) {
    g <- suppressWarnings(gosh(fit))$res
    out$gosh <- list(k = g$k, q = num(g$QE), i2 = num(g$I2), h2 = num(g$H2), tau2 = num(g$tau2),
                     estimate = num(g$estimate))
  }
  if (fit$k.yi >= 3) {
    out$regtest <- err(reg(suppressWarnings(regtest(fit))))
    out$regtest_lm <- err(reg(suppressWarnings(regtest(fit, model = "lm"))))
    rt <- suppressWarnings(ranktest(fit))
    out$ranktest <- list(tau = num(rt$tau), p = num(rt$pval))
    fs <- fsn(fit$yi, fit$vi)
    out$fsn <- list(fsnum = num(fs$fsnum), p = num(fs$pval))
  }
  out
}

tables <- function(k, p1, ratio, zeros = 0, double0 = 0) {
  n1 <- sample(20:300, k, replace = TRUE); n2 <- sample(20:300, k, replace = TRUE)
  ai <- rbinom(k, n1, p1); ci <- rbinom(k, n2, min(0.99, p1 * ratio))
  if (zeros > 0) ai[seq_len(zeros)] <- 0
  if (double0 > 0) { ai[k - seq_len(double0) + 1] <- 0; ci[k - seq_len(double0) + 1] <- 0 }
  list(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci)
}

sets <- list(
  list(id = "bcg", tables = list(ai = dat.bcg$tpos, bi = dat.bcg$tneg, ci = dat.bcg$cpos, di = dat.bcg$cneg)),
  list(id = "nielweise2007", tables = with(dat.nielweise2007, list(ai = ai, bi = n1i - ai, ci = ci, di = n2i - ci))),
  list(id = "random_k12", tables = tables(12, 0.15, 1.6)),
  list(id = "random_k20_zeros", tables = tables(20, 0.05, 2, zeros = 3)),
  list(id = "random_k10_double0", tables = tables(10, 0.04, 1.5, zeros = 1, double0 = 2)),
  list(id = "random_k4", tables = tables(4, 0.2, 1.3)),
  list(id = "random_k2", tables = tables(2, 0.2, 1.3))
)

cases <- list()
for (s in sets) {
  for (m in c("OR", "RR", "RD")) cases[[length(cases) + 1]] <- case(s$id, "MH", m, s$tables)
  cases[[length(cases) + 1]] <- case(s$id, "PETO", "PETO", s$tables)
}

bcg <- sets[[1]]$tables
mh <- rma.mh(ai = bcg$ai, bi = bcg$bi, ci = bcg$ci, di = bcg$di)
pt <- rma.peto(ai = bcg$ai, bi = bcg$bi, ci = bcg$ci, di = bcg$di)
not_available <- list(
  trimfill_mh = err(trimfill(mh))$error, trimfill_peto = err(trimfill(pt))$error,
  influence_mh = err(influence(mh))$error, influence_peto = err(influence(pt))$error
)

out <- list(
  meta = list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
              seed = SEED, script = "tests/reference/generate_mh_tools.R"),
  cases = cases,
  not_available = not_available
)
con <- gzfile(OUT, "w")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null"), con)
close(con)
