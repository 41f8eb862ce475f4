#!/usr/bin/env Rscript
# Reference values for metapool's bias and sensitivity analyses, computed with R's metafor.
#
# generated fixture, DO NOT EDIT; regenerate with
#   Rscript tests/reference/generate_bias.R
# from the repository root.  Output: tests/reference/bias_reference.json.gz
#
# Structure: meta; datasets: list of {id, yi, vi, ni (or null), order, events, nonevents,
#   ranktest, fsn, fits: [{method, test, fit, regtest[], trimfill[], leave1out, cumul,
#   influence, baujat, gosh}], peters, lfk}; glmm: [{id, xi, ni, leave1out, cumul (from k = 2),
#   regtest, trimfill}] (rma.glmm refits by hand; funnel tests on the study-level logits)
# Conventions: NA/NaN/Inf are JSON null; method "FE" is metafor's "EE"; every call is
# wrapped so that an error is recorded as {error: message}.  Models are fitted with a
# tight convergence threshold (CTRL), which leave1out, influence, regtest and gosh carry
# over to their refits (and which is passed to trimfill), so that iterative estimators
# are comparable to 1e-8.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261127
CTRL <- list(threshold = 1e-12, maxiter = 10000)
set.seed(SEED)
OUT <- file.path("tests", "reference", "bias_reference.json.gz")
if (!dir.exists(dirname(OUT))) stop("run from the repository root")

vec <- function(x) I(as.numeric(x))
num <- function(x) if (is.null(x) || length(x) == 0) NULL else as.numeric(x)[1]
safe <- function(expr) tryCatch(suppressWarnings(expr), error = function(e) list(error = conditionMessage(e)))

fit_rma <- function(d, method, test) {
  m <- if (method == "FE") "EE" else method
  dd <- data.frame(yi = d$yi, vi = d$vi, ord = d$order)
  if (!is.null(d$ni)) dd$ni <- d$ni
  if (is.null(d$ni)) rma(yi, vi, data = dd, method = m, test = test, control = CTRL) else
    rma(yi, vi, ni = ni, data = dd, method = m, test = test, control = CTRL)
}

regtests <- function(res, has_ni) {
  preds <- c("sei", "vi", if (has_ni) c("ni", "ninv", "sqrtni", "sqrtninv"))
  out <- list()
  for (model in c("rma", "lm")) for (p in preds) {
    r <- safe(regtest(res, model = model, predictor = p))
    out[[length(out) + 1]] <- if (!is.null(r$error)) list(model = model, predictor = p, error = r$error) else
      list(model = model, predictor = p, zval = num(r$zval), pval = num(r$pval), ddf = num(r$ddf),
           est = num(r$est), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub))
  }
  out
}

trimfills <- function(res) {
  out <- list()
  for (est in c("L0", "R0", "Q0")) for (side in c("auto", "left", "right")) {
    tf <- if (side == "auto") safe(trimfill(res, estimator = est, control = CTRL)) else
      safe(trimfill(res, side = side, estimator = est, control = CTRL))
    out[[length(out) + 1]] <- if (!is.null(tf$error)) list(estimator = est, side_arg = side, error = tf$error) else
      list(estimator = est, side_arg = side, k0 = num(tf$k0), se_k0 = num(tf$se.k0), side = tf$side,
           p_k0 = num(tf$p.k0), estimate = num(tf$beta), se = num(tf$se), ci_lb = num(tf$ci.lb),
           ci_ub = num(tf$ci.ub), tau2 = num(tf$tau2), zval = num(tf$zval),
           filled_yi = vec(tf$yi[tf$fill]), filled_vi = vec(tf$vi[tf$fill]))
  }
  out
}

listcols <- function(x, cols) setNames(lapply(cols, function(cl) vec(x[[cl]])), cols)

sensitivity <- function(res) {
  l1 <- safe(leave1out(res))
  cu <- safe(cumul(res, order = ord))   # 'ord' is a column of the model's data
  inf <- safe(influence(res))
  pdf(NULL)
  bj <- safe(baujat(res))
  dev.off()
  stat <- if (res$test == "z") "zval" else "tval"
  cols <- c("estimate", "se", stat, "ci.lb", "ci.ub", "Q", "Qp", "I2", "H2")
  pick <- function(x, pv) if (!is.null(x$error)) x else
    c(listcols(x, cols), list(pval = vec(x[[pv]]), tau2 = vec(if (is.null(x$tau2)) rep(0, length(x$estimate)) else x$tau2)))
  list(
    leave1out = pick(l1, "pval"),
    cumul = pick(cu, "pvals"),
    influence = if (!is.null(inf$error)) inf else
      c(listcols(inf$inf, c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")),
        list(dfbs = vec(inf$dfbs[[1]]), is_infl = I(as.logical(inf$is.infl)))),
    baujat = if (!is.null(bj$error)) bj else list(x = vec(bj$x), y = vec(bj$y))
  )
}

gosh_ref <- function(res) {
  g <- safe(gosh(res, progbar = FALSE))
  if (!is.null(g$error)) return(g)
  c(listcols(g$res, c("k", "QE", "I2", "H2", "tau2", "estimate")),
    list(incl = I(apply(g$incl, 1, function(r) sum(2^(which(r) - 1))))))
}

lfk_r <- function(yi, sei) {   # the formula of Furuya-Kanamori et al. (2018), written out
  o <- order(yi); y <- yi[o]; v <- sei[o]^2
  n <- 100 * max(v) / v
  mid <- cumsum(n) - n / 2
  z <- qnorm((mid - 0.5) / sum(n))
  d <- y - y[which.min(abs(z))]
  5 / (2 * length(y)) * sum(z + (max(z) - min(z)) / (max(d) - min(d)) * d)
}

dataset <- function(id, yi, vi, ni = NULL, order = NULL, events = NULL, nonevents = NULL,
                    methods = c("FE", "DL", "REML"), tests = c("z", "knha"), do_gosh = FALSE) {
  if (is.null(order)) order <- seq_along(yi)
  d <- list(yi = yi, vi = vi, ni = ni, order = order)
  fits <- list()
  for (method in methods) for (test in tests) {
    res <- safe(fit_rma(d, method, test))
    if (!is.null(res$error)) next
    entry <- list(method = method, test = test,
                  fit = list(estimate = num(res$beta), tau2 = num(res$tau2), se = num(res$se)),
                  regtest = regtests(res, !is.null(ni)),
                  trimfill = trimfills(res))
    entry <- c(entry, sensitivity(res))
    if (do_gosh && test == "z") entry$gosh <- gosh_ref(res)
    fits[[length(fits) + 1]] <- entry
  }
  rt <- safe(ranktest(yi, vi))
  fsns <- list(
    Rosenthal = safe(fsn(yi, vi, type = "Rosenthal")),
    Orwin = safe(fsn(yi, vi, type = "Orwin")),
    OrwinWeighted = safe(fsn(yi, vi, type = "Orwin", weighted = TRUE)),
    Rosenberg = safe(fsn(yi, vi, type = "Rosenberg")))
  fsns <- lapply(fsns, function(f) if (!is.null(f$error)) f else
    list(fsnum = num(f$fsnum), pval = num(f$pval), meanes = num(f$meanes), target = num(f$target)))
  out <- list(id = id, yi = vec(yi), vi = vec(vi), ni = if (is.null(ni)) NULL else vec(ni), order = vec(order),
              ranktest = if (!is.null(rt$error)) rt else list(tau = num(rt$tau), pval = num(rt$pval)),
              fsn = fsns, fits = fits)
  if (length(yi) >= 3) out$lfk <- num(lfk_r(yi, sqrt(vi)))
  if (!is.null(events)) {
    w <- 1 / (1 / events + 1 / nonevents)
    ntot <- events + nonevents
    fit <- summary(lm(yi ~ I(1 / ntot), weights = w))
    out$events <- vec(events); out$nonevents <- vec(nonevents)
    out$peters <- list(tval = num(coef(fit)[2, 3]), pval = num(coef(fit)[2, 4]), est = num(coef(fit)[1, 1]))
  }
  out
}

datasets <- list()
add <- function(x) datasets[[length(datasets) + 1]] <<- x

# metafor's worked examples
h <- dat.hackshaw1998
add(dataset("hackshaw1998", h$yi, h$vi, order = h$year))
b <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
add(dataset("bcg", as.numeric(b$yi), as.numeric(b$vi), ni = with(dat.bcg, tpos + tneg + cpos + cneg),
            order = dat.bcg$year, events = with(dat.bcg, tpos + cpos), nonevents = with(dat.bcg, tneg + cneg),
            methods = c("FE", "DL", "REML", "PM"), tests = c("z", "t", "knha")))

# random data sets, some with small-study effects
spec <- list(c(3, 0), c(4, 0.5), c(5, 1), c(7, 0), c(9, 2), c(12, 1), c(20, 0), c(30, 1.5), c(55, 0.8))
for (i in seq_along(spec)) {
  k <- spec[[i]][1]; bias <- spec[[i]][2]
  ni <- round(runif(k, 20, 400))
  vi <- 4 / ni * runif(k, 0.8, 1.2)
  yi <- rnorm(k, 0.2 + bias * sqrt(vi), sqrt(vi + runif(1, 0, 0.1)))
  add(dataset(sprintf("random%02d_k%d", i, k), yi, vi, ni = ni, order = round(runif(k, 1990, 2000)),
              do_gosh = k <= 9))
}
# equal variances: ties in the rank test (normal approximation)
k <- 10; vi <- rep(c(0.04, 0.09), each = 5); yi <- rnorm(k, 0.3, sqrt(vi + 0.02))
add(dataset("ties_k10", yi, vi, ni = rep(c(100, 44), each = 5)))

# GLMM (rma.glmm has no leave1out/cumul): refits on the reduced data by hand, and the
# funnel-plot tests on the study-level logits (escalc PLO, rma with method ML)
glmm_refit <- function(d, keep) {
  r <- safe(rma.glmm(measure = "PLO", xi = d$xi[keep], ni = d$ni[keep]))
  if (!is.null(r$error)) return(r)
  list(estimate = num(r$beta), se = num(r$se), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub), tau2 = num(r$tau2),
       QE = num(r$QE.Wld), QEp = num(r$QEp.Wld))
}
glmm_ref <- function(id, xi, ni) {
  d <- list(xi = xi, ni = ni)
  k <- length(xi)
  sl <- rma(measure = "PLO", xi = xi, ni = ni, method = "ML", control = CTRL)
  rt <- regtest(sl)
  tf <- trimfill(sl, control = CTRL)
  list(id = id, xi = vec(xi), ni = vec(ni),
       leave1out = lapply(seq_len(k), function(i) glmm_refit(d, seq_len(k) != i)),
       cumul = lapply(2:k, function(i) glmm_refit(d, seq_len(k) <= i)),
       regtest = list(zval = num(rt$zval), pval = num(rt$pval), est = num(rt$est)),
       trimfill = list(k0 = num(tf$k0), side = tf$side, estimate = num(tf$beta)))
}
pz <- dat.pritz1997
glmm <- list(glmm_ref("pritz1997", pz$xi, pz$ni))
ni <- round(runif(9, 20, 120)); xi <- rbinom(9, ni, plogis(rnorm(9, -1, 0.5)))
glmm[[2]] <- glmm_ref("random_plo_k9", xi, ni)

ref <- list(glmm = glmm, meta = list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
                        seed = SEED, date = as.character(Sys.Date())),
            lfk_pain = list(yi = vec(c(-4.270, -1.710, -0.580, -0.190, 0.000)),
                            vi = vec(c(0.158, 0.076, 0.018, 0.022, 0.040))),
            datasets = datasets)
ref$lfk_pain$lfk <- lfk_r(ref$lfk_pain$yi, sqrt(ref$lfk_pain$vi))
con <- gzfile(OUT, "w")
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, na = "null", null = "null"), con)
close(con)
cat("wrote", OUT, "\n")
