"""Moderators: design matrices for meta-regression, and subgroup analyses."""
