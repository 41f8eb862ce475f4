#!/usr/bin/env Rscript
# generated fixture, DO NOT EDIT; regenerate with Rscript tests/reference/generate_regression.R
#
# Reference values of metafor for metapool's meta-regression (rma with moderators)
# and subgroup analyses. Run from the repository root; writes
# tests/reference/regression_reference.json.gz (gzip-compressed JSON).
#
# Structure:
#   meta        : versions, seed, notes
#   regression  : list of data sets {id, family, measure, data, escalc, models: [...]}
#                 data holds the effect-size inputs (yi/vi, xi/ni or ai/n1i/ci/n2i)
#                 and the moderator columns (x1..x3 numeric, g categorical; null = NA).
#                 Each model: {spec (how to call metapool), r_formula, newmods, fits}.
#                 spec: mods (column names for metapool, "g:cat" for integer-coded
#                 categories), formula (equivalent metapool formula or null),
#                 intercept, reference ({"g": level} or null).
#                 Coefficient names are metapool's: "intrcpt", "x1", "g[level]".
#                 newmods: rows as {coefficient name: value} (without intercept).
#   subgroups   : list of data sets {id, family, measure, data (with column g), cases}
#                 each case {method, test, level, separate: {levels, q_between},
#                 common: {cell_means, contrast}}
#
# Conventions: NA/NaN/Inf -> null. The common-effect model is fitted with metafor's
# method "EE" and written as "CE". Every rma() call is wrapped in tryCatch: an error
# gives result = null and error = <message>; warnings are recorded.
# tau2_null is the tau2 of the model without moderators on the same studies and
# method (what metafor's pseudo-R^2 compares with).

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

SEED <- 20261127
set.seed(SEED)
OUT <- file.path("tests", "reference", "regression_reference.json.gz")
if (!dir.exists(dirname(OUT))) stop("run from the repository root")
t_start <- Sys.time()

METHODS <- c("CE", "DL", "REML", "ML", "PM", "HE", "SJ")
TESTS <- c("z", "t", "knha")
LEVEL_NAMES <- c("alpha", "beta", "delta", "gamma", "omega", "sigma")

num <- function(x) {
  if (is.null(x) || length(x) == 0) return(NULL)
  x <- as.numeric(x)[1]
  if (!is.finite(x)) return(NULL)
  x
}
vec <- function(x) I(as.numeric(x))
nullable <- function(x) {  # vector with NA -> list with NULL entries (JSON null)
  lapply(x, function(v) if (is.na(v)) NULL else v)
}

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

draw_level <- function() sample(c(95, 90, 99), 1, prob = c(0.8, 0.1, 0.1))
mcall <- function(method) if (method == "CE") "EE" else method

# metafor column name -> metapool coefficient name
py_name <- function(nm, cat_var = "g") {
  if (nm == "intrcpt" || grepl("^x[0-9]$", nm) || nm %in% c("ablat", "year")) return(nm)
  if (startsWith(nm, cat_var)) return(paste0(cat_var, "[", substring(nm, nchar(cat_var) + 1), "]"))
  nm
}

n_fits <- 0L
n_err <- 0L
err_kinds <- list()
note_error <- function(method, msg) {
  n_err <<- n_err + 1L
  key <- paste0(method, ": ", msg)
  err_kinds[[key]] <<- (if (is.null(err_kinds[[key]])) 0 else err_kinds[[key]]) + 1
}

# --------------------------------------------------------------- one regression fit --
fit_regression <- function(yi, vi, df, formula, method, test, level, newmods, cat_var = "g") {
  n_fits <<- n_fits + 1L
  cap <- capture(rma(yi, vi, mods = formula, data = df, method = mcall(method), test = test,
                     level = level))
  entry <- list(method = method, test = test, level = level, warnings = cap$warnings)
  if (cap$failed) {
    note_error(method, conditionMessage(cap$value))
    return(c(entry, list(result = NULL, error = conditionMessage(cap$value))))
  }
  res <- cap$value
  names_py <- vapply(colnames(res$X), py_name, "", cat_var = cat_var)
  null_cap <- capture(rma(res$yi, res$vi, method = mcall(method)))
  tau2_null <- if (null_cap$failed) NULL else num(null_cap$value$tau2)
  preds <- NULL
  if (!is.null(newmods)) {
    cols <- colnames(res$X)
    cols <- cols[cols != "intrcpt"]
    nm_py <- vapply(cols, py_name, "", cat_var = cat_var)
    M <- t(vapply(newmods, function(r) vapply(nm_py, function(n) as.numeric(r[[n]]), 0), numeric(length(cols))))
    if (length(cols) == 1) M <- matrix(vapply(newmods, function(r) as.numeric(r[[nm_py]]), 0), ncol = 1)
    pcap <- capture(predict(res, newmods = M))
    if (pcap$failed) {
      preds <- list(error = conditionMessage(pcap$value))
    } else {
      p <- pcap$value
      preds <- list(pred = vec(p$pred), se = vec(p$se), ci_lower = vec(p$ci.lb), ci_upper = vec(p$ci.ub),
                    pi_lower = if (is.null(p$pi.lb)) NULL else vec(p$pi.lb),
                    pi_upper = if (is.null(p$pi.ub)) NULL else vec(p$pi.ub), error = NULL)
    }
  }
  result <- list(
    k = res$k, p = res$p,
    coefficients = list(names = I(unname(names_py)), estimate = vec(res$beta), se = vec(res$se),
                        zval = vec(res$zval), pval = vec(res$pval), ci_lower = vec(res$ci.lb),
                        ci_upper = vec(res$ci.ub)),
    tau2 = num(res$tau2), se_tau2 = num(res$se.tau2), tau2_null = tau2_null,
    QE = num(res$QE), QEp = num(res$QEp), QE_df = res$k - res$p,
    I2 = num(res$I2), H2 = num(res$H2),
    QM = num(res$QM), QMdf = I(as.numeric(res$QMdf)), QMp = num(res$QMp),
    R2 = num(res$R2), ddf = if (res$test == "z") NULL else num(res$ddf[1]),
    test_used = res$test, int_incl = res$int.incl,
    predict = preds)
  c(entry, list(result = result, error = NULL))
}

# ----------------------------------------------------------- simulated data sets --
make_moderators <- function(k, n_num, n_levels, coded) {
  mods <- list()
  for (j in seq_len(n_num)) {
    kind <- sample(c("normal", "year", "binary", "dose"), 1, prob = c(0.45, 0.2, 0.15, 0.2))
    x <- switch(kind,
      normal = round(rnorm(k, 0, 1), 3),
      year = sample(1960:2024, k, replace = TRUE),
      binary = rbinom(k, 1, 0.5),
      dose = round(runif(k, 5, 80), 1))
    mods[[paste0("x", j)]] <- x
  }
  g <- NULL
  if (n_levels > 0) {
    lv <- if (coded) as.character(seq_len(n_levels)) else sort(sample(LEVEL_NAMES, n_levels))
    g <- c(lv, lv, sample(lv, k - 2 * n_levels, replace = TRUE))[sample.int(k)]
  }
  list(num = mods, g = g, levels = if (n_levels > 0) lv else NULL)
}

simulate_effects <- function(family, k, eta, tau2) {
  u <- rnorm(k, 0, sqrt(tau2))
  switch(family,
    generic = {
      vi <- round(runif(k, 0.005, 0.3) * sample(c(1, 1, 3), 1), 5)
      list(yi = round(eta + u + rnorm(k, 0, sqrt(vi)), 5), vi = vi)
    },
    PLO = {
      ni <- sample(15:400, k, replace = TRUE)
      xi <- rbinom(k, ni, plogis(-1 + eta + u))
      list(xi = xi, ni = ni)
    },
    OR = {
      n1i <- sample(20:300, k, replace = TRUE)
      n2i <- sample(20:300, k, replace = TRUE)
      p2 <- runif(k, 0.1, 0.4)
      p1 <- plogis(qlogis(p2) + eta + u)
      list(ai = rbinom(k, n1i, p1), n1i = n1i, ci = rbinom(k, n2i, p2), n2i = n2i)
    })
}

escalc_of <- function(family, d) {
  switch(family,
    generic = list(yi = d$yi, vi = d$vi),
    PLO = { e <- escalc("PLO", xi = d$xi, ni = d$ni); list(yi = as.numeric(e$yi), vi = as.numeric(e$vi)) },
    OR = { e <- escalc("OR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
           list(yi = as.numeric(e$yi), vi = as.numeric(e$vi)) },
    RR = { e <- escalc("RR", ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)
           list(yi = as.numeric(e$yi), vi = as.numeric(e$vi)) })
}
measure_of <- function(family) switch(family, generic = "GEN", PLO = "PLO", OR = "OR", RR = "RR")

# R formula, metapool spec and the data frame for one moderator choice
model_spec <- function(num_names, has_cat, intercept, reference, coded, levels, use_formula) {
  terms <- c(num_names, if (has_cat) "g")
  r_formula <- paste("~", paste(terms, collapse = " + "), if (!intercept) "- 1" else "")
  py_mods <- c(num_names, if (has_cat) (if (coded) "g:cat" else "g"))
  py_formula <- NULL
  if (use_formula && is.null(reference)) {
    py_terms <- c(num_names, if (has_cat) "C(g)")
    py_formula <- paste("~", paste(py_terms, collapse = " + "), if (!intercept) "- 1" else "")
    py_formula <- trimws(py_formula)
  }
  list(r_formula = trimws(r_formula),
       spec = list(mods = I(py_mods), formula = py_formula, intercept = intercept,
                   reference = if (is.null(reference)) NULL else list(g = reference)))
}

model_frame <- function(num, g, levels, reference) {
  df <- if (length(num)) as.data.frame(num) else data.frame(row.names = seq_along(g))
  if (!is.null(g)) {
    lv <- if (is.null(reference)) levels else c(reference, setdiff(levels, reference))
    df$g <- factor(g, levels = lv)
  }
  df
}

# rows of new moderator values in metapool's names
make_newmods <- function(num, levels, has_cat, intercept, reference, n) {
  ref <- if (is.null(reference)) levels[1] else reference
  lapply(seq_len(n), function(i) {
    row <- list()
    for (nm in names(num)) {
      x <- num[[nm]][!is.na(num[[nm]])]
      row[[nm]] <- round(runif(1, min(x), max(x)), 2)
    }
    if (has_cat) {
      pick <- sample(levels, 1)
      for (lv in levels) {
        if (intercept && lv == ref) next
        row[[paste0("g[", lv, "]")]] <- as.numeric(lv == pick)
      }
    }
    row
  })
}

full_rank <- function(df, formula, yi) {
  X <- model.matrix(as.formula(formula), model.frame(as.formula(formula), df, na.action = na.omit))
  qr(X)$rank == ncol(X) && nrow(X) >= ncol(X) + 2
}

regression <- list()
reg_counts <- list(generic = 0, PLO = 0, OR = 0, RR = 0)
N_REG <- 60
i <- 0
attempts <- 0
while (i < N_REG) {
  attempts <- attempts + 1
  family <- sample(c("generic", "PLO", "OR"), 1, prob = c(0.6, 0.2, 0.2))
  k <- sample(c(4:12, 13:25, 26:60), 1, prob = c(rep(3, 9), rep(1.5, 13), rep(0.5, 35)))
  n_num <- sample(0:3, 1, prob = c(0.25, 0.35, 0.25, 0.15))
  n_levels <- if (n_num == 0 || runif(1) < 0.45) sample(2:4, 1) else 0
  if (2 * n_levels > k) n_levels <- 2
  coded <- n_levels > 0 && runif(1) < 0.15
  intercept <- runif(1) < 0.8
  homogeneous <- runif(1) < 0.25
  with_na <- runif(1) < 0.12
  reference <- NULL
  mods <- make_moderators(k, n_num, n_levels, coded)
  if (n_levels > 0 && !coded && runif(1) < 0.25) reference <- sample(mods$levels[-1], 1)
  p <- n_num + (if (n_levels > 0) n_levels - 1 else 0) + intercept
  if (p + 2 > k - with_na) next
  # linear predictor
  eta <- rep(runif(1, -0.5, 0.5), k)
  for (nm in names(mods$num)) {
    x <- mods$num[[nm]]
    eta <- eta + runif(1, -0.4, 0.4) * (x - mean(x)) / max(sd(x), 1e-8)
  }
  if (n_levels > 0) eta <- eta + runif(n_levels, -0.6, 0.6)[match(mods$g, mods$levels)]
  tau2 <- if (homogeneous) 0 else sample(c(0.02, 0.1, 0.4), 1)
  d <- simulate_effects(family, k, eta, tau2)
  if (with_na) {  # one missing moderator value (study dropped by metafor)
    row <- sample.int(k, 1)
    if (length(mods$num) > 0 && (is.null(mods$g) || runif(1) < 0.6)) {
      mods$num[[sample(names(mods$num), 1)]][row] <- NA
    } else {
      mods$g[row] <- NA
    }
  }
  ms <- model_spec(names(mods$num), n_levels > 0, intercept, reference, coded, mods$levels,
                   use_formula = (i %% 2 == 1))
  df <- model_frame(mods$num, mods$g, mods$levels, reference)
  if (!full_rank(df, ms$r_formula)) next
  if (!is.null(mods$g) && any(table(df$g[complete.cases(df)]) < 1)) next
  es <- escalc_of(family, d)
  if (any(!is.finite(es$yi)) || any(!is.finite(es$vi))) next
  i <- i + 1
  reg_counts[[family]] <- reg_counts[[family]] + 1
  newmods <- make_newmods(mods$num, mods$levels, n_levels > 0, intercept, reference, sample(2:3, 1))
  fits <- list()
  for (method in METHODS) for (test in TESTS) {
    fits[[length(fits) + 1]] <- fit_regression(es$yi, es$vi, df, as.formula(ms$r_formula), method, test,
                                               draw_level(), newmods)
  }
  data <- c(d, lapply(mods$num, nullable))
  if (!is.null(mods$g)) data$g <- nullable(if (coded) as.integer(mods$g) else mods$g)
  regression[[length(regression) + 1]] <- list(
    id = sprintf("reg%02d-%s-k%d", i, family, k), family = family, measure = measure_of(family),
    k = k, true_tau2 = tau2, with_na = with_na,
    data = data, escalc = list(yi = vec(es$yi), vi = vec(es$vi)),
    models = list(list(spec = ms$spec, r_formula = ms$r_formula, newmods = newmods, fits = fits)))
}

# ------------------------------------------------------------------------ dat.bcg --
bcg <- dat.bcg
bcg_d <- list(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos, n2i = bcg$cpos + bcg$cneg)
bcg_es <- escalc_of("RR", bcg_d)
bcg_models <- list(
  list(r = "~ ablat + year + alloc", mods = c("ablat", "year", "alloc"), formula = "~ ablat + year + C(alloc)",
       intercept = TRUE, reference = NULL),
  list(r = "~ ablat", mods = c("ablat"), formula = "~ ablat", intercept = TRUE, reference = NULL),
  list(r = "~ alloc - 1", mods = c("alloc"), formula = "~ C(alloc) - 1", intercept = FALSE, reference = NULL),
  list(r = "~ ablat + alloc", mods = c("ablat", "alloc"), formula = NULL, intercept = TRUE, reference = "random"),
  list(r = "~ ablat + year - 1", mods = c("ablat", "year"), formula = "~ ablat + year - 1", intercept = FALSE,
       reference = NULL))
bcg_levels <- sort(unique(bcg$alloc))
bcg_entries <- list()
for (m in bcg_models) {
  df <- data.frame(ablat = bcg$ablat, year = bcg$year)
  lv <- if (is.null(m$reference)) bcg_levels else c(m$reference, setdiff(bcg_levels, m$reference))
  df$alloc <- factor(bcg$alloc, levels = lv)
  has_cat <- "alloc" %in% m$mods
  ref <- if (is.null(m$reference)) bcg_levels[1] else m$reference
  newmods <- lapply(list(c(20, 1950, 1), c(35, 1965, 2), c(50, 1980, 3)), function(v) {
    row <- list()
    if ("ablat" %in% m$mods) row$ablat <- v[1]
    if ("year" %in% m$mods) row$year <- v[2]
    if (has_cat) for (l in bcg_levels) {
      if (m$intercept && l == ref) next
      row[[paste0("alloc[", l, "]")]] <- as.numeric(l == bcg_levels[v[3]])
    }
    row
  })
  fits <- list()
  for (method in METHODS) for (test in TESTS) {
    fits[[length(fits) + 1]] <- fit_regression(bcg_es$yi, bcg_es$vi, df, as.formula(m$r), method, test, 95,
                                               newmods, cat_var = "alloc")
  }
  bcg_entries[[length(bcg_entries) + 1]] <- list(
    spec = list(mods = I(m$mods), formula = m$formula, intercept = m$intercept,
                reference = if (is.null(m$reference)) NULL else list(alloc = m$reference)),
    r_formula = m$r, newmods = newmods, fits = fits)
}
regression[[length(regression) + 1]] <- list(
  id = "bcg", family = "RR", measure = "RR", k = nrow(bcg), true_tau2 = NULL, with_na = FALSE,
  data = c(bcg_d, list(ablat = bcg$ablat, year = bcg$year, alloc = bcg$alloc)),
  escalc = list(yi = vec(bcg_es$yi), vi = vec(bcg_es$vi)), models = bcg_entries)
reg_counts$RR <- 1

# -------------------------------------------------------------------- subgroups --
one_fit <- function(yi, vi, method, test, level, subset = NULL, mods = NULL, g = NULL) {
  n_fits <<- n_fits + 1L
  args <- list(yi = yi, vi = vi, method = mcall(method), test = test, level = level)
  if (!is.null(subset)) args$subset <- subset
  if (!is.null(mods)) { args$mods <- mods; args$data <- data.frame(g = g) }
  cap <- capture(do.call(rma, args))
  if (cap$failed) { note_error(method, conditionMessage(cap$value)); return(list(res = NULL, cap = cap)) }
  list(res = cap$value, cap = cap)
}

subgroup_case <- function(yi, vi, g, method, test, level) {
  levels <- sort(unique(g[!is.na(g)]))
  per <- list()
  est <- se <- numeric(0)
  for (lv in levels) {
    f <- one_fit(yi, vi, method, test, level, subset = !is.na(g) & g == lv)
    if (is.null(f$res)) {
      per[[length(per) + 1]] <- list(level = lv, error = conditionMessage(f$cap$value), warnings = f$cap$warnings)
      next
    }
    r <- f$res
    est <- c(est, r$beta[1]); se <- c(se, r$se[1])
    per[[length(per) + 1]] <- list(
      level = lv, k = r$k, estimate = num(r$beta), se = num(r$se), zval = num(r$zval), pval = num(r$pval),
      ci_lower = num(r$ci.lb), ci_upper = num(r$ci.ub), tau2 = num(r$tau2), se_tau2 = num(r$se.tau2),
      I2 = num(r$I2), H2 = num(r$H2), QE = num(r$QE), test_used = r$test, error = NULL,
      warnings = f$cap$warnings)
  }
  qb <- NULL
  if (length(est) == length(levels)) {
    b <- rma(est, sei = se, method = "EE")
    qb <- list(QE = num(b$QE), QEp = num(b$QEp), df = length(levels) - 1)
  }
  gf <- factor(g, levels = levels)
  cm <- one_fit(yi, vi, method, test, level, mods = ~ g - 1, g = gf)
  ct <- one_fit(yi, vi, method, test, level, mods = ~ g, g = gf)
  cell <- if (is.null(cm$res)) list(error = conditionMessage(cm$cap$value)) else with(cm$res, list(
    names = I(levels), estimate = vec(beta), se = vec(se), zval = vec(zval), pval = vec(pval),
    ci_lower = vec(ci.lb), ci_upper = vec(ci.ub), tau2 = num(tau2), se_tau2 = num(se.tau2),
    I2 = num(I2), H2 = num(H2), k = k, error = NULL, warnings = cm$cap$warnings))
  contrast <- if (is.null(ct$res)) list(error = conditionMessage(ct$cap$value)) else with(ct$res, list(
    QM = num(QM), QMdf = I(as.numeric(QMdf)), QMp = num(QMp), tau2 = num(tau2), error = NULL))
  list(method = method, test = test, level = level,
       separate = list(levels = per, q_between = qb), common = list(cell_means = cell, contrast = contrast))
}

subgroups <- list()
N_SUB <- 16
for (s in seq_len(N_SUB)) {
  family <- sample(c("generic", "PLO", "OR"), 1, prob = c(0.6, 0.2, 0.2))
  n_levels <- sample(2:4, 1)
  k <- max(sample(5:40, 1), 2 * n_levels + 1)
  lv <- sort(sample(LEVEL_NAMES, n_levels))
  single <- s %% 2 == 0          # one level with a single study
  g <- if (single) c(lv[1], rep(lv[-1], 2), sample(lv[-1], k - 1 - 2 * (n_levels - 1), replace = TRUE))
       else c(lv, lv, sample(lv, k - 2 * n_levels, replace = TRUE))
  g <- g[sample.int(k)]
  if (s %% 5 == 0) g[sample.int(k, 1)] <- NA   # a study without subgroup label
  tau2 <- if (s %% 4 == 1) 0 else sample(c(0.05, 0.2), 1)
  eta <- runif(n_levels, -0.5, 0.5)[match(g, lv)]
  eta[is.na(eta)] <- 0
  d <- simulate_effects(family, k, eta, tau2)
  es <- escalc_of(family, d)
  cases <- list()
  for (method in c("DL", "REML")) for (test in c("z", "knha")) {
    cases[[length(cases) + 1]] <- subgroup_case(es$yi, es$vi, g, method, test, draw_level())
  }
  subgroups[[length(subgroups) + 1]] <- list(
    id = sprintf("sub%02d-%s-k%d-L%d%s", s, family, k, n_levels, if (single) "-single" else ""),
    family = family, measure = measure_of(family), k = k, true_tau2 = tau2,
    data = c(d, list(g = nullable(g))), escalc = list(yi = vec(es$yi), vi = vec(es$vi)), cases = cases)
}
# bcg by allocation (alternate has k = 2)
cases <- list()
for (method in c("DL", "REML")) for (test in c("z", "knha")) {
  cases[[length(cases) + 1]] <- subgroup_case(bcg_es$yi, bcg_es$vi, bcg$alloc, method, test, 95)
}
subgroups[[length(subgroups) + 1]] <- list(
  id = "bcg-alloc", family = "RR", measure = "RR", k = nrow(bcg), true_tau2 = NULL,
  data = c(bcg_d, list(g = bcg$alloc)), escalc = list(yi = vec(bcg_es$yi), vi = vec(bcg_es$vi)), cases = cases)

meta <- list(
  generator = "tests/reference/generate_regression.R",
  seed = SEED, date = format(Sys.Date()),
  r_version = R.version.string, metafor_version = as.character(packageVersion("metafor")),
  methods = I(METHODS), tests = I(TESTS),
  method_note = "CE is metafor's method 'EE'",
  families = reg_counts,
  n_regression = length(regression), n_subgroup = length(subgroups),
  n_fits = n_fits, n_errors = n_err, runtime_seconds = NA)
meta$runtime_seconds <- round(as.numeric(difftime(Sys.time(), t_start, units = "secs")), 1)
out <- list(meta = meta, regression = regression, subgroups = subgroups)
json <- toJSON(out, digits = NA, null = "null", na = "null", auto_unbox = TRUE)
con <- gzfile(OUT, "w")
writeLines(json, con)
close(con)
cat(sprintf("wrote %s: %d regression data sets, %d subgroup data sets, %d fits, %d errors, %.1fs\n",
            OUT, length(regression), length(subgroups), n_fits, n_err, meta$runtime_seconds))
for (nm_ in names(err_kinds)) cat(sprintf("  %4d  %s\n", as.integer(err_kinds[[nm_]]), gsub("\n", " ", nm_)))
