"""Suite-wide set-up: a hypothesis profile that keeps the whole suite within a couple of minutes on two cores,
and pytester. The testing kit's pytest plugins come from the package's entry points (``--rule-coverage`` prints
which rules the suite fired)."""

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

# No deadline: the first evaluation compiles the policy for durable-rules. Tests that need more examples
# (the 2,000-case engine comparison) say so themselves.
settings.register_profile(
    "suite", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("suite")


# --- decision records: the databases the store suite runs against ------------------------------------------

import os  # noqa: E402
import subprocess  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

_POSTGRES_SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "postgres"


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server's URL: $CR_TEST_POSTGRES_URL (``.ci/run`` starts one), else one started here with
    ``.ci/postgres start`` and stopped at the end; the PostgreSQL tests skip, saying why, only if neither works."""
    url = os.environ.get("CR_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        started = subprocess.run(["bash", str(_POSTGRES_SCRIPT), "start"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"PostgreSQL tests skipped: no server could be started ({error})")
    if started.returncode != 0:
        reason = (started.stderr.strip().splitlines() or ["no reason given"])[-1]
        pytest.skip(f"PostgreSQL tests skipped: no server could be started ({reason}); "
                    "set CR_TEST_POSTGRES_URL or install postgresql (bash .ci/postgres install)")
    exports = dict(line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines())
    try:
        yield exports["CR_TEST_POSTGRES_URL"]
    finally:
        subprocess.run(["bash", str(_POSTGRES_SCRIPT), "stop", exports["CR_TEST_POSTGRES_DIR"]], timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_db(request, tmp_path):
    """A fresh, empty decision-records database, as the URL or path a user gives: an SQLite file, and a schema
    of its own on the PostgreSQL server (the same tests run against both)."""
    if request.param == "sqlite":
        yield str(tmp_path / "decisions.db")
        return
    from sqlalchemy import create_engine, text

    server = request.getfixturevalue("postgres_server").replace("postgresql://", "postgresql+psycopg://", 1)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{server}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
