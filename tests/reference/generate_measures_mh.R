#!/usr/bin/env Rscript
# generated fixture, DO NOT EDIT; regenerate with
#   Rscript tests/reference/generate_measures_mh.R
# from the repository root. Writes tests/reference/measures_mh_reference.json.gz.
#
# Reference values of metafor 3.8-1 for
#   * escalc() of the measures IR, IRLN, IRS, IRFT (events xi, person-time ti),
#     MN, MNLN (mean, sd, n), ROM (two-group means), COR, ZCOR (ri, ni), PETO;
#   * a DerSimonian-Laird fit of each with its back-transformed pooled values
#     (predict(..., transf=)): exp, transf.isqrt, transf.iirft with the harmonic
#     mean of the person-times, transf.ztor, identity;
#   * rma.mh (OR, RR, RD) and rma.peto with their defaults, all reported values.
# Data: random data sets of many shapes (zeros, double zeros, all events,
# k = 1 to 40) and metafor's worked examples dat.nielweise2008 (rates: each arm),
# dat.nielweise2007 and dat.bcg (2x2 tables), dat.molloy2014 (correlations),
# dat.normand1999 (means).
# Conventions: NA / NaN / Inf are written as null; `inputs` use metapool's role
# names (meani, sdi for one-group means; metafor's mi, sdi).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261127
set.seed(SEED)
OUT <- file.path("tests", "reference", "measures_mh_reference.json.gz")
if (!dir.exists(dirname(OUT))) stop("run from the repository root")

num <- function(x) { x <- as.numeric(x); x[!is.finite(x)] <- NA; x }

hm <- function(x) 1 / mean(1 / x)

BACK <- list(
  IR = NULL, IRLN = exp, IRS = transf.isqrt, IRFT = "iirft", MN = NULL, MNLN = exp,
  ROM = exp, COR = NULL, ZCOR = transf.ztor, PETO = exp
)

call_escalc <- function(measure, inputs) {
  args <- inputs
  if (!is.null(args$meani)) { args$mi <- args$meani; args$meani <- NULL }
  do.call(escalc, c(list(measure = measure), args))
}

escalc_case <- function(id, measure, inputs) {
  es <- suppressWarnings(call_escalc(measure, inputs))
  out <- list(id = id, measure = measure, inputs = inputs, yi = num(es$yi), vi = num(es$vi))
  ok <- is.finite(es$yi) & is.finite(es$vi)
  if (sum(ok) >= 1) {
    fit <- rma(es$yi[ok], es$vi[ok], method = "DL")
    p <- predict(fit)
    out$fit <- list(estimate = num(p$pred), ci_lower = num(p$ci.lb), ci_upper = num(p$ci.ub),
                    pi_lower = num(p$pi.lb), pi_upper = num(p$pi.ub), tau2 = num(fit$tau2))
    tr <- BACK[[measure]]
    if (!is.null(tr)) {
      if (identical(tr, "iirft")) {
        # predict() hands targs to transf as one list; apply transf.iirft directly
        h <- hm(inputs$ti[ok])
        b <- lapply(unclass(p)[c("pred", "ci.lb", "ci.ub", "pi.lb", "pi.ub")], function(x) transf.iirft(x, ti = h))
      } else {
        b <- predict(fit, transf = tr)
      }
      out$back <- list(estimate = num(b$pred), ci_lower = num(b$ci.lb), ci_upper = num(b$ci.ub),
                       pi_lower = num(b$pi.lb), pi_upper = num(b$pi.ub))
    }
  }
  out
}

test_list <- function(stat, p, df) list(statistic = num(stat), df = num(df), pvalue = num(p))

mh_case <- function(id, method, measure, tab) {
  args <- list(ai = tab$ai, bi = tab$bi, ci = tab$ci, di = tab$di)
  res <- tryCatch(
    suppressWarnings(if (method == "MH") do.call(rma.mh, c(args, measure = measure))
                     else do.call(rma.peto, args)),
    error = function(e) e)
  out <- list(id = id, method = method, measure = measure, tables = tab)
  if (inherits(res, "error")) { out$error <- conditionMessage(res); return(out) }
  out$result <- list(
    k = res$k, k_yi = res$k.yi, estimate = num(res$beta), se = num(res$se),
    statistic = num(res$zval), pvalue = num(res$pval), ci_lower = num(res$ci.lb),
    ci_upper = num(res$ci.ub), q = num(res$QE), q_pvalue = num(res$QEp), i2 = num(res$I2),
    h2 = num(res$H2), tau2 = num(res$tau2), weights = num(weights(res)),
    yi = num(res$yi.f), vi = num(res$vi.f)
  )
  if (method == "MH" && measure == "OR") {
    out$result$cmh <- test_list(res$MH, res$MHp, 1)
    out$result$breslow_day <- test_list(res$BD, res$BDp, res$k.pos - 1)
    out$result$tarone <- test_list(res$TA, res$TAp, res$k.pos - 1)
  }
  out
}

# ---- random data ------------------------------------------------------------
KS <- c(1, 2, 3, 5, 8, 13, 20, 40)

rate_sets <- list()
for (k in KS) for (shape in c("typical", "rare", "zeros", "large")) {
  ti <- switch(shape, typical = runif(k, 100, 5000), rare = runif(k, 50, 500),
               zeros = runif(k, 10, 200), large = runif(k, 1e4, 1e6))
  rate <- switch(shape, typical = 0.01, rare = 0.002, zeros = 0.0005, large = 0.05)
  xi <- rpois(k, ti * rate * exp(rnorm(k, 0, 0.4)))
  if (shape == "zeros") xi[1] <- 0
  rate_sets[[length(rate_sets) + 1]] <- list(id = sprintf("rate_%s_k%d", shape, k),
                                             inputs = list(xi = xi, ti = round(ti, 3)))
}
rate_sets[[length(rate_sets) + 1]] <- list(id = "rate_allzero_k4",
                                           inputs = list(xi = c(0, 0, 0, 0), ti = c(120, 80.5, 300, 45)))
nw <- dat.nielweise2008
rate_sets[[length(rate_sets) + 1]] <- list(id = "nielweise2008_arm1", inputs = list(xi = nw$x1i, ti = nw$t1i))
rate_sets[[length(rate_sets) + 1]] <- list(id = "nielweise2008_arm2", inputs = list(xi = nw$x2i, ti = nw$t2i))

mean_sets <- list()
for (k in KS) for (shape in c("typical", "skewed")) {
  ni <- sample(3:300, k, replace = TRUE)
  m <- if (shape == "typical") rnorm(k, 50, 10) else rlnorm(k, 0, 1)
  sdi <- if (shape == "typical") runif(k, 2, 20) else runif(k, 0.1, 3)
  mean_sets[[length(mean_sets) + 1]] <- list(id = sprintf("mean_%s_k%d", shape, k),
                                             inputs = list(meani = round(m, 4), sdi = round(sdi, 4), ni = ni))
}
nd <- dat.normand1999
mean_sets[[length(mean_sets) + 1]] <- list(id = "normand1999_group1",
                                           inputs = list(meani = nd$m1i, sdi = nd$sd1i, ni = nd$n1i))

rom_sets <- list()
for (k in KS) {
  n1 <- sample(2:200, k, replace = TRUE); n2 <- sample(2:200, k, replace = TRUE)
  rom_sets[[length(rom_sets) + 1]] <- list(id = sprintf("rom_k%d", k), inputs = list(
    m1i = round(rlnorm(k, 3, 0.5), 3), sd1i = round(runif(k, 1, 15), 3), n1i = n1,
    m2i = round(rlnorm(k, 3, 0.5), 3), sd2i = round(runif(k, 1, 15), 3), n2i = n2))
}
rom_sets[[length(rom_sets) + 1]] <- list(id = "normand1999_rom", inputs = list(
  m1i = nd$m1i, sd1i = nd$sd1i, n1i = nd$n1i, m2i = nd$m2i, sd2i = nd$sd2i, n2i = nd$n2i))

cor_sets <- list()
for (k in KS) for (shape in c("typical", "strong")) {
  ni <- sample(4:400, k, replace = TRUE)
  ri <- if (shape == "typical") runif(k, -0.6, 0.6) else runif(k, 0.85, 0.999)
  cor_sets[[length(cor_sets) + 1]] <- list(id = sprintf("cor_%s_k%d", shape, k),
                                           inputs = list(ri = round(ri, 4), ni = ni))
}
cor_sets[[length(cor_sets) + 1]] <- list(id = "cor_small_n", inputs = list(ri = c(0.3, -0.5, 0.1, 0.45, 0.2), ni = c(3, 4, 5, 30, 2)))
ml <- dat.molloy2014
cor_sets[[length(cor_sets) + 1]] <- list(id = "molloy2014", inputs = list(ri = ml$ri, ni = ml$ni))

table_sets <- list()
make_tables <- function(k, shape) {
  n1 <- sample(switch(shape, tiny = 2:15, 10:300), k, replace = TRUE)
  n2 <- sample(switch(shape, tiny = 2:15, 10:300), k, replace = TRUE)
  p1 <- switch(shape, typical = 0.2, rare = 0.01, common = 0.9, tiny = 0.3, double0 = 0.05, mixed = 0.1)
  p2 <- p1 * switch(shape, typical = 1.5, rare = 2, common = 0.95, tiny = 1.5, double0 = 1.2, mixed = 3)
  p2 <- min(p2, 0.99)
  ai <- rbinom(k, n1, p1); ci <- rbinom(k, n2, p2)
  if (shape == "double0" && k >= 2) { ai[1:2] <- 0; ci[1:2] <- 0 }
  if (shape == "common" && k >= 2) { ai[1] <- n1[1]; ci[1] <- n2[1] }
  if (shape == "mixed" && k >= 3) { ai[1] <- 0; ci[2] <- 0; ai[3] <- n1[3] }
  list(ai = ai, bi = n1 - ai, ci = ci, di = n2 - ci)
}
for (k in KS) for (shape in c("typical", "rare", "common", "tiny", "double0", "mixed")) {
  table_sets[[length(table_sets) + 1]] <- list(id = sprintf("tables_%s_k%d", shape, k), tables = make_tables(k, shape))
}
table_sets[[length(table_sets) + 1]] <- list(id = "tables_no_events_arm2", tables = list(
  ai = c(2, 5, 1), bi = c(48, 45, 29), ci = c(0, 0, 0), di = c(50, 40, 30)))
table_sets[[length(table_sets) + 1]] <- list(id = "tables_all_double_zero", tables = list(
  ai = c(0, 0), bi = c(20, 30), ci = c(0, 0), di = c(25, 30)))
n7 <- dat.nielweise2007
table_sets[[length(table_sets) + 1]] <- list(id = "nielweise2007", tables = list(
  ai = n7$ai, bi = n7$n1i - n7$ai, ci = n7$ci, di = n7$n2i - n7$ci))
bcg <- dat.bcg
table_sets[[length(table_sets) + 1]] <- list(id = "bcg", tables = list(
  ai = bcg$tpos, bi = bcg$tneg, ci = bcg$cpos, di = bcg$cneg))

# ---- compute -------------------------------------------------------------------
escalc_cases <- list()
add_cases <- function(sets, measures) {
  for (s in sets) for (m in measures)
    escalc_cases[[length(escalc_cases) + 1]] <<- escalc_case(s$id, m, s$inputs)
}
add_cases(rate_sets, c("IR", "IRLN", "IRS", "IRFT"))
add_cases(mean_sets, c("MN", "MNLN"))
add_cases(rom_sets, "ROM")
add_cases(cor_sets, c("COR", "ZCOR"))
add_cases(lapply(table_sets, function(s) list(id = s$id, inputs = s$tables)), "PETO")

mh_cases <- list()
for (s in table_sets) {
  for (m in c("OR", "RR", "RD")) mh_cases[[length(mh_cases) + 1]] <- mh_case(s$id, "MH", m, s$tables)
  mh_cases[[length(mh_cases) + 1]] <- mh_case(s$id, "PETO", "PETO", s$tables)
}

out <- list(
  meta = list(metafor = as.character(packageVersion("metafor")), R = R.version.string,
              seed = SEED, script = "tests/reference/generate_measures_mh.R"),
  escalc = escalc_cases,
  mh = mh_cases
)
con <- gzfile(OUT, "w")
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", null = "null"), con)
close(con)
cat(sprintf("wrote %s: %d escalc cases, %d MH/Peto cases\n", OUT, length(escalc_cases), length(mh_cases)))
