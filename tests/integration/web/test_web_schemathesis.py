"""Schemathesis against the OpenAPI document: generated requests to every operation
never crash the server, and every answer matches what the document promises."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from fuseshare.config import Settings
from tests.integration.web.web_site import WebSite, build_site

STREAMING = "/api/v1/groups/{group_id}/live/stream"


@pytest.fixture(scope="module")
def fuzzed_site(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebSite]:
    folder = tmp_path_factory.mktemp("schemathesis")
    shutil.copy(sqlite_template, folder / "api.sqlite3")
    site = build_site(
        f"sqlite:///{folder / 'api.sqlite3'}",
        Settings(data_dir=folder / "data", lockout_after_failures=1000, lockout_s=1),
    )
    yield site
    site.app.state.store.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzzed_site: WebSite) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_site.app).exclude(path=STREAMING)


@pytest.fixture(scope="module")
def auth_headers(fuzzed_site: WebSite) -> dict[str, str]:
    return {"Authorization": f"Bearer {fuzzed_site.token('partner_admin')}"}


def test_api_conforms_to_its_openapi_document(
    api_schema: Any, auth_headers: dict[str, str]
) -> None:
    failures: list[str] = []
    calls: list[int] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 25

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            # Values the schema allows may still be refused by the workflow (e.g. a 5 A
            # minimum current): a 422 naming the field, not a schema violation.
            response = case.call_and_validate(
                headers=auth_headers, excluded_checks=[positive_data_acceptance]
            )
            calls.append(response.status_code)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(calls) > 4 * len(operations), "schemathesis generated too few requests"
    assert any(code < 300 for code in calls) and any(code == 422 for code in calls)
