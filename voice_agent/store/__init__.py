"""The store: shop data, claims, hand-offs, conversations (SQLite by default, PostgreSQL by URL).

Readers use ``repository.Repository`` and get ``views`` values; writers pass ``writes`` values.
"""

import logging

# Alembic narrates every start at INFO, from the moment it is imported (plugins, context);
# ``db.upgrade`` logs what matters. Set before any store module imports alembic.
logging.getLogger("alembic").setLevel(logging.WARNING)
