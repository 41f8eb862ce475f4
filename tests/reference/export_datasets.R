#!/usr/bin/env Rscript
# Export metafor's worked-example data sets as CSV files for metapool.datasets.
# Regenerate with `Rscript tests/reference/export_datasets.R` from the repo root.
# Straight write.csv(row.names = FALSE) exports with metafor's column names.
suppressPackageStartupMessages(library(metafor))
outdir <- file.path("src", "metapool", "datasets", "data")
if (!dir.exists(outdir)) stop("run from the repository root (missing ", outdir, ")")
write.csv(dat.bcg, file.path(outdir, "bcg.csv"), row.names = FALSE)
write.csv(dat.pritz1997, file.path(outdir, "pritz1997.csv"), row.names = FALSE)
write.csv(dat.normand1999, file.path(outdir, "normand1999.csv"), row.names = FALSE)
cat("wrote bcg.csv, pritz1997.csv, normand1999.csv to", outdir, "\n")
