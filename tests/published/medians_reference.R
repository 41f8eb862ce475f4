# Reference values for tests/published/test_mcgrath_medians.py. DO NOT EDIT the numbers
# in the test by hand: rerun `Rscript tests/published/medians_reference.R`.
# R 4.2, Hmisc 4.8, metafor 3.8-1. metamedian is not packaged for Debian; its pool.med()
# (metamedian 1.2.1, R/pool.med.R, normal-approximation branch) and metamedian_survival()
# (one-group branch) are a few lines on top of Hmisc and metafor, restated here.
suppressMessages({library(Hmisc); library(metafor)})
options(digits = 15)

pool_med_approx <- function(yi, wi, coverage.prob = 0.95) {
  n <- length(yi)
  prob <- min(0.5, qnorm(0.5 * coverage.prob + 0.5) / (2 * sqrt(n)))
  p <- c(0.5 - prob, 0.5, 0.5 + prob)
  if (missing(wi)) unname(quantile(yi, probs = p)) else unname(wtd.quantile(yi, weights = wi, probs = p))
}
pool_med_exact_weighted <- function(yi, wi, coverage.prob = 0.95) {
  n <- length(yi)
  cov <- 1 - 2 * pbinom(0:floor(n / 2), n, 0.5)
  lev <- min(cov[cov >= coverage.prob]); ind <- which(cov == lev)
  c(unname(wtd.quantile(yi, weights = wi, probs = c(ind / n, 0.5, (n - ind + 1) / n))), lev)
}
se_med <- function(est, lb, ub, level = 0.95) {
  z <- qnorm(1 - (1 - level) / 2)
  ifelse(!is.na(ub), (ub - lb) / (2 * z), (est - lb) / z)
}

# metamedian's pool.med() example data (differences of medians) with invented weights
yi <- c(5.23, 3.10, 0.50, 0.78, 3.48, 0.59, 2.20, 5.06, 4.00)
wi <- c(50, 120, 33, 80, 45, 60, 210, 75, 90)
cat("MM", pool_med_approx(yi), "\n")
cat("MM90", pool_med_approx(yi, coverage.prob = 0.90), "\n")
cat("WM", pool_med_approx(yi, wi), "\n")
cat("WMexact", pool_med_exact_weighted(yi, wi), "\n")
# ties and a weight table with equal values
yt <- c(3, 3, 5, 7, 7, 7, 9, 12, 15, 15, 20, 4)
wt <- c(10, 20, 5, 5, 30, 8, 12, 40, 7, 3, 25, 60)
cat("WMties", pool_med_approx(yt, wt), "\n")

# metamedian_survival(estimand = "median_g1") on the SYNTHETIC demo data
d <- read.csv("src/metapool/datasets/data/aml_hma_ven_synthetic.csv")
d <- d[!is.na(d$os_median_months), ]
sei <- se_med(d$os_median_months, d$os_median_lower, d$os_median_upper)
r <- rma.uni(yi = d$os_median_months, sei = sei, method = "REML")
cat("SURV", r$k, coef(r), r$se, r$ci.lb, r$ci.ub, r$tau2, r$I2, "\n")
cat("SEI", sei, "\n")

# Quantile estimation: estmeansd::qe.fit(two.sample.default = TRUE) as metamedian's qe() calls it
# (estmeansd 1.0.1, R/qe.fit.R and R/qe.helper.functions.R), restated for one-group studies.
qe_var <- function(min.val = NA, q1.val = NA, med.val, q3.val = NA, max.val = NA, n) {
  if (!is.na(min.val) && !is.na(q1.val)) { p <- c(1/n, .25, .5, .75, 1 - 1/n); q <- c(min.val, q1.val, med.val, q3.val, max.val); inner <- q[c(2, 4)] }
  else if (!is.na(q1.val)) { p <- c(.25, .5, .75); q <- c(q1.val, med.val, q3.val); inner <- q[c(1, 3)] }
  else { p <- c(1/n, .5, 1 - 1/n); q <- c(min.val, med.val, max.val); inner <- q[c(1, 3)] }
  S <- list(
    normal = function(t) sum((qnorm(p, t[1], t[2]) - q)^2),
    `log-normal` = function(t) sum((qlnorm(p, t[1], t[2]) - q)^2),
    gamma = function(t) sum((qgamma(p, shape = t[1], rate = t[2]) - q)^2),
    weibull = function(t) sum((qweibull(p, shape = t[1], scale = t[2]) - q)^2))
  fit <- function(start, fn, lower, upper)  # as qe.fit: a failed fit has value NA
    tryCatch(optim(start, fn, method = "L-BFGS-B", lower = lower, upper = upper), error = function(e) list(par = NA, value = NA))
  fits <- list(normal = fit(c(med.val, 1), S$normal, c(inner[1], 1e-3), c(inner[2], 50)))
  if (min(q) > 0) {
    fits$`log-normal` <- fit(c(log(med.val), 1), S$`log-normal`, c(log(inner[1]), 1e-3), c(log(inner[2]), 10))
    fits$gamma <- fit(c(1, 1), S$gamma, c(1e-3, 1e-3), c(40, 40))
    fits$weibull <- fit(c(1, 1), S$weibull, c(1e-3, 1e-3), c(50, 50))
  }
  vals <- sapply(fits, function(f) f$value); best <- names(which.min(vals)); t <- fits[[best]]$par
  fm <- switch(best, normal = dnorm(qnorm(.5, t[1], t[2]), t[1], t[2]),
               `log-normal` = dlnorm(qlnorm(.5, t[1], t[2]), t[1], t[2]),
               gamma = dgamma(qgamma(.5, t[1], t[2]), t[1], t[2]),
               weibull = dweibull(qweibull(.5, t[1], t[2]), t[1], t[2]))
  list(var = 0.25 / (fm^2 * n), best = best, par = t, values = vals)
}
# metamedian qe() example 1 (all S2)
med <- c(6.1, 5.2, 3.1, 2.8, 4.5); q1 <- c(2.0, 1.6, 2.6, 0.9, 3.2); q3 <- c(10.2, 13.0, 8.3, 8.2, 9.9); n <- c(100, 92, 221, 81, 42)
f <- lapply(1:5, function(i) qe_var(q1.val = q1[i], med.val = med[i], q3.val = q3[i], n = n[i]))
cat("QE1BEST", sapply(f, `[[`, "best"), "\n")
cat("QE1VAR", sapply(f, `[[`, "var"), "\n")
r <- rma.uni(yi = med, vi = sapply(f, `[[`, "var"), method = "REML")
cat("QE1POOL", coef(r), r$se, r$tau2, "\n")
# metamedian qe() example 2 (S1, S2, S3, S4)
v <- c(qe_var(min.val = 0.7, med.val = 8.7, max.val = 22.2, n = 52)$var,
       qe_var(q1.val = 5.2, med.val = 10.7, q3.val = 16.1, n = 34)$var,
       qe_var(min.val = 1.1, q1.val = 5.3, med.val = 11.0, q3.val = 17.2, max.val = 24.7, n = 57)$var,
       4.2^2 / 90)
cat("QE2VAR", v, "\n")
cat("QE2BEST", qe_var(min.val = 0.7, med.val = 8.7, max.val = 22.2, n = 52)$best,
    qe_var(q1.val = 5.2, med.val = 10.7, q3.val = 16.1, n = 34)$best,
    qe_var(min.val = 1.1, q1.val = 5.3, med.val = 11.0, q3.val = 17.2, max.val = 24.7, n = 57)$best, "\n")
r <- rma.uni(yi = c(8.7, 10.7, 11.0, 12.2), vi = v, method = "REML")
cat("QE2POOL", coef(r), r$se, r$tau2, "\n")
