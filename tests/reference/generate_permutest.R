# Reference values of metafor's permutest() for metapool's permutation tests.
# Generated fixture tests/reference/permutest_reference.json: DO NOT EDIT;
# regenerate with `Rscript tests/reference/generate_permutest.R` from the repo root.
suppressMessages({library(metafor); library(jsonlite)})
set.seed(20261126)
dat <- escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
cases <- list()
add <- function(id, res, perm, mods) {
  cases[[length(cases) + 1]] <<- list(
    id = id, yi = as.vector(res$yi), vi = as.vector(res$vi), mods = mods,
    method = res$method, test = res$test, iter = length(perm$QM.perm),
    failed = sum(is.na(perm$QM.perm)), pval = as.vector(perm$pval), QMp = perm$QMp)
}
# exact: intercept-only, k = 8 (2^8 = 256 sign flips <= 1000)
for (m in c("DL", "REML")) for (tt in c("z", "knha")) {
  res <- rma(yi, vi, data=dat[1:8,], method=m, test=tt)
  perm <- permutest(res, progbar=FALSE, retpermdist=TRUE)
  add(paste("int", m, tt), res, perm, NULL)
}
# exact: one numeric moderator, k = 6 (720 permutations)
for (m in c("DL", "REML")) for (tt in c("z", "knha")) {
  res <- rma(yi, vi, mods=~ablat, data=dat[1:6,], method=m, test=tt)
  perm <- permutest(res, progbar=FALSE, retpermdist=TRUE)
  add(paste("ablat6", m, tt), res, perm, as.vector(dat$ablat[1:6]))
}
# approximate: all 13 studies, 5000 random permutations (Monte Carlo error ~ 0.003)
res <- rma(yi, vi, mods=~ablat, data=dat, method="REML")
perm <- permutest(res, iter=5000, progbar=FALSE, seed=1, retpermdist=TRUE)
add("ablat13 approx", res, perm, as.vector(dat$ablat))
out <- list(meta = list(metafor = as.character(packageVersion("metafor")), r = R.version.string,
                        script = "tests/reference/generate_permutest.R"), cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null"),
           "tests/reference/permutest_reference.json")
