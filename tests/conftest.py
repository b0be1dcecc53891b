"""Shared fixtures: real databases (SQLite and PostgreSQL), settings, the workflow.

PostgreSQL is used for real. The tests skip it only when no server answers and
FUSESHARE_REQUIRE_POSTGRES is unset; CI sets it, so there a missing server fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fuseshare.config import Settings
from fuseshare.store import migrate
from fuseshare.store.engine import make_engine, make_session_factory
from fuseshare.workflow import Context, Workflow

PG_ADMIN_URL = os.environ.get(
    "FUSESHARE_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:  # any failure to connect means "not reachable"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _pg_url(database: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, connect_timeout=5, autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    """A PostgreSQL database migrated to head once; tests clone it."""
    why = _pg_reachable()
    if why is not None:
        if os.environ.get("FUSESHARE_REQUIRE_POSTGRES"):
            pytest.fail(
                f"PostgreSQL is required (FUSESHARE_REQUIRE_POSTGRES) but unreachable: {why}"
            )
        pytest.skip(
            f"PostgreSQL not reachable ({why}); set FUSESHARE_REQUIRE_POSTGRES=1 to fail instead"
        )
    name = f"fs_tmpl_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    migrate.upgrade(_pg_url(name))
    try:
        yield name
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of each kind for one test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "test.sqlite3"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"fs_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_postgres_url(postgres_template: str) -> Iterator[str]:
    name = f"fs_empty_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", lockout_after_failures=3, lockout_s=600)


@pytest.fixture
def workflow(db_url: str, settings: Settings) -> Iterator[Workflow]:
    engine = make_engine(db_url)
    try:
        yield Workflow(
            Context(make_session_factory(engine), settings.with_overrides(database_url=db_url))
        )
    finally:
        engine.dispose()
