"""Alembic revisions of the decision-records schema, shipped in the package and run by ``Store`` when it opens
a database (``store.migrate``). To write a new revision, from the repository root:
``alembic -c src/commissioning_rules/records/migrations/alembic.ini revision -m "what changes"``."""
