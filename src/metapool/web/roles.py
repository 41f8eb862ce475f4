"""The roles of a team (one vocabulary for the access guard, the account database, the pages and the CLI).

Kept apart from :mod:`metapool.web.security` so that ``metapool serve --role`` can list the roles
without importing the web framework (the command line stays quick to start).
"""

from __future__ import annotations

#: From most to least rights: what each role may do.
ROLES: dict[str, str] = {
    "lead": "runs the review: everything a reviewer does, plus resolving conflicts, merging duplicates, "
            "creating study tables and managing accounts",
    "reviewer": "imports and screens records, runs and reads analyses",
}
