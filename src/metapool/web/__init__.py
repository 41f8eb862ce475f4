"""The web app (``metapool serve``): an ASGI adapter over the library, for teams without a terminal.

Nothing here computes a statistic. Pages call the functions the CLI calls and render their results;
``metapool.web`` is imported only by ``metapool serve`` and the app's tests (never by ``import metapool``).
"""
