"""Models: batched kernels, tau2 estimators, the rma fit and its result types."""
