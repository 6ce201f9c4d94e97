"""Decision records: the store suite, run against SQLite and PostgreSQL alike (the ``records_db`` fixture), then
what is particular to each (canonical JSON, migrations, errors)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from importlib import resources

import pytest
from sqlalchemy import create_engine, text

import commissioning_rules as cr
from commissioning_rules import records
from commissioning_rules.models.case import Case
from commissioning_rules.policy import Policy
from commissioning_rules.records.model import GENESIS, now_utc

EXAMPLES = resources.files("commissioning_rules.examples")
LUNCH_CLUB = json.loads(EXAMPLES.joinpath("community_lunch_club.json").read_text("utf-8"))
COUNCIL_POLICY = str(EXAMPLES.joinpath("council-policy.yaml"))
#: A small case (delivery only): a small decision, for the tests that store thousands.
SMALL = {"as_of": "2026-04-01", "delivery": {"council_capacity": "reduced", "self_delivery_most_efficient": False,
                                             "outcomes_need_partners": True, "joint_commissioning_adds_value": True,
                                             "appropriate_partnership_exists": True}}
ENGINE = "reference"


@pytest.fixture
def store(records_db):
    with records.Store(records_db) as opened:
        yield opened


def sql(store: records.Store, statement: str, **values) -> None:
    """Run ``statement`` directly on the store's database, as someone with SQL access would."""
    with store._engine.begin() as connection:
        connection.execute(text(statement), values)


def record(store, case=SMALL, **options):
    options.setdefault("engine", ENGINE)
    return records.evaluate_and_record(store, case, **options)[1]


# --- the store suite (both databases) ------------------------------------------------------------------------


def test_a_record_holds_everything_needed_to_show_and_reproduce_the_decision(store):
    case = {**LUNCH_CLUB, "reference": "APP-2026-0142"}
    before = now_utc()
    decision, stored = records.evaluate_and_record(store, case, engine=ENGINE)
    got = store.get(stored.record_id)
    assert got == stored
    assert got.seq == 1 and got.prev_hash == GENESIS and got.reference == "APP-2026-0142"
    assert Case.model_validate(got.input) == Case.model_validate(case)
    assert got.input_sha256 == records.model.sha256(got.input_json)
    assert got.decision == json.loads(decision.to_json(sources=True))  # kept with its sources
    assert all(finding["source"] for finding in got.decision["findings"])
    assert (got.as_of, got.as_of_source) == (dt.date(2026, 4, 1), "case")
    assert (got.policy_name, got.policy_version, got.policy_text) == (decision.policy.name, decision.policy.version, None)
    assert got.library_version == cr.__version__ and got.code_sha256 == records.code_sha256()
    assert got.engine == ENGINE and before <= got.evaluated_at <= now_utc()
    assert got.evaluated_at.tzinfo is not None


def test_records_link_into_a_chain_listed_in_order(store):
    made = [record(store, {**SMALL, "reference": f"R{i % 2}"}) for i in range(4)]
    assert [r.prev_hash for r in made[1:]] == [r.entry_hash for r in made[:-1]]
    assert [r.record_id for r in store.records()] == [r.record_id for r in made]
    assert [r.record_id for r in store.records(reference="R1")] == [made[1].record_id, made[3].record_id]
    assert [r.seq for r in store.records(limit=3)] == [1, 2, 3]
    assert store.head() == (4, made[-1].entry_hash)
    assert list(store.records(since=now_utc())) == []


def test_a_correction_names_the_record_it_supersedes_and_an_unknown_one_is_refused(store):
    first = record(store)
    correction = record(store, as_of="2026-05-01", supersedes=first.record_id)
    assert correction.supersedes == first.record_id and correction.as_of_source == "argument"
    with pytest.raises(records.RecordsError, match="not in"):
        record(store, supersedes="00000000-0000-4000-8000-000000000000")
    assert store.head()[0] == 2  # nothing of the refused record was stored


@pytest.mark.parametrize("as_of, source", [(None, "case"), ("2026-06-30", "argument"), ("today", "today")])
def test_replay_reproduces_every_decision_byte_for_byte_whatever_its_date_came_from(store, as_of, source):
    case = {k: v for k, v in LUNCH_CLUB.items() if not (as_of == "today" and k == "as_of")}
    stored = record(store, case, as_of=None if as_of in (None, "today") else as_of)
    assert stored.as_of_source == source
    result = records.replay(store.get(stored.record_id))
    assert result.identical and result.differences == [] and result.error is None


def test_replay_under_a_council_policy_file_uses_the_text_stored_with_the_record(store, tmp_path):
    path = tmp_path / "ours.yaml"
    path.write_text(open(COUNCIL_POLICY, encoding="utf-8").read(), "utf-8")
    policy = Policy.from_file(path)
    stored = record(store, LUNCH_CLUB, policy=policy)
    assert stored.policy_origin == str(path) and stored.policy_sha256 == records.model.sha256(stored.policy_text)
    path.unlink()  # the file is gone: the record still replays, from its own copy
    assert records.replay(store.get(stored.record_id)).identical
    record(store, LUNCH_CLUB, policy=policy, policy_text=stored.policy_text)  # the text is stored once
    assert len({r.policy_sha256 for r in store.records()}) == 1


def test_a_decision_that_no_longer_replays_is_reported_path_by_path(store):
    case = Case.model_validate(LUNCH_CLUB)
    decision = records.model.recorded(cr.evaluate(case, engine=ENGINE))
    decision["eligibility"]["eligible"] = not decision["eligibility"]["eligible"]
    decision["notice"] = {"months": 1}  # as if an older version had decided differently
    source = records.PolicySource.of()
    (stored,) = store.append([records.Draft.of(case, decision, source)])
    result = records.replay(stored)
    assert not result.identical
    paths = {change.path: (change.a, change.b) for change in result.differences}
    assert paths["eligibility.eligible"] == (decision["eligibility"]["eligible"], not decision["eligibility"]["eligible"])
    assert paths["notice.months"] == (1, None)


# --- tampering: direct SQL, named by verify ------------------------------------------------------------------

TAMPERING = {
    "decision": ("UPDATE cr_records SET decision_json = replace(decision_json, :eligible, :not_eligible) "
                 "WHERE seq = 2", "decision_edited"),
    "input": ("UPDATE cr_records SET input_json = replace(input_json, :reference, :other) WHERE seq = 2",
              "input_edited"),
    "a hash": ("UPDATE cr_records SET decision_sha256 = :fake WHERE seq = 2", "entry_edited"),
    "a field": ("UPDATE cr_records SET as_of = '2020-01-01' WHERE seq = 2", "entry_edited"),
    "a time": ("UPDATE cr_records SET evaluated_at = '2020-01-01T00:00:00.000000Z' WHERE seq = 2", "entry_edited"),
    "a deletion": ("DELETE FROM cr_records WHERE seq = 2", "missing"),
    "the newest record": ("DELETE FROM cr_records WHERE seq = 3", "head"),
}


@pytest.mark.parametrize("edit", TAMPERING)
def test_tampering_in_sql_is_found_by_verify_and_named(store, edit):
    made = [record(store, {**LUNCH_CLUB, "reference": ref}) for ref in "ABC"]
    assert records.verify(store).intact
    statement, kind = TAMPERING[edit]
    sql(store, statement, fake="f" * 64, eligible='"eligible":false', not_eligible='"eligible":true',
        reference='"reference":"B"', other='"reference":"X"')
    result = records.verify(store)
    assert not result.intact
    assert kind in {p.kind for p in result.problems}
    if kind not in {"missing", "head"}:
        assert any(p.entry_id == made[1].record_id and made[1].record_id in p.message for p in result.problems)


def test_an_edit_covered_by_rehashing_still_breaks_the_link_to_the_next_record(store):
    made = [record(store, {**SMALL, "reference": ref}) for ref in "ABC"]
    sql(store, "UPDATE cr_records SET entry_hash = :fake WHERE seq = 2", fake="e" * 64)
    problems = records.verify(store).problems
    assert {(p.kind, p.entry_id) for p in problems} >= {("entry_edited", made[1].record_id),
                                                        ("broken_link", made[2].record_id)}


def test_an_edited_policy_text_is_named_by_verify(store):
    stored = record(store, LUNCH_CLUB, policy=Policy.from_file(COUNCIL_POLICY))
    sql(store, "UPDATE cr_policy_texts SET text = :text", text="name: edited afterwards\n")
    problems = records.verify(store).problems
    assert [(p.kind, p.entry_id) for p in problems] == [("policy_text", stored.record_id)]


# --- retention ---------------------------------------------------------------------------------------------


def test_purge_removes_whole_records_and_leaves_a_marker_so_the_chain_still_verifies(store):
    old = [record(store, {**SMALL, "reference": f"old{i}"}) for i in range(3)]
    cutoff = now_utc()
    kept = record(store, {**SMALL, "reference": "new"})
    assert store.purge(cutoff, "six years after the decision", dry_run=True).count == 3
    assert store.head()[0] == 4  # a dry run changes nothing
    marker = store.purge(cutoff, "six years after the decision")
    assert marker.count == 3 and [(r.first_seq, r.last_seq) for r in marker.runs] == [(1, 3)]
    assert marker.runs[0].prev_hash == GENESIS and marker.runs[0].last_hash == old[-1].entry_hash
    assert [r.record_id for r in store.records()] == [kept.record_id]
    with pytest.raises(records.RecordNotFound):
        store.get(old[0].record_id)
    later = record(store)
    result = records.verify(store)
    assert result.intact and (result.records, result.markers, result.purged) == (2, 1, 3)
    assert [e.seq for e in store.chain()] == [4, 5, 6] and later.prev_hash == marker.entry_hash
    assert store.purge(cutoff, "again") is None


def test_purges_across_earlier_markers_and_a_deletion_after_them_are_told_apart(store):
    first = [record(store) for _ in range(2)]
    store.purge(now_utc(), "first")
    second = [record(store) for _ in range(2)]
    marker = store.purge(now_utc(), "second")
    tail = record(store)
    assert [(r.first_seq, r.last_seq) for r in marker.runs] == [(4, 5)]
    assert records.verify(store).intact
    assert not {r.record_id for r in first + second} & {r.record_id for r in store.records()}
    sql(store, "DELETE FROM cr_purge_markers WHERE seq = 3")  # hiding a purge
    broken = records.verify(store)
    assert not broken.intact and "missing" in {p.kind for p in broken.problems}
    assert tail.seq == 7


def test_a_purge_needs_an_aware_past_cutoff_and_a_reason(store):
    record(store)
    with pytest.raises(records.RecordsError, match="time zone"):
        store.purge(dt.datetime(2020, 1, 1), "x")
    with pytest.raises(records.RecordsError, match="future"):
        store.purge(now_utc() + dt.timedelta(days=1), "x")
    with pytest.raises(records.RecordsError, match="reason"):
        store.purge(now_utc(), " ")


# --- concurrency ---------------------------------------------------------------------------------------------

WRITERS, PER_WRITER, SINGLES, PER_TRANSACTION = 8, 1000, 10, 50


def test_eight_writers_append_a_thousand_records_each_and_the_chain_stays_intact(records_db):
    """8 writers × 1,000 records, each writer its own store (its own connections), released together by a
    barrier: first some single-record transactions, then 50 records a transaction. Every record lands once,
    in one unbroken chain."""
    case = Case.model_validate(SMALL)
    one = records.Draft.of(case, cr.evaluate(case, engine=ENGINE), records.PolicySource.of())
    stores = [records.Store(records_db) for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []
    written: list[list[str]] = [[] for _ in range(WRITERS)]

    def write(w: int) -> None:
        try:
            drafts = [one.model_copy(update={"record_id": str(uuid.uuid4()), "reference": f"w{w}"})
                      for _ in range(PER_WRITER)]
            barrier.wait()
            sizes = [1] * SINGLES + [PER_TRANSACTION] * ((PER_WRITER - SINGLES) // PER_TRANSACTION + 1)
            start = 0
            for size in sizes:
                written[w] += [r.record_id for r in stores[w].append(drafts[start:start + size])]
                start += size
        except BaseException as error:  # noqa: BLE001 - reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in stores:
        opened.close()
    assert not failures, failures[0]
    assert all(len(ids) == PER_WRITER for ids in written)
    with records.Store(records_db) as store:
        result = records.verify(store)
        assert result.intact, result.problems[:3]
        assert result.records == WRITERS * PER_WRITER and store.head()[0] == WRITERS * PER_WRITER
        with store._engine.connect() as connection:
            stored = connection.execute(text("SELECT record_id, reference FROM cr_records")).all()
    assert sorted(stored) == sorted((i, f"w{w}") for w, ids in enumerate(written) for i in ids)


def test_many_processes_opening_a_new_database_at_once_create_one_schema(records_db):
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def open_it() -> None:
        try:
            barrier.wait()
            records.Store(records_db).close()
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    with records.Store(records_db) as store:
        assert store.head() == (0, GENESIS)


# --- the schema ----------------------------------------------------------------------------------------------


def test_the_migrated_schema_is_exactly_what_the_orm_classes_describe(records_db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from commissioning_rules.records.tables import Base

    with records.Store(records_db) as store:
        with store._engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": "cr_alembic_version"})
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() == "0001"


def test_the_migrations_ship_inside_the_package():
    folder = resources.files("commissioning_rules.records") / "migrations"
    assert (folder / "env.py").is_file() and (folder / "script.py.mako").is_file()
    assert any(p.name.startswith("0001_") for p in (folder / "versions").iterdir())


def test_a_database_from_a_newer_version_is_refused_by_name(tmp_path):
    path = tmp_path / "newer.db"
    records.Store(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("UPDATE cr_alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(records.StoreUnavailable, match="9999.*newer version"):
        records.Store(path)


# --- canonical JSON, values, errors --------------------------------------------------------------------------


def test_canonical_json_is_one_text_for_one_value_and_refuses_floats():
    assert records.canonical_json({"b": [1, "£"], "a": None}) == '{"a":null,"b":[1,"£"]}'
    with pytest.raises(records.RecordsError, match="float"):
        records.canonical_json({"money": 5000.0})
    with pytest.raises(records.RecordsError, match="time zone"):
        records.model.utc_text(dt.datetime(2026, 4, 1, 9, 30))
    london = dt.timezone(dt.timedelta(hours=1))
    assert records.model.utc_text(dt.datetime(2026, 4, 1, 10, 30, tzinfo=london)) == "2026-04-01T09:30:00.000000Z"


def test_the_same_case_spelt_differently_has_one_input_hash():
    source = records.PolicySource.of()
    spelt = [dict(SMALL), {**SMALL, "as_of": dt.date(2026, 4, 1)}, dict(reversed(list(SMALL.items())))]
    hashes = set()
    for case in spelt:
        model = Case.model_validate(case)
        hashes.add(records.Draft.of(model, cr.evaluate(model, engine=ENGINE), source).input_sha256)
    assert len(hashes) == 1


def test_a_policy_built_in_python_cannot_be_recorded_unreplayable():
    base = Policy.default()
    custom = Policy("ours", base.rulesets[:2], base.parameters)
    with pytest.raises(records.RecordsError, match="built in Python"):
        records.PolicySource.of(custom)


@pytest.mark.parametrize("target, expected", [
    ("postgresql://council:s3cret@127.0.0.1:1/decisions", "postgresql+psycopg://council:***@127.0.0.1:1/decisions"),
    ("{tmp}/no/such/folder/x.db", "no folder"),
    ("{tmp}/not-a-database", "file is not a database"),
    ("nosuchdb://x", "nosuchdb"),
])
def test_a_database_that_cannot_be_opened_is_a_clear_error_naming_it(tmp_path, target, expected):
    (tmp_path / "not-a-database").write_text("hello\n" * 100)
    with pytest.raises(records.StoreUnavailable) as caught:
        records.Store(target.format(tmp=tmp_path))
    assert expected in str(caught.value) and "s3cret" not in str(caught.value)
