"""The app's screens: one module per screen, each with a ``ROUTES`` list; :func:`routes` joins them."""

from __future__ import annotations

from . import accounts, analysis, audit, card, home


def routes() -> list:
    """Every route of the app, screen by screen."""
    return [*home.ROUTES, *analysis.ROUTES, *card.ROUTES, *accounts.ROUTES, *audit.ROUTES]
