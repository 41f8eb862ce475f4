"""The review before the pooling: bibliographic records, deduplication, screening and PRISMA 2020.

Nothing here is imported by ``import metapool``; the CLI (``metapool review``)
and the web app load it on use.
"""
