"""The database tables, as SQLAlchemy 2 typed ORM classes. The schema itself is made by the Alembic revisions
in ``migrations/versions`` (one revision per change, so a council's database is upgraded, never recreated); a
test proves these classes and the migrated schema agree.

JSON and times are ``Text`` on purpose (see the package docstring): the stored text is what was hashed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

HASH = String(64)
UUID_TEXT = String(36)
UTC_TEXT = String(27)
#: Chain positions: 64-bit (PostgreSQL's ``integer`` would end at two billion records).
SEQ = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    pass


class ChainHead(Base):
    """The one row naming the chain's last entry. Every append locks it first, so appends are serialised and
    each entry's position and ``prev_hash`` come from the committed head; verify compares it with the last entry
    (deleting the newest records would otherwise leave a chain that looks whole)."""

    __tablename__ = "cr_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(SEQ)
    entry_hash: Mapped[str] = mapped_column(HASH)


class PolicyTextRow(Base):
    """A council policy file's full text, stored once however many records were decided under it."""

    __tablename__ = "cr_policy_texts"

    sha256: Mapped[str] = mapped_column(HASH, primary_key=True)
    text: Mapped[str] = mapped_column(Text)


class RecordRow(Base):
    """One decision record (see ``model.Record``)."""

    __tablename__ = "cr_records"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    record_id: Mapped[str] = mapped_column(UUID_TEXT, unique=True)
    reference: Mapped[str | None] = mapped_column(String(500), index=True)
    supersedes: Mapped[str | None] = mapped_column(UUID_TEXT, index=True)
    evaluated_at: Mapped[str] = mapped_column(UTC_TEXT, index=True)
    as_of: Mapped[dt.date] = mapped_column(Date, index=True)
    as_of_source: Mapped[str] = mapped_column(String(16))
    policy_name: Mapped[str] = mapped_column(Text)
    policy_version: Mapped[str] = mapped_column(String(64))
    policy_origin: Mapped[str] = mapped_column(Text)
    policy_sha256: Mapped[str | None] = mapped_column(HASH, ForeignKey("cr_policy_texts.sha256"))
    library_version: Mapped[str] = mapped_column(String(64))
    code_sha256: Mapped[str] = mapped_column(HASH)
    engine: Mapped[str] = mapped_column(String(32))
    input_json: Mapped[str] = mapped_column(Text)
    input_sha256: Mapped[str] = mapped_column(HASH)
    decision_json: Mapped[str] = mapped_column(Text)
    decision_sha256: Mapped[str] = mapped_column(HASH)
    prev_hash: Mapped[str] = mapped_column(HASH)
    entry_hash: Mapped[str] = mapped_column(HASH)


class PurgeMarkerRow(Base):
    """A purge (see ``model.PurgeMarker``); ``runs`` is the canonical JSON of its removed runs."""

    __tablename__ = "cr_purge_markers"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    marker_id: Mapped[str] = mapped_column(UUID_TEXT, unique=True)
    purged_at: Mapped[str] = mapped_column(UTC_TEXT)
    before: Mapped[str] = mapped_column(UTC_TEXT)
    reason: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    runs: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(HASH)
    entry_hash: Mapped[str] = mapped_column(HASH)

