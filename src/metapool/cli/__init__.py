"""Command-line interface (``metapool``)."""
