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
