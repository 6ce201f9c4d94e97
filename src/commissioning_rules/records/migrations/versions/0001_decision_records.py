"""Decision records: the chain head, policy texts, records and purge markers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25

"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS = "0" * 64
SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    head = op.create_table(
        "cr_chain_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", SEQ, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "entry_hash": GENESIS}])
    op.create_table(
        "cr_policy_texts",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "cr_records",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("record_id", sa.String(36), nullable=False, unique=True),
        sa.Column("reference", sa.String(500), nullable=True),
        sa.Column("supersedes", sa.String(36), nullable=True),
        sa.Column("evaluated_at", sa.String(27), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("as_of_source", sa.String(16), nullable=False),
        sa.Column("policy_name", sa.Text, nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=False),
        sa.Column("policy_origin", sa.Text, nullable=False),
        sa.Column("policy_sha256", sa.String(64), sa.ForeignKey("cr_policy_texts.sha256"), nullable=True),
        sa.Column("library_version", sa.String(64), nullable=False),
        sa.Column("code_sha256", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("input_json", sa.Text, nullable=False),
        sa.Column("input_sha256", sa.String(64), nullable=False),
        sa.Column("decision_json", sa.Text, nullable=False),
        sa.Column("decision_sha256", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_cr_records_reference", "cr_records", ["reference"])
    op.create_index("ix_cr_records_supersedes", "cr_records", ["supersedes"])
    op.create_index("ix_cr_records_evaluated_at", "cr_records", ["evaluated_at"])
    op.create_index("ix_cr_records_as_of", "cr_records", ["as_of"])
    op.create_table(
        "cr_purge_markers",
        sa.Column("seq", SEQ, primary_key=True, autoincrement=False),
        sa.Column("marker_id", sa.String(36), nullable=False, unique=True),
        sa.Column("purged_at", sa.String(27), nullable=False),
        sa.Column("before", sa.String(27), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("runs", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cr_purge_markers")
    op.drop_table("cr_records")
    op.drop_table("cr_policy_texts")
    op.drop_table("cr_chain_head")
