"""Two API processes on one PostgreSQL database with ``GOVFLOW_EVIDENCE_STORE=database``: a
file uploaded to one (the app's sign-in sheet, the API's raw evidence) is served by the other,
which shares no disk with it."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from govflow.application import Governance
from govflow.application.evidence_store import database_evidence
from govflow.application.procedures import ProcedureLibrary
from govflow.entrypoints.api import create_api
from tests.app.conftest import COUNCIL, SignIn, _people
from tests.app.test_meetings_app import SHEET, schedule
from tests.conftest import postgres_env
from tests.orchestration.conftest import WORKFLOWS, enroll_council

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.postgres]


@pytest_asyncio.fixture(loop_scope="session")
async def two_hosts(postgres_db: str) -> AsyncIterator[tuple[Governance, SignIn, SignIn]]:
    """Two installations (as on two hosts) over one database, each with its own API and the
    files kept in the database; the test council plus its clerk ``k1``."""
    first, second = Governance(postgres_env(postgres_db)), Governance(postgres_env(postgres_db))
    enroll_council(first)
    first.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    procedures = ProcedureLibrary(WORKFLOWS)
    api_one = create_api(first, None, procedures, evidence=database_evidence(first))
    api_two = create_api(second, None, procedures, evidence=database_evidence(second))
    async for on_one in _people(api_one, first):
        async for on_two in _people(api_two, second):
            yield first, on_one, on_two
    first.close()
    second.close()


async def test_a_sheet_uploaded_to_one_host_is_served_by_the_other(
    two_hosts: tuple[Governance, SignIn, SignIn],
) -> None:
    _, on_one, on_two = two_hosts
    clerk = await on_one("k1")
    assert (await schedule(clerk)).status_code == 303
    uploaded = await clerk.submit(
        "/app/meetings/1/evidence", files={"sheet": ("签到表.pdf", SHEET, "application/pdf")}
    )
    assert uploaded.status_code == 303
    digest = hashlib.sha256(SHEET).hexdigest()
    member = await on_two("m2")
    download = await member.get(f"/app/meetings/1/evidence/{digest}")
    assert download.status_code == 200 and download.content == SHEET
    missing = await member.get(f"/app/meetings/1/evidence/{'0' * 64}")
    assert missing.status_code == 404


async def test_raw_evidence_put_on_one_host_is_downloaded_from_the_other(
    two_hosts: tuple[Governance, SignIn, SignIn],
) -> None:
    _, on_one, on_two = two_hosts
    clerk = await on_one("k1")
    assert (await schedule(clerk, number=2)).status_code == 303
    photo = b"\x89PNG meeting photo"
    put = await clerk.client.put(
        f"/v1/councils/{COUNCIL}/meetings/2/evidence/photo.png",
        content=photo,
        headers={"Authorization": f"Bearer {clerk.token}"},
    )
    assert put.status_code == 201, put.text
    digest = put.json()["sha256"]
    reader = await on_two("m2")
    got = await reader.client.get(
        f"/v1/councils/{COUNCIL}/meetings/2/evidence/{digest}",
        headers={"Authorization": f"Bearer {reader.token}"},
    )
    assert got.status_code == 200 and got.content == photo
