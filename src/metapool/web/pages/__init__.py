"""The app's screens: one module per screen, each with a ``ROUTES`` list; :func:`routes` joins them."""

from __future__ import annotations

from . import accounts, audit, home


def routes() -> list:
    """Every route of the app, screen by screen."""
    return [*home.ROUTES, *accounts.ROUTES, *audit.ROUTES]
