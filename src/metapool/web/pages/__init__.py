"""The app's screens: one module per screen, each with a ``ROUTES`` list; :func:`routes` joins them."""

from __future__ import annotations

from . import accounts, analysis, audit, card, home, review, review_dedup, review_results, review_screening


def routes() -> list:
    """Every route of the app, screen by screen."""
    return [*home.ROUTES, *analysis.ROUTES, *card.ROUTES, *review.ROUTES, *review_dedup.ROUTES,
            *review_screening.ROUTES, *review_results.ROUTES, *accounts.ROUTES, *audit.ROUTES]
