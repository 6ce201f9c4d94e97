"""Alembic's environment for the decision-records schema.

The library calls Alembic with an open connection in ``config.attributes["connection"]``, inside its own
transaction (which on SQLite holds the write lock and on PostgreSQL an advisory lock: two processes opening a
new database at once do not both create it). Run from the ``alembic`` command instead, it connects to
``sqlalchemy.url`` itself. ``render_as_batch`` lets a later revision alter a table on SQLite, which has no
``ALTER COLUMN`` (Alembic copies the table instead).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from commissioning_rules.records.tables import Base

config = context.config
VERSION_TABLE = "cr_alembic_version"


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as own:
        _run(own)
