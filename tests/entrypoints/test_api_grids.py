"""Grid routing (网格) over HTTP on a real SQLite store: the /v1 grid routes, the items listed
by grid, a grid's staff's tasks in the members' app, and the board's lists filtered by grid."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.entrypoints.api import create_api
from govflow.entrypoints.app.session import SESSION_COOKIE
from tests.orchestration.conftest import CHAIR, COUNCIL, enroll_council

PROCEDURE = ProcedureLibrary(Path(__file__).parents[2] / "workflows").get("five-step-consultation")
V1 = f"/v1/councils/{COUNCIL}"


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")}
    )
    enroll_council(app)
    app.enroll_member(COUNCIL, "k1", "书记员", actor="clerk", roles=("clerk",))
    yield app
    app.close()


@pytest.fixture
def client(governance: Governance, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_api(governance, evidence_dir=tmp_path / "evidence")) as test_client:
        yield test_client


def bearer(app: Governance, member: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {app.issue_token(COUNCIL, member, actor='clerk')}"}


def test_grids_routing_and_lists_by_grid(client: TestClient, governance: Governance) -> None:
    """The clerk puts two grids on record and routes an item to one; the station's staff
    re-route it to the other with a reason; the /v1 list by grid follows it."""
    app, clerk = governance, bearer(governance, "k1")
    for grid, name, staff in (("g7", "七号院网格", ["m1"]), ("g8", "八号院网格", ["m2"])):
        body = {"grid": grid, "name": name, "station": f"{name}服务站", "staff": staff}
        added = client.post(f"{V1}/grids", headers=clerk, json=body)
        assert added.status_code == 201, added.text
    changed = client.put(
        f"{V1}/grids/g8", headers=clerk, json={"name": "八号院网格", "station": "八号院站",
                                               "staff": ["m2", "m3"]}
    )  # fmt: skip
    assert changed.json()["staff"] == ["m2", "m3"]
    listed = client.get(f"{V1}/grids", headers=bearer(app, "m4")).json()
    assert [g["code"] for g in listed] == ["g7", "g8"]

    app.propose_issue(COUNCIL, 2501, "更换污水管", PROCEDURE, actor=CHAIR)
    member = bearer(app, "m4")
    forbidden = client.post(f"{V1}/issues/2501/route", headers=member, json={"grid": "g7"})
    assert forbidden.status_code == 403
    unknown = client.post(f"{V1}/issues/2501/route", headers=clerk, json={"grid": "g0"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "grid.unknown")
    routed = client.post(f"{V1}/issues/2501/route", headers=clerk, json={"grid": "g7"})
    assert routed.json() == {"number": 2501, "grid": "g7"}
    at_g7 = client.get(f"{V1}/grids/g7/issues", headers=member).json()
    assert [(r["number"], r["grid"]) for r in at_g7] == [(2501, "g7")]

    staff = bearer(app, "m1")
    reroute = {"grid": "g8", "reason": "管线属八号院"}
    moved = client.post(f"{V1}/issues/2501/reroute", headers=staff, json=reroute)
    assert moved.json() == {"number": 2501, "grid": "g8"}
    assert client.get(f"{V1}/grids/g7/issues", headers=member).json() == []
    assert [r["number"] for r in client.get(f"{V1}/grids/g8/issues", headers=member).json()] == [
        2501
    ]
    assert client.get(f"{V1}/issues/2501", headers=member).json()["issue"]["grid"] == "g8"
    missing = client.get(f"{V1}/grids/g0/issues", headers=member)
    assert missing.json()["code"] == "grid.unknown"
    retired = client.delete(f"{V1}/grids/g7", headers=clerk)
    assert retired.json()["retired"] is True
    again = client.post(f"{V1}/issues/2501/reroute", headers=clerk, json={**reroute, "grid": "g7"})
    assert again.json()["code"] == "grid.retired"


def test_a_grid_s_staff_see_its_items_in_my_tasks(
    client: TestClient, governance: Governance
) -> None:
    """The members' app lists an item routed to a grid among its staff's tasks, with the
    grid's name; other members do not see it."""
    app = governance
    app.add_grid(COUNCIL, "g8", "八号院网格", "八号院党群服务站", ("m2",), actor="k1")
    app.propose_issue(COUNCIL, 2502, "八号院化粪池清掏", PROCEDURE, actor=CHAIR)
    app.route_issue(COUNCIL, 2502, "g8", actor="k1")
    client.cookies.set(SESSION_COOKIE, app.issue_token(COUNCIL, "m2", actor="clerk"))
    page = client.get("/app/").text
    assert "task-grid_item" in page and "八号院网格" in page and "八号院化粪池清掏" in page
    assert 'href="/app/items/2502#summary"' in page
    client.cookies.set(SESSION_COOKIE, app.issue_token(COUNCIL, "m1", actor="clerk"))
    assert "task-grid_item" not in client.get("/app/").text


def test_the_board_filters_items_by_grid(client: TestClient, governance: Governance) -> None:
    """/board/{code}/issues?grid=… shows only the items at that grid, names the grid and its
    station (never its staff), and its JSON carries each item's grid."""
    app = governance
    app.add_grid(COUNCIL, "g7", "七号院网格", "七号院党群服务站", ("m1",), actor="k1")
    app.add_grid(COUNCIL, "g8", "八号院网格", "八号院党群服务站", ("m2",), actor="k1")
    app.propose_issue(COUNCIL, 2503, "七号院路灯", PROCEDURE, actor=CHAIR, grid="g7")
    app.propose_issue(COUNCIL, 2504, "八号院污水管", PROCEDURE, actor=CHAIR)
    app.route_issue(COUNCIL, 2504, "g8", actor="k1")
    page = client.get(f"/board/{COUNCIL}/issues?grid=g8").text
    assert "八号院污水管" in page and "七号院路灯" not in page
    assert "八号院党群服务站" in page and "成员2" not in page
    assert "七号院路灯" in client.get(f"/board/{COUNCIL}/issues?grid=g7").text
    everything = client.get(f"/board/{COUNCIL}/issues").text
    assert "七号院路灯" in everything and "八号院污水管" in everything
    rows = client.get(f"/board/{COUNCIL}/issues.json?grid=g8").json()
    assert [(r["number"], r["grid"]) for r in rows] == [(2504, "g8")]
    assert client.get(f"/board/{COUNCIL}/issues?grid=g0").status_code == 404
