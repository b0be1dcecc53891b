from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from fuseshare.config import Settings
from tests.integration.web.web_site import WebSite, build_site


@pytest.fixture
def web(db_url: str, settings: Settings) -> Iterator[WebSite]:
    """The seeded site, on SQLite and on PostgreSQL: for what depends on the database."""
    site = build_site(db_url, settings)
    yield site
    site.app.state.store.engine.dispose()


@pytest.fixture
def web_sqlite(sqlite_template: Path, tmp_path: Path, settings: Settings) -> Iterator[WebSite]:
    """The seeded site on SQLite only: for the portal's behaviour, which no database changes."""
    path = tmp_path / "web.sqlite3"
    shutil.copy(sqlite_template, path)
    site = build_site(f"sqlite:///{path}", settings)
    yield site
    site.app.state.store.engine.dispose()
