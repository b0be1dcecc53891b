"""`db upgrade` gives the same schema on SQLite and PostgreSQL, and it matches the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, types

from fuseshare.store import migrate
from fuseshare.store.engine import make_engine
from fuseshare.store.tables import Base

_GENERIC = (
    (types.Boolean, "boolean"),
    (types.DateTime, "datetime"),
    (types.Float, "float"),
    (types.Integer, "integer"),
    (types.JSON, "json"),
    (types.Text, "text"),
    (types.String, "string"),
)


def _kind(t: Any) -> str:
    # Reflection gives dialect types (SQLite: BOOLEAN/DATETIME; PG: DOUBLE_PRECISION, JSON, …).
    for cls, name in _GENERIC:
        if isinstance(t, cls):
            if name == "string" and getattr(t, "length", None) is None:
                return "text"
            return f"{name}({t.length})" if name == "string" else name
    if type(t).__name__ in ("DOUBLE_PRECISION", "REAL", "NUMERIC"):
        return "float"
    return type(t).__name__.lower()


def describe(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        out: dict[str, Any] = {}
        for table in sorted(insp.get_table_names()):
            if table == "alembic_version":
                continue
            out[table] = {
                "columns": {
                    c["name"]: (_kind(c["type"]), c["nullable"]) for c in insp.get_columns(table)
                },
                "pk": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
                "unique": sorted(
                    (u["name"], tuple(u["column_names"]))
                    for u in insp.get_unique_constraints(table)
                ),
                "fks": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                    )
                    for f in insp.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                    # PostgreSQL lists the indexes behind unique constraints too.
                    if not i.get("duplicates_constraint")
                ),
            }
        return out
    finally:
        engine.dispose()


def test_upgrade_gives_the_same_schema_on_sqlite_and_postgresql(
    tmp_path: Path, empty_postgres_url: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'fresh' / 'fuseshare.sqlite3'}"
    migrate.upgrade(sqlite_url)  # the file and its folder are created on first run
    migrate.upgrade(empty_postgres_url)
    lite, pg = describe(sqlite_url), describe(empty_postgres_url)
    assert set(lite) == set(pg)
    assert len(lite) == len(Base.metadata.tables)
    for table in lite:
        assert lite[table] == pg[table], table


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            diff = compare_metadata(context, Base.metadata)
            assert diff == []
            assert context.get_current_revision() == migrate.head_revision()
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    migrate.upgrade(url)
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
