#!/usr/bin/env Rscript
# Reference values for metapool, computed with R's metafor package.
#
# DO NOT EDIT the generated fixture by hand; regenerate with
# `Rscript tests/reference/generate_reference.R` from the repo root.
#
# Output: tests/reference/metafor_reference.json.gz (gzip-compressed JSON).
#
# Structure (see the docstrings of the Python tests that read it):
#   meta        : versions, date, seed, notes
#   transforms  : grids of back-transform helper values
#   datasets    : list of {id, family, data, escalc: [...], fits: [...]}
#                 (bcg additionally carries "moderator_fits")
#
# Conventions:
#   * NA / NaN / +-Inf are written as JSON null.
#   * The common-effect model is fitted with metafor's method "EE" but is
#     written as method "FE" in the fixture.
#   * Every rma() call is wrapped: warnings are recorded as strings; an error
#     gives result = null and error = <message>.  If ML/REML/EB fail to
#     converge, a second entry with a "control" list (step-halving) is added.
#   * Fits use plain numeric yi/vi vectors (escalc defaults for the measure).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261126
set.seed(SEED)
OUT <- file.path("tests", "reference", "metafor_reference.json.gz")
SCRIPT <- file.path("tests", "reference", "generate_reference.R")
if (!dir.exists(dirname(OUT))) stop("run from the repository root")

t_start <- Sys.time()
say <- function(...) { cat(sprintf(...), "\n", sep = ""); flush.console() }

METHODS <- c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "PMM")
TESTS <- c("z", "t", "knha")
CONFINT_CONTROL <- list(tol = 1e-10)  # 'tol' is passed to uniroot() in confint.rma.uni
RETRY_CONTROLS <- list(
  list(stepadj = 0.5, maxiter = 10000),
  list(stepadj = 0.25, maxiter = 10000),
  list(stepadj = 0.1, maxiter = 100000)
)

# ----------------------------------------------------------------- helpers --

num <- function(x) {          # scalar numeric or NULL
  if (is.null(x) || length(x) == 0) return(NULL)
  as.numeric(x)[1]
}
vec <- function(x) I(as.numeric(x))   # always a JSON array
chr <- function(x) I(as.character(x))

capture <- function(expr) {
  warns <- character(0)
  value <- withCallingHandlers(
    tryCatch(expr, error = function(e) e),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  list(value = value, warnings = I(warns), failed = inherits(value, "error"))
}

draw_level <- function() sample(c(95, 90, 99), 1, prob = c(0.9, 0.05, 0.05))

back_spec <- function(measure, generic_transf = NULL) {
  switch(measure,
         PLO = "transf.ilogit",
         PLN = "exp", OR = "exp", RR = "exp",
         PAS = "transf.iarcsin",
         PFT = "transf.ipft.hm",
         GEN = generic_transf,
         NULL)
}

compute_escalc <- function(family, data, measure, options = list()) {
  args <- c(list(measure = measure), options)
  args <- switch(family,
    single = c(args, list(xi = data$xi, ni = data$ni)),
    binary = c(args, list(ai = data$ai, n1i = data$n1i, ci = data$ci, n2i = data$n2i)),
    continuous = c(args, list(m1i = data$m1i, sd1i = data$sd1i, n1i = data$n1i,
                              m2i = data$m2i, sd2i = data$sd2i, n2i = data$n2i)))
  cap <- capture(do.call(escalc, args))
  if (cap$failed) {
    return(list(measure = measure, options = if (length(options)) options else setNames(list(), character(0)),
                yi = NULL, vi = NULL, warnings = cap$warnings,
                error = conditionMessage(cap$value)))
  }
  list(measure = measure,
       options = if (length(options)) options else setNames(list(), character(0)),
       yi = vec(cap$value$yi), vi = vec(cap$value$vi),
       warnings = cap$warnings, error = NULL)
}

conf_block <- function(ci) {
  r <- ci$random
  list(tau2 = vec(r["tau^2", ]), tau = vec(r["tau", ]),
       i2 = vec(r["I^2(%)", ]), h2 = vec(r["H^2", ]))
}

# one rma() fit -> list(result, error, warnings)
fit_once <- function(yi, vi, method, test, level, back, ni, control = NULL) {
  mcall <- if (method == "FE") "EE" else method
  args <- list(yi = yi, vi = vi, method = mcall, test = test, level = level)
  if (!is.null(control)) args$control <- control
  cap <- capture(do.call(rma.uni, args))
  if (cap$failed) {
    return(list(result = NULL, error = conditionMessage(cap$value), warnings = cap$warnings))
  }
  res <- cap$value
  pcap <- capture(predict(res))
  pr <- if (pcap$failed) NULL else pcap$value
  pi_lb <- if (is.null(pr)) NULL else if (!is.null(pr$pi.lb)) pr$pi.lb else pr$ci.lb
  pi_ub <- if (is.null(pr)) NULL else if (!is.null(pr$pi.ub)) pr$pi.ub else pr$ci.ub

  back_res <- NULL
  back_warn <- character(0)
  if (!is.null(back)) {
    bcap <- if (back == "transf.ipft.hm") {
      used <- !is.na(yi) & !is.na(vi)
      capture(predict(res, transf = transf.ipft.hm, targs = list(ni = ni[used])))
    } else {
      capture(predict(res, transf = get(back)))
    }
    back_warn <- bcap$warnings
    if (!bcap$failed) {
      b <- bcap$value
      back_res <- list(transf = back,
                       estimate = num(b$pred), ci_lower = num(b$ci.lb), ci_upper = num(b$ci.ub),
                       pi_lower = num(if (!is.null(b$pi.lb)) b$pi.lb else b$ci.lb),
                       pi_upper = num(if (!is.null(b$pi.ub)) b$pi.ub else b$ci.ub))
    } else {
      back_res <- list(transf = back, error = conditionMessage(bcap$value))
    }
  }

  conf <- NULL
  conf_err <- NULL
  conf_warn <- character(0)
  if (method != "FE" && test == "z") {
    ccap <- capture(confint(res, control = CONFINT_CONTROL))
    conf_warn <- ccap$warnings
    if (ccap$failed) conf_err <- conditionMessage(ccap$value) else conf <- conf_block(ccap$value)
  }

  result <- list(
    k = res$k, p = res$p,
    estimate = num(res$b), se = num(res$se), zval = num(res$zval), pvalue = num(res$pval),
    ci_lower = num(res$ci.lb), ci_upper = num(res$ci.ub),
    tau2 = num(res$tau2), se_tau2 = num(res$se.tau2),
    i2 = num(res$I2), h2 = num(res$H2),
    q = num(res$QE), q_df = res$k - res$p, q_pvalue = num(res$QEp),
    pi_lower = num(pi_lb), pi_upper = num(pi_ub),
    pred_se = num(if (is.null(pr)) NULL else pr$se),
    ddf = if (res$test == "z") NULL else num(res$ddf),
    iterations = NULL,                 # metafor 3.8 does not store the iteration count
    method_used = res$method, test_used = res$test,
    back = back_res,
    confint = conf,
    confint_error = conf_err,
    warnings = cap$warnings,
    predict_warnings = I(c(pcap$warnings, back_warn)),
    confint_warnings = I(conf_warn))
  list(result = result, error = NULL, warnings = cap$warnings)
}

n_fits <- 0L
n_err <- 0L
err_kinds <- list()

# one (measure, method, test) -> list of fit entries (1, or 2 with a retry)
fit_entries <- function(yi, vi, measure, method, test, back, ni = NULL, level = NULL) {
  if (is.null(level)) level <- draw_level()
  f <- fit_once(yi, vi, method, test, level, back, ni)
  entry <- list(measure = measure, method = method, test = test, level = level,
                control = NULL, result = f$result, error = f$error,
                warnings = f$warnings)
  out <- list(entry)
  n_fits <<- n_fits + 1L
  if (!is.null(f$error)) {
    n_err <<- n_err + 1L
    key <- paste0(method, ": ", f$error)
    err_kinds[[key]] <<- (if (is.null(err_kinds[[key]])) 0 else err_kinds[[key]]) + 1
    if (method %in% c("ML", "REML", "EB") && grepl("did not converge", f$error)) {
      for (ctrl in RETRY_CONTROLS) {
        g <- fit_once(yi, vi, method, test, level, back, ni, control = ctrl)
        n_fits <<- n_fits + 1L
        if (is.null(g$error) || identical(ctrl, RETRY_CONTROLS[[length(RETRY_CONTROLS)]])) {
          out[[2]] <- list(measure = measure, method = method, test = test, level = level,
                           control = ctrl, result = g$result, error = g$error,
                           warnings = g$warnings)
          if (!is.null(g$error)) n_err <<- n_err + 1L
          break
        }
      }
    }
  }
  out
}

# all methods x tests for one measure
fit_grid <- function(yi, vi, measure, back, ni = NULL, tests = TESTS, methods = METHODS) {
  out <- list()
  for (m in methods) for (t in tests) out <- c(out, fit_entries(yi, vi, measure, m, t, back, ni))
  out
}

make_dataset <- function(id, family, data, esc_measures, fit_measures,
                         option_variants = list(), generic_transf = NULL,
                         fit_tests = NULL) {
  escs <- list()
  fits <- list()
  if (family == "generic") {
    fits <- fit_grid(data$yi, data$vi, "GEN", generic_transf)
  } else {
    for (m in esc_measures) escs[[length(escs) + 1]] <- compute_escalc(family, data, m)
    for (opt in option_variants) for (m in esc_measures)
      escs[[length(escs) + 1]] <- compute_escalc(family, data, m, opt)
    for (m in fit_measures) {
      e <- escs[[which(vapply(escs, function(z) z$measure == m && length(z$options) == 0, TRUE))[1]]]
      if (!is.null(e$error)) next
      tests <- if (!is.null(fit_tests) && !is.null(fit_tests[[m]])) fit_tests[[m]] else TESTS
      fits <- c(fits, fit_grid(as.numeric(e$yi), as.numeric(e$vi), m, back_spec(m),
                               ni = data$ni, tests = tests))
    }
  }
  d <- lapply(data, function(x) if (is.character(x)) chr(x) else vec(x))
  list(id = id, family = family, data = d,
       generic_transf = generic_transf,
       escalc = escs, fits = fits)
}

datasets <- list()
add_ds <- function(ds) {
  datasets[[length(datasets) + 1]] <<- ds
  say("[%6.1fs] %-26s %-10s k=%-4d fits so far: %d (errors %d)",
      as.numeric(difftime(Sys.time(), t_start, units = "secs")), ds$id, ds$family,
      length(ds$data[[1]]), n_fits, n_err)
}

# ------------------------------------------------------------ transforms --

x <- sort(unique(c(seq(-12, 12, by = 0.5), seq(-0.5, 2, by = 0.025),
                   asin(1), asin(sqrt(c(0.001, 0.01, 0.5, 0.99, 0.999))),
                   transf.pft(c(0, 1), 10), transf.pft(c(0, 1), 100))))
pgrid <- c(0, 0.001, 0.01, seq(0.05, 0.95, by = 0.05), 0.99, 0.999, 1)
transforms <- list(
  x = vec(x),
  ilogit = vec(transf.ilogit(x)),
  iarcsin = vec(transf.iarcsin(x)),
  ipft_n10 = vec(transf.ipft(x, 10)),
  ipft_n100 = vec(transf.ipft(x, 100)),
  ipft_hm_ni = vec(c(10, 50, 300)),
  ipft_hm = vec(transf.ipft.hm(x, targs = list(ni = c(10, 50, 300)))),
  p = vec(pgrid),
  pft_n10 = vec(transf.pft(pgrid, 10)),
  pft_n100 = vec(transf.pft(pgrid, 100)),
  pft_n1000 = vec(transf.pft(pgrid, 1000)))

# ------------------------------------------------------- worked examples --

say("worked examples")
bcg <- dat.bcg
bcg_data <- list(
  trial = bcg$trial, author = bcg$author, year = bcg$year,
  tpos = bcg$tpos, tneg = bcg$tneg, cpos = bcg$cpos, cneg = bcg$cneg,
  ablat = bcg$ablat, alloc = as.character(bcg$alloc),
  ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg,
  slab = paste(bcg$author, bcg$year, sep = ", "))
ds <- make_dataset("bcg", "binary", bcg_data, c("RR", "OR"), c("RR", "OR"))
# meta-regression on log risk ratios
es <- escalc("RR", ai = bcg_data$ai, n1i = bcg_data$n1i, ci = bcg_data$ci, n2i = bcg_data$n2i)
mod_fits <- list()
for (m in c("DL", "REML", "ML")) for (t in c("z", "knha")) {
  cap <- capture(rma.uni(as.numeric(es$yi), as.numeric(es$vi), mods = ~ bcg$ablat + bcg$year,
                         method = m, test = t))
  n_fits <- n_fits + 1L
  if (cap$failed) {
    mod_fits[[length(mod_fits) + 1]] <- list(measure = "RR", mods = chr(c("ablat", "year")),
      method = m, test = t, level = 95, result = NULL,
      error = conditionMessage(cap$value), warnings = cap$warnings)
    next
  }
  r <- cap$value
  coefs <- lapply(seq_along(r$b), function(j)
    list(name = c("intrcpt", "ablat", "year")[j], estimate = r$b[j], se = r$se[j],
         zval = r$zval[j], pvalue = r$pval[j], ci_lower = r$ci.lb[j], ci_upper = r$ci.ub[j]))
  mod_fits[[length(mod_fits) + 1]] <- list(
    measure = "RR", mods = chr(c("ablat", "year")), method = m, test = t, level = 95,
    coefficients = coefs,
    qm = num(r$QM), qm_df = num(r$QMdf[1]),
    qm_ddf = if (t == "z") NULL else num(r$QMdf[2]), qm_pvalue = num(r$QMp),
    ddf = if (t == "z") NULL else num(r$ddf[1]),
    tau2 = num(r$tau2), se_tau2 = num(r$se.tau2), i2 = num(r$I2), h2 = num(r$H2),
    q = num(r$QE), q_df = r$k - r$p, q_pvalue = num(r$QEp), r2 = num(r$R2),
    error = NULL, warnings = cap$warnings)
}
ds$moderator_fits <- mod_fits
add_ds(ds)

pr <- dat.pritz1997
add_ds(make_dataset("pritz1997", "single",
  list(study = pr$study, authors = pr$authors, xi = pr$xi, ni = pr$ni, slab = pr$authors),
  c("PR", "PLN", "PLO", "PAS", "PFT"), c("PR", "PLO", "PAS", "PFT", "PLN")))

nm <- dat.normand1999
add_ds(make_dataset("normand1999", "continuous",
  list(study = nm$study, source = nm$source, m1i = nm$m1i, sd1i = nm$sd1i, n1i = nm$n1i,
       m2i = nm$m2i, sd2i = nm$sd2i, n2i = nm$n2i, slab = nm$source),
  c("MD", "SMD"), c("MD", "SMD")))

# ------------------------------------------------------------ hard case --

add_ds(make_dataset("reml-oscillation", "generic",
  list(yi = c(0.1153, 0.1926, -0.2021, -0.3676, 0.001, -0.5706, 0.2592, -0.3303),
       vi = c(0.007935, 0.656, 0.119, 0.4472, 4.806, 0.01315, 1.136, 1.609)),
  NULL, NULL))

# --------------------------------------------------------- random: single --

say("random single-group data sets")
N_SINGLE <- 90
k_single <- c(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
              60, 64, 70, 75, 80, 85, 90, 95, 100, 100,
              sample(4:59, N_SINGLE - 22, replace = TRUE))
scen_single <- rep("normal", N_SINGLE)
scen_single[c(2, 6, 10, 15, 25, 30, 35, 40, 45, 50)] <- "zeros"
scen_single[c(3, 7, 16, 26, 36, 46, 55, 60)] <- "full"
scen_single[c(11, 20, 31, 41, 65, 70)] <- "huge"
scen_single[c(4, 17, 51, 61, 75)] <- "rare"
scen_single[c(8, 18, 56, 66, 80)] <- "common"
scen_single[85] <- "allzero"; k_single[85] <- 7
scen_single[86] <- "allfull"; k_single[86] <- 6
for (i in seq_len(N_SINGLE)) {
  k <- k_single[i]
  sc <- scen_single[i]
  tau2 <- sample(c(0, 0.05, 1), 1)
  mu <- switch(sc, rare = runif(1, -6.5, -4.5), common = runif(1, 4.5, 6.5),
               zeros = runif(1, -5, -2.5), full = runif(1, 2.5, 5), runif(1, -4, 4))
  ni <- round(exp(runif(k, log(5), log(5000))))
  if (sc == "huge") {
    h <- sample(k, max(1, k %/% 4))
    ni[h] <- round(exp(runif(length(h), log(1e5), log(1e6))))
  }
  p <- pmin(pmax(plogis(mu + rnorm(k, 0, sqrt(tau2))), 0.001), 0.999)
  xi <- rbinom(k, ni, p)
  if (sc == "zeros") { z <- sample(k, max(1, ceiling(k / 4))); xi[z] <- 0 }
  if (sc == "full") { z <- sample(k, max(1, ceiling(k / 4))); xi[z] <- ni[z] }
  if (sc == "allzero") xi[] <- 0
  if (sc == "allfull") xi <- ni
  add_ds(make_dataset(sprintf("rand-single-%03d", i), "single",
    list(xi = xi, ni = ni, slab = sprintf("S%d", seq_len(k))),
    c("PR", "PLN", "PLO", "PAS", "PFT"), c("PLO", "PR", "PAS", "PFT", "PLN")))
}

# --------------------------------------------------------- random: binary --

say("random binary data sets")
N_BIN <- 70
k_bin <- c(1, 1, 1, 2, 2, 2, 3, 3, 3, 45, 50, 55, 60, 60,
           sample(4:40, N_BIN - 14, replace = TRUE))
scen_bin <- rep("normal", N_BIN)
scen_bin[c(2, 5, 8, 15, 18, 21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54)] <- "rare"
scen_bin[c(3, 6, 16, 22, 28, 34, 40, 46)] <- "zeros"
scen_bin[c(60)] <- "allzero"; k_bin[60] <- 5
option_idx <- c(2, 3, 5, 6, 8, 15, 16, 18, 21, 22, 24, 27, 28, 34, 60)
OPTION_VARIANTS <- list(list(add = 0.5, to = "all"), list(to = "none"),
                        list(to = "if0all"), list(drop00 = TRUE))
for (i in seq_len(N_BIN)) {
  k <- k_bin[i]
  sc <- scen_bin[i]
  n1i <- round(exp(runif(k, log(10), log(2000))))
  n2i <- if (runif(1) < 0.3) n1i else round(exp(runif(k, log(10), log(2000))))
  mu <- if (sc == "rare") runif(1, -7, -4.5) else runif(1, -3, 0.5)
  lor <- runif(1, -1.5, 1)
  tau2 <- sample(c(0, 0.05, 0.5), 1)
  lpc <- mu + rnorm(k, 0, 0.5)
  ci <- rbinom(k, n2i, plogis(lpc))
  ai <- rbinom(k, n1i, plogis(lpc + lor + rnorm(k, 0, sqrt(tau2))))
  if (sc == "zeros") {
    z <- sample(k, max(1, ceiling(k / 4)))
    ai[z] <- 0
    if (k > 2) { zz <- sample(setdiff(seq_len(k), z), 1); ai[zz] <- 0; ci[zz] <- 0 }
  }
  if (sc == "allzero") { ai[] <- 0; ci[] <- 0 }
  opts <- if (i %in% option_idx) OPTION_VARIANTS else list()
  add_ds(make_dataset(sprintf("rand-binary-%03d", i), "binary",
    list(ai = ai, n1i = n1i, ci = ci, n2i = n2i, slab = sprintf("S%d", seq_len(k))),
    c("OR", "RR", "RD"), c("OR", "RR", "RD"), option_variants = opts))
}

# ----------------------------------------------------- random: continuous --

say("random continuous data sets")
N_CONT <- 50
k_cont <- c(1, 1, 2, 2, 3, 3, 40, 50, 60, sample(4:35, N_CONT - 9, replace = TRUE))
for (i in seq_len(N_CONT)) {
  k <- k_cont[i]
  sigma <- exp(runif(1, log(0.5), log(20)))
  base <- runif(1, -50, 100)
  delta <- runif(1, -1, 1) * sigma
  tau <- sample(c(0, 0.2, 0.8), 1) * sigma
  n1i <- round(exp(runif(k, log(3), log(500))))
  n2i <- round(exp(runif(k, log(3), log(500))))
  s_i <- sigma * exp(rnorm(k, 0, 0.2))
  theta <- delta + rnorm(k, 0, tau)
  m1i <- round(base + theta + rnorm(k, 0, s_i / sqrt(n1i)), 3)
  m2i <- round(base + rnorm(k, 0, s_i / sqrt(n2i)), 3)
  sd1i <- round(s_i * sqrt(rchisq(k, n1i - 1) / (n1i - 1)), 3)
  sd2i <- round(s_i * sqrt(rchisq(k, n2i - 1) / (n2i - 1)), 3)
  add_ds(make_dataset(sprintf("rand-continuous-%03d", i), "continuous",
    list(m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
         slab = sprintf("S%d", seq_len(k))),
    c("MD", "SMD"), c("MD", "SMD")))
}

# -------------------------------------------------------- random: generic --

say("random generic data sets")
N_GEN <- 50
k_gen <- c(1, 1, 2, 2, 3, 3, 50, 60, sample(4:40, N_GEN - 8, replace = TRUE))
scen_gen <- rep("normal", N_GEN)
scen_gen[c(9, 19, 29, 39)] <- "extreme"     # max(vi)/min(vi) > 1e7
scen_gen[c(10, 20, 30, 40)] <- "homog"      # all yi equal
log_ratio_idx <- c(4, 11, 13, 15, 17, 21, 23, 25, 27, 31, 33, 35, 41, 43, 45)
for (i in seq_len(N_GEN)) {
  k <- k_gen[i]
  sc <- scen_gen[i]
  lo <- runif(1, log(1e-4), log(1))
  hi <- runif(1, lo, log(10))
  vi <- exp(runif(k, lo, hi))
  if (sc == "extreme") { vi[1] <- exp(runif(1, log(1e-9), log(1e-8))); vi[2] <- exp(runif(1, log(0.5), log(10))) }
  tau2 <- sample(c(0, 0.01, 0.1, 1), 1)
  mu <- runif(1, -1, 1)
  yi <- mu + rnorm(k, 0, sqrt(vi + tau2))
  if (sc == "homog") yi[] <- round(mu, 2)
  vi <- signif(vi, 6)
  yi <- signif(yi, 8)
  add_ds(make_dataset(sprintf("rand-generic-%03d", i), "generic",
    list(yi = yi, vi = vi, slab = sprintf("S%d", seq_len(k))), NULL, NULL,
    generic_transf = if (i %in% log_ratio_idx) "exp" else NULL))
}

# ----------------------------------------------------------------- write --

fam_count <- table(vapply(datasets, function(d) d$family, ""))
meta <- list(
  generator = "metafor reference fixture for metapool",
  script = SCRIPT,
  r_version = R.version.string,
  metafor_version = as.character(packageVersion("metafor")),
  jsonlite_version = as.character(packageVersion("jsonlite")),
  date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
  seed = SEED,
  common_effect_method_in_metafor = "EE",
  common_effect_method_in_fixture = "FE",
  common_effect_note = "metafor 3.8 accepts 'EE', 'FE' and 'CE' (identical); fits were run with method='EE' and are stored as method 'FE'",
  pmm_supported = TRUE,
  methods = I(METHODS),
  tests = I(TESTS),
  confint_control = CONFINT_CONTROL,
  confint_note = "confint(res, control=list(tol=1e-10)); 'tol' is the uniroot() tolerance of the Q-profile search. Only for random-effects methods with test 'z'.",
  retry_controls = RETRY_CONTROLS,
  retry_note = "If ML/REML/EB stop with 'Fisher scoring algorithm did not converge', a second entry with the first control list in retry_controls that converges is added (metafor's default convergence threshold 1e-5 on the change in tau2 applies to all ML/REML/EB fits).",
  escalc_default_options = "escalc entries with options {} use metafor's defaults (add=1/2, to='only0', drop00=FALSE; SMD: vtype='LS' with exact bias correction)",
  pi_note = "pi_lower/pi_upper are predict(res)$pi.lb/pi.ub; for FE (no pi returned) the CI from predict() is stored.",
  back_note = "back = predict(res, transf=...): PLO ilogit, PLN/OR/RR exp, PAS iarcsin, PFT ipft.hm with targs ni of the studies in the fit, generic data with generic_transf 'exp' use exp; others null.",
  iterations_note = "metafor 3.8 rma.uni does not store iteration counts; 'iterations' is always null.",
  family_counts = as.list(fam_count),
  n_datasets = length(datasets),
  n_fits = n_fits,
  n_fit_errors = n_err,
  runtime_seconds = NA)
meta$runtime_seconds <- round(as.numeric(difftime(Sys.time(), t_start, units = "secs")), 1)

out <- list(meta = meta, transforms = transforms, datasets = datasets)
json <- toJSON(out, digits = NA, null = "null", na = "null", auto_unbox = TRUE)
con <- gzfile(OUT, "w")
writeLines(json, con)
close(con)
say("wrote %s (%d datasets, %d fits, %d errors) in %.1fs", OUT, length(datasets), n_fits, n_err,
    meta$runtime_seconds)
say("error kinds:")
for (nm_ in names(err_kinds)) say("  %4d  %s", as.integer(err_kinds[[nm_]]), gsub("\n", " ", nm_))
