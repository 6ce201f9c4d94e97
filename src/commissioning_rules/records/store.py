"""The store: decision records in SQLite (a file path, the embedded default) or PostgreSQL (a URL), through one
class on SQLAlchemy 2. The URL is the only difference; the traps each database sets, and how they are met, are
listed in the package docstring (``commissioning_rules.records``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
import uuid
from contextlib import contextmanager
from importlib import resources
from typing import Any, Iterator, Protocol, Sequence

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, delete, event, exists, insert, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from commissioning_rules.records.model import (
    GENESIS,
    Draft,
    Entry,
    PurgedRun,
    PurgeMarker,
    Record,
    RecordsError,
    marker_hash,
    now_utc,
    parse_record_id,
    parse_utc,
    record_hash,
    runs_digest,
    utc_text,
)
from commissioning_rules.records.tables import ChainHead, PolicyTextRow, PurgeMarkerRow, RecordRow

#: Seconds a writer waits for another's lock (SQLite) or a connection attempt waits (PostgreSQL).
LOCK_TIMEOUT = 60
CONNECT_TIMEOUT = 10
#: Rows fetched at a time when walking the chain.
PAGE = 1000
#: The PostgreSQL advisory lock taken while migrating (any constant both processes agree on).
_MIGRATION_LOCK = 0x63725F7265636F72  # "cr_recor"
_VERSION_TABLE = "cr_alembic_version"


class StoreUnavailable(RecordsError):
    """The database cannot be opened: a bad URL, an unreachable server, a file that is not a database."""


class RecordNotFound(RecordsError):
    """No record has that id (it never existed, or a purge removed it)."""


class RecordStore(Protocol):
    """What every decision-record store offers. Append-only: no record is changed or deleted through it, except
    by :meth:`purge` (retention), which leaves a marker in the chain."""

    @property
    def url(self) -> str: ...

    def append(self, drafts: Sequence[Draft]) -> list[Record]:
        """Add ``drafts`` at the end of the chain, all in one transaction (all stored, or none)."""
        ...

    def get(self, record_id: str) -> Record:
        """The record with this id; :class:`RecordNotFound` if there is none."""
        ...

    def records(self, *, reference: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None, limit: int | None = None) -> Iterator[Record]:
        """Records in chain order, optionally only those with ``reference`` or evaluated in [since, until)."""
        ...

    def chain(self) -> Iterator[Entry]:
        """Every entry (records and purge markers) in chain order."""
        ...

    def markers(self) -> list[PurgeMarker]:
        """Every purge marker, in chain order."""
        ...

    def head(self) -> tuple[int, str]:
        """The position and hash the chain's head row names."""
        ...

    def policy_text(self, sha256: str) -> str | None:
        """A stored policy text by its SHA-256 (``None`` if absent)."""
        ...

    def purge(self, before: dt.datetime, reason: str, *, dry_run: bool = False) -> PurgeMarker | None:
        """Remove every record evaluated before ``before``, leaving a purge marker (``None``: nothing to purge)."""
        ...

    def close(self) -> None: ...


def database_url(target: str | os.PathLike[str]) -> URL:
    """A store's URL: a URL as given, or a file path as an SQLite URL. ``postgresql://`` and ``postgres://``
    mean the psycopg 3 driver this library installs (SQLAlchemy's own default is psycopg2)."""
    target = os.fspath(target)
    if "://" not in target:
        return URL.create("sqlite", database=os.path.abspath(os.path.expanduser(target)))
    try:
        url = make_url(target)
    except ArgumentError:
        raise StoreUnavailable(f"{target!r} is neither a file path nor a database URL") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def shown(url: URL | str) -> str:
    """A URL fit to print: the password hidden."""
    return (url if isinstance(url, URL) else database_url(url)).render_as_string(hide_password=True)


def _migrations() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("commissioning_rules.records") / "migrations"))
    return config


class Store:
    """Decision records in the database at ``target``: a file path (SQLite) or a SQLAlchemy URL
    (``postgresql://user@host/db``). Opening it creates or upgrades the schema (Alembic) unless
    ``migrate=False``; a database it cannot open is a :class:`StoreUnavailable` naming it."""

    def __init__(self, target: str | os.PathLike[str], *, migrate: bool = True) -> None:
        url = database_url(target)
        self._shown = shown(url)
        self._sqlite = url.get_backend_name() == "sqlite"
        if self._sqlite and url.database and url.database != ":memory:":
            folder = os.path.dirname(url.database)
            if folder and not os.path.isdir(folder):
                raise StoreUnavailable(f"cannot open the decision records at {self._shown}: no folder {folder}")
        self._known_policies: set[str] = set()
        self._lock = threading.Lock()
        try:
            self._engine = self._create_engine(url)
            self._retrying_while_locked(self._migrate if migrate else self._check_revision)
        except RecordsError:
            raise
        except (SQLAlchemyError, NoSuchModuleError, ImportError, OSError) as error:
            raise StoreUnavailable(f"cannot open the decision records at {self._shown}: {_reason(error)}") from None

    def _retrying_while_locked(self, step: Any) -> None:
        """Run ``step``, again while SQLite says "database is locked" (up to ``LOCK_TIMEOUT`` seconds).

        SQLite answers that at once, without its busy handler, where waiting could deadlock: several processes
        opening a brand-new file and switching it to WAL together, or a read transaction that would need to
        write. Its documented remedy is to retry the whole step, which reads the schema afresh each time."""
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                step()
                return
            except OperationalError as error:
                if not (self._sqlite and "locked" in str(error.orig) and time.monotonic() < deadline):
                    raise
                time.sleep(0.05)

    # --- connections ---------------------------------------------------------------------------------

    def _create_engine(self, url: URL) -> Engine:
        if self._sqlite:
            engine = create_engine(url, connect_args={"timeout": LOCK_TIMEOUT, "check_same_thread": False})

            @event.listens_for(engine, "connect")
            def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
                # Hand transaction control to SQLAlchemy's "begin" below (pysqlite's own BEGIN is deferred).
                dbapi_connection.isolation_level = None
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute(f"PRAGMA busy_timeout = {LOCK_TIMEOUT * 1000}")
                cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer, nor it them
                cursor.close()

            @event.listens_for(engine, "begin")
            def _sqlite_begin(connection: Connection) -> None:
                # A writer takes the write lock at BEGIN, so it never reads a head another writer is moving.
                write = connection.get_execution_options().get("cr_write", False)
                connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

            return engine
        connect_args = {"connect_timeout": CONNECT_TIMEOUT} if url.get_backend_name() == "postgresql" else {}
        return create_engine(url, connect_args=connect_args, pool_pre_ping=True)

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        bind = self._engine.execution_options(cr_write=True) if write else self._engine
        with Session(bind, expire_on_commit=False) as session:
            try:
                with session.begin():
                    yield session
            except RecordsError:
                raise
            except SQLAlchemyError as error:
                raise StoreUnavailable(f"the decision records at {self._shown} failed: {_reason(error)}") from None

    @property
    def url(self) -> str:
        return self._shown

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self._shown!r})"

    # --- schema --------------------------------------------------------------------------------------

    def _revisions(self, connection: Connection) -> tuple[str | None, str]:
        current = MigrationContext.configure(connection, opts={"version_table": _VERSION_TABLE}).get_current_revision()
        script = ScriptDirectory.from_config(_migrations())
        head = script.get_current_head()
        assert head is not None
        if current is not None and current != head and current not in {r.revision for r in script.walk_revisions()}:
            raise StoreUnavailable(
                f"the decision records at {self._shown} are at schema revision {current}, which this version of "
                "commissioning-rules does not know: a newer version wrote them (upgrade commissioning-rules)"
            )
        return current, head

    def _check_revision(self) -> None:
        with self._engine.connect() as connection:
            current, head = self._revisions(connection)
        if current != head:
            raise StoreUnavailable(
                f"the decision records at {self._shown} are at schema revision {current or 'none'}, not {head}: "
                "open the store with migrate=True to upgrade them"
            )

    def _migrate(self) -> None:
        with self._engine.connect() as connection:
            current, head = self._revisions(connection)
        if current == head:
            return
        with self._engine.execution_options(cr_write=True).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = _migrations()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # --- writing -------------------------------------------------------------------------------------

    def append(self, drafts: Sequence[Draft]) -> list[Record]:
        if not drafts:
            return []
        with self._session(write=True) as session:
            head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
            ids = {d.record_id for d in drafts}
            for draft in drafts:
                if draft.supersedes is not None and draft.supersedes not in ids:
                    found = session.scalar(select(exists().where(RecordRow.record_id == draft.supersedes)))
                    if not found:
                        raise RecordsError(
                            f"record {draft.record_id} supersedes {draft.supersedes}, which is not in "
                            f"{self._shown} (never recorded, or purged)"
                        )
            new_policies = {d.policy_sha256: d.policy_text for d in drafts if d.policy_sha256 is not None}
            for sha, policy_text in new_policies.items():
                if sha not in self._known_policies and session.get(PolicyTextRow, sha) is None:
                    session.add(PolicyTextRow(sha256=sha, text=policy_text))
            records, rows = [], []
            seq, prev = head.seq, head.entry_hash
            for draft in drafts:
                seq += 1
                entry_hash = record_hash(draft, seq, prev)
                values = draft.model_dump()
                records.append(Record(**values, seq=seq, prev_hash=prev, entry_hash=entry_hash))
                del values["policy_text"]  # stored once, in cr_policy_texts
                rows.append({**values, "evaluated_at": utc_text(draft.evaluated_at), "seq": seq, "prev_hash": prev,
                             "entry_hash": entry_hash})
                prev = entry_hash
            session.flush()  # the policy texts first: the records refer to them
            session.execute(insert(RecordRow), rows)  # one multi-row INSERT (an ORM object per row costs 10×)
            head.seq, head.entry_hash = seq, prev
        with self._lock:
            self._known_policies.update(new_policies)
        return records

    def purge(self, before: dt.datetime, reason: str, *, dry_run: bool = False) -> PurgeMarker | None:
        cutoff = utc_text(before)
        if not reason.strip():
            raise RecordsError("a purge needs a reason (it is kept in the chain)")
        if before > now_utc():
            raise RecordsError(f"the purge cut-off {cutoff} is in the future")
        with self._session(write=True) as session:
            head = session.execute(select(ChainHead).where(ChainHead.id == 1).with_for_update()).scalar_one()
            rows = session.execute(
                select(RecordRow.seq, RecordRow.prev_hash, RecordRow.entry_hash)
                .where(RecordRow.evaluated_at < cutoff).order_by(RecordRow.seq)
            ).all()
            if not rows:
                return None
            runs, current = [], [rows[0]]
            for row in rows[1:]:
                if row.seq == current[-1].seq + 1:
                    current.append(row)
                else:
                    runs.append(_run(current))
                    current = [row]
            runs.append(_run(current))
            seq = head.seq + 1
            draft: dict[str, Any] = dict(seq=seq, marker_id=str(uuid.uuid4()), purged_at=now_utc(), before=before,
                                         reason=reason, count=len(rows), runs=tuple(runs), prev_hash=head.entry_hash)
            marker = PurgeMarker(**draft, entry_hash=marker_hash(PurgeMarker(**draft, entry_hash="")))
            if dry_run:
                return marker  # nothing was changed: the transaction commits nothing
            for run in runs:
                session.execute(delete(RecordRow).where(RecordRow.seq.between(run.first_seq, run.last_seq)))
            session.add(_marker_row(marker))
            head.seq, head.entry_hash = seq, marker.entry_hash
        return marker

    # --- reading -------------------------------------------------------------------------------------

    def get(self, record_id: str) -> Record:
        wanted = parse_record_id(record_id)
        with self._session() as session:
            row = session.execute(select(RecordRow).where(RecordRow.record_id == wanted)).scalar_one_or_none()
            if row is None:
                raise RecordNotFound(f"no record {wanted} in {self._shown} (never recorded, or purged)")
            return self._record(session, row)

    def records(self, *, reference: str | None = None, since: dt.datetime | None = None,
                until: dt.datetime | None = None, limit: int | None = None) -> Iterator[Record]:
        query = select(RecordRow).order_by(RecordRow.seq)
        if reference is not None:
            query = query.where(RecordRow.reference == reference)
        if since is not None:
            query = query.where(RecordRow.evaluated_at >= utc_text(since))
        if until is not None:
            query = query.where(RecordRow.evaluated_at < utc_text(until))
        yield from self._paged(query, limit)

    def _paged(self, query: Any, limit: int | None = None) -> Iterator[Record]:
        """Rows of ``query`` (ordered by seq) a page at a time, each page its own short read."""
        after, given = 0, 0
        while limit is None or given < limit:
            page = PAGE if limit is None else min(PAGE, limit - given)
            with self._session() as session:
                rows = session.execute(query.where(RecordRow.seq > after).limit(page)).scalars().all()
                batch = [self._record(session, row) for row in rows]
            yield from batch
            given += len(batch)
            if len(batch) < page:
                return
            after = batch[-1].seq

    def markers(self) -> list[PurgeMarker]:
        with self._session() as session:
            return [_marker(row) for row in session.execute(select(PurgeMarkerRow).order_by(PurgeMarkerRow.seq)).scalars()]

    def chain(self) -> Iterator[Entry]:
        pending = iter(self.markers())
        marker = next(pending, None)
        for record in self._paged(select(RecordRow).order_by(RecordRow.seq)):
            while marker is not None and marker.seq <= record.seq:
                yield marker
                marker = next(pending, None)
            yield record
        while marker is not None:
            yield marker
            marker = next(pending, None)

    def head(self) -> tuple[int, str]:
        with self._session() as session:
            head = session.execute(select(ChainHead).where(ChainHead.id == 1)).scalar_one()
            return head.seq, head.entry_hash

    def policy_text(self, sha256: str) -> str | None:
        with self._session() as session:
            row = session.get(PolicyTextRow, sha256)
            return row.text if row is not None else None

    def _record(self, session: Session, row: RecordRow) -> Record:
        stored = session.get(PolicyTextRow, row.policy_sha256) if row.policy_sha256 else None
        policy_text = stored.text if stored is not None else None  # a missing text is for verify to report
        return Record(
            record_id=row.record_id, reference=row.reference, supersedes=row.supersedes,
            evaluated_at=parse_utc(row.evaluated_at), as_of=row.as_of, as_of_source=row.as_of_source,
            policy_name=row.policy_name, policy_version=row.policy_version, policy_origin=row.policy_origin,
            policy_sha256=row.policy_sha256, policy_text=policy_text, library_version=row.library_version,
            code_sha256=row.code_sha256, engine=row.engine, input_json=row.input_json,
            input_sha256=row.input_sha256, decision_json=row.decision_json, decision_sha256=row.decision_sha256,
            seq=row.seq, prev_hash=row.prev_hash, entry_hash=row.entry_hash,
        )


def _run(rows: list[Any]) -> PurgedRun:
    return PurgedRun(first_seq=rows[0].seq, last_seq=rows[-1].seq, prev_hash=rows[0].prev_hash,
                     last_hash=rows[-1].entry_hash, digest=runs_digest([r.entry_hash for r in rows]))


def _marker_row(marker: PurgeMarker) -> PurgeMarkerRow:
    return PurgeMarkerRow(
        seq=marker.seq, marker_id=marker.marker_id, purged_at=utc_text(marker.purged_at),
        before=utc_text(marker.before), reason=marker.reason, count=marker.count,
        runs=json.dumps([run.model_dump() for run in marker.runs], sort_keys=True, separators=(",", ":")),
        prev_hash=marker.prev_hash, entry_hash=marker.entry_hash,
    )


def _marker(row: PurgeMarkerRow) -> PurgeMarker:
    return PurgeMarker(
        seq=row.seq, marker_id=row.marker_id, purged_at=parse_utc(row.purged_at), before=parse_utc(row.before),
        reason=row.reason, count=row.count, runs=tuple(PurgedRun(**run) for run in json.loads(row.runs)),
        prev_hash=row.prev_hash, entry_hash=row.entry_hash,
    )


def _reason(error: BaseException) -> str:
    """The first line of a database error, without SQLAlchemy's background links."""
    original = getattr(error, "orig", None)
    message = str(original if original is not None else error).strip()
    return message.splitlines()[0] if message else type(error).__name__


__all__ = ["GENESIS", "RecordNotFound", "RecordStore", "Store", "StoreUnavailable", "database_url", "shown"]
