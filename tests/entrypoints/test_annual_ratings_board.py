"""The board's annual ratings: a council's years with their grades, and a year's criteria,
scores with evidence, result, objection and revision, in both languages, on a real SQLite
store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application import commands as c
from govflow.application.specimens import SteppingClock
from govflow.entrypoints.api import create_api
from tests.application.annual_rating_story import (
    ALL_88,
    RATED,
    YEAR,
    run,
    score_all,
    set_up_rated_council,
)


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "e.db")},
        clock=SteppingClock(),
    )
    yield app
    app.close()


@pytest.fixture
def rated(governance: Governance) -> UUID:
    """2026 rated 较好 (88), an objection upheld, the finances scored again: 好 (90)."""
    door = set_up_rated_council(governance)
    run(door, "s1", c.OpenAnnualRating(council=RATED, year=YEAR))
    score_all(door, ALL_88)
    notice_id: UUID = run(door, "s1", c.PublishAnnualRating(council=RATED, year=YEAR))
    run(door, "m1", c.ObjectToAnnualRating(council=RATED, year=YEAR, text="漏查财务台账"))
    run(door, "s2", c.AnswerAnnualRatingObjection(
        council=RATED, year=YEAR, objection_no=1, reply="经核实第四季度台账，异议成立",
        upheld=True,
    ))  # fmt: skip
    score_all(door, {"finances": "98"})
    run(door, "s1", c.ReviseAnnualRating(council=RATED, year=YEAR))
    return notice_id


@pytest.fixture
def client(governance: Governance) -> Iterator[TestClient]:
    with TestClient(create_api(governance)) as test_client:
        yield test_client


def test_the_board_shows_a_year_with_its_history(client: TestClient, rated: UUID) -> None:
    """The year's page shows the revised grade, the first one it replaced, the objection's
    answer, every score's evidence hash and the raters' names, but not who objected."""
    page = client.get(f"/board/{RATED}/ratings/{YEAR}")
    assert page.status_code == 200
    html = page.text
    assert "<strong>好</strong>" in html and "90.00" in html
    assert "修正定级 · 好 (90.00) · 原定级 较好 (88.00) · 依据异议 1" in html
    assert "定级结果 · 较好 (88.00)" in html  # the first result stays in the record
    assert "异议 1 · 已提出" in html and "异议 1 · 异议成立" in html
    assert "经核实第四季度台账，异议成立" in html
    assert hashlib.sha256(b"finances/ledger").hexdigest() in html
    assert "重新评分 · 财务管理与公开 98" in html
    assert "街道评定员甲" in html and "街道评定员乙" in html
    assert "居民代表" not in html  # the objector is not named
    assert f"/board/notices/{rated}" in html
    english = client.get(f"/board/{RATED}/ratings/{YEAR}?lang=en").text
    assert "revised result · good (90.00) · was fairly good (88.00)" in english


def test_the_list_and_the_council_page_lead_to_the_year(client: TestClient, rated: UUID) -> None:
    """The council's page links to its ratings; the list shows each year's grade and
    revisions, as HTML and JSON; the result's notice shows the revised text."""
    council = client.get(f"/board/{RATED}/").text
    assert f'href="/board/{RATED}/ratings"' in council
    listed = client.get(f"/board/{RATED}/ratings")
    assert listed.status_code == 200 and f"/board/{RATED}/ratings/{YEAR}" in listed.text
    (row,) = client.get(f"/board/{RATED}/ratings.json").json()
    assert (row["year"], row["grade"], row["score"], row["revisions"]) == (YEAR, "good", "90.00", 1)
    notice = client.get(f"/board/notices/{rated}").text
    assert "好" in notice and "原定级 较好" in notice
    assert f'href="/board/{RATED}/ratings/{YEAR}"' in notice  # back to the year
    # the revision restarted the objection window: how to object is said again
    assert f"POST /v1/councils/{RATED}/ratings/{YEAR}/objections" in notice
    assert f"govflow rating object {RATED} {YEAR}" in notice


def test_years_not_rated(client: TestClient, governance: Governance) -> None:
    """A year never rated is not found; a year out of range is refused; a council without
    ratings says so."""
    set_up_rated_council(governance)
    assert client.get(f"/board/{RATED}/ratings/2030").status_code == 404
    assert client.get(f"/board/{RATED}/ratings/1900").status_code == 422
    assert "尚无年度分类定级" in client.get(f"/board/{RATED}/ratings").text
    assert client.get("/board/nowhere/ratings").status_code == 404


def test_a_rater_who_left_is_not_named_after_whoever_took_their_id(
    client: TestClient, governance: Governance, rated: UUID
) -> None:
    """A rater who left and a new person enrolled under the same member id: the year's page
    names the rater by their id, never by the newcomer's name (who scored nothing)."""
    governance.remove_member(RATED, "s1", actor="clerk")
    governance.enroll_member(RATED, "s1", "后来的人", actor="clerk")
    html = client.get(f"/board/{RATED}/ratings/{YEAR}").text
    assert "后来的人" not in html
    assert "街道评定员乙" in html and "街道评定员甲" not in html
