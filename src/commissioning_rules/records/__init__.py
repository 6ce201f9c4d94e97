"""Decision records: every decision stored, reproducible and tamper-evident, in SQLite or PostgreSQL.

    >>> from commissioning_rules import records
    >>> store = records.Store("decisions.db")        # or "postgresql://user@host/council_decisions"
    >>> decision, record = records.evaluate_and_record(store, case)
    >>> records.verify(store).intact, records.replay(store.get(record.record_id)).identical

A record holds the validated input as canonical JSON and its SHA-256, ``as_of`` and where it came from, the
policy's name, version and (for a council's file) full text, the library version and a hash of its code, the
engine, the time evaluated (UTC), the Decision as canonical JSON and its SHA-256, and the hash of the entry
before it: a hash chain, so an edit or a deletion anywhere is found by :func:`verify`. The store is append-only;
a correction is a new record naming the one it ``supersedes``; :meth:`Store.purge` (retention) removes whole
records and leaves a marker in the chain (the runs removed, when, why, the hash of what went) so the chain
still verifies. The schema is made and upgraded by the Alembic revisions shipped in ``migrations/``.

The traps of what this package fences (SQLAlchemy over SQLite and PostgreSQL), and how each is defeated:

- **SQLite concurrency.** pysqlite opens transactions lazily with a deferred ``BEGIN``: two writers both read
  the chain head, then one fails to upgrade its lock ("database is locked") or, worse, both link to the same
  head. Defeated: pysqlite's own transaction handling is switched off (``isolation_level = None``) and every
  write transaction starts with ``BEGIN IMMEDIATE``, taking the write lock before the head is read; waiting
  writers queue on ``busy_timeout`` (60 s) rather than failing. WAL journal mode lets readers (list, verify)
  run while a writer writes. One SQLite file takes writers from many threads and processes on one machine;
  it is not for a network file system (use PostgreSQL for a shared database).
- **PostgreSQL serialisation of the chain head.** Under READ COMMITTED two transactions can read the same
  head and append two entries claiming the same predecessor; a ``SERIAL`` column would also leave gaps on
  rollback, and a gap here means a deletion. Defeated: the head is one row (``cr_chain_head``) read ``FOR
  UPDATE``, so appends queue on its row lock and each reads the committed head after the one before; positions
  come from that row, never a sequence, so they have no gaps. Two processes migrating a new database at once
  are serialised by an advisory lock (SQLite: by ``BEGIN IMMEDIATE``); migrations run inside that transaction
  (both databases have transactional DDL).
- **JSON canonicalisation.** The same data must give the same bytes, hence the same hash, on every machine and
  after a round trip through the database. Defeated: canonical JSON is keys sorted, no whitespace, UTF-8 text
  as itself, no floats (refused: their text is not portable; money is a ``Decimal`` written as a string); it
  is stored as ``TEXT``, never ``JSON``/``JSONB`` (PostgreSQL's ``JSONB`` reorders keys and rewrites numbers),
  and the hash is checked against the stored text itself.
- **Time zones.** A naive datetime means a different moment on each server, and a ``timestamp`` column comes
  back in the session's time zone, or (SQLite) as naive text. Defeated: times are taken in UTC
  (``datetime.now(timezone.utc)``), naive ones are refused, and they are stored and hashed as fixed-width UTC
  text (``2026-04-01T09:30:00.000000Z``), whose text order is time order, so ``purge --before`` compares text.
  A bare date given to purge is the start of that day in UTC.
- **URLs and drivers.** ``postgresql://`` means psycopg2 to SQLAlchemy, which this package does not install;
  an unreachable server would otherwise hang. Defeated: ``postgresql://`` and ``postgres://`` select psycopg 3;
  connections time out after 10 s; every database error becomes a :class:`StoreUnavailable` naming the URL
  with its password hidden. The Alembic version table is ``cr_alembic_version`` and every table starts with
  ``cr_``, so the records can share a council's existing database and its own Alembic history.
- **Deleting the newest records.** A hash chain alone cannot show that its last entries were removed. Defeated
  in part: the head row names the last position and hash and verify compares them; whoever can also edit the
  head can still truncate, so keep the head hash ``verify`` prints somewhere else (a minute, a ticket, a
  second system) to anchor it.
"""

from __future__ import annotations

try:
    import alembic  # noqa: F401
    import sqlalchemy  # noqa: F401
except ImportError:  # the extra is not installed: one sentence naming what to install
    raise ImportError(
        "decision records need the 'records' extra: pip install 'commissioning-rules[records]'"
    ) from None

from commissioning_rules.records.audit import Problem, Replay, Verification, evaluate_and_record, replay, verify
from commissioning_rules.records.model import (
    Draft,
    PolicySource,
    PurgedRun,
    PurgeMarker,
    Record,
    RecordsError,
    canonical_json,
    code_sha256,
)
from commissioning_rules.records.store import RecordNotFound, RecordStore, Store, StoreUnavailable, database_url

__all__ = [
    "Draft",
    "PolicySource",
    "Problem",
    "PurgeMarker",
    "PurgedRun",
    "Record",
    "RecordNotFound",
    "RecordStore",
    "RecordsError",
    "Replay",
    "Store",
    "StoreUnavailable",
    "Verification",
    "canonical_json",
    "code_sha256",
    "database_url",
    "evaluate_and_record",
    "replay",
    "verify",
]
