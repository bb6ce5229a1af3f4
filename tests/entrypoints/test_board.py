"""The public board: pages, feeds, languages and what it must never show, on a real SQLite store."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.application.specimens import SteppingClock, play, specimen_procedure
from govflow.domain.ids import issue_id
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.entrypoints import board
from govflow.entrypoints.api import create_api

NOW = datetime(2026, 3, 5, 4, 0, tzinfo=UTC)  # after the specimen history, notices on display
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def governance(tmp_path: Path) -> Iterator[Governance]:
    app = Governance(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "events.db"),
        },
        clock=SteppingClock(),
    )
    play(app)
    app.clock = lambda: NOW
    yield app
    app.close()


@pytest.fixture
def client(governance: Governance) -> Iterator[TestClient]:
    with TestClient(create_api(governance)) as test_client:
        yield test_client


def links(html: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(r'href="(/board[^"#]*)', html)]


def test_every_link_from_the_front_page_leads_to_a_page(client: TestClient) -> None:
    """Crawl the board from ``/``: every board link answers 200, in both languages."""
    assert client.get("/", follow_redirects=False).headers["location"] == "/board/"
    seen: set[str] = set()
    todo = ["/board/", "/board/?lang=en"]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, path
        if "html" in response.headers["content-type"]:
            todo.extend(link for link in links(response.text) if link not in seen)
    assert any(p.startswith("/board/specimen/issues/1") for p in seen)
    assert any(p.startswith("/board/notices/") for p in seen)
    assert "/board/specimen/spending" in seen and "/board/audit" in seen
    assert len(seen) > 20


def test_front_page_lists_councils_and_current_notices_only(client: TestClient) -> None:
    page = client.get("/board/").text
    assert 'lang="zh-CN"' in page and "公示栏" in page and "样例社区" in page
    assert "支出决议公开" in page  # the spending's resolution notice is on display
    assert "决议公示" not in page.replace("支出决议公开", "")  # the withdrawn one is not
    english = client.get("/board/?lang=en").text
    assert 'lang="en"' in english and "On display now" in english
    assert client.get("/board/?lang=fr").status_code == 422


def test_issue_page_draws_the_stages_and_shows_the_tally(client: TestClient) -> None:
    page = client.get("/board/specimen/issues/1").text
    chart = page[page.index('<svg class="chart"') : page.index("</svg>")]
    assert chart.count('class="done"') == 4 and chart.count('class="skipped"') == 1
    assert chart.count('stroke="#b3261e"') >= 3  # one deadline mark per timed stage
    assert "赞成 3 · 反对 0 · 弃权 0" in page  # voting closed: the tally is public
    assert "办结" in page and "结果: 通过" in page
    # never who voted or acted, nor member names
    for private in ("clerk", "王芳", "m1", "voter", "roll:"):
        assert private not in page.split("<main>")[1], private


def test_an_open_vote_shows_no_tally(client: TestClient, governance: Governance) -> None:
    page = client.get("/board/specimen/issues/3?lang=en").text
    assert "Tallies" in page and "Yes " not in page


def test_notice_page_shows_the_window_replies_and_how_to_object(
    client: TestClient, governance: Governance
) -> None:
    code = "specimen"
    notice = governance.post_issue_notice(
        code,
        3,
        "review",
        NoticeKind.RESOLUTION,
        "审议意见公示",
        "第一行\n<script>alert(1)</script>",
        NoticePeriod(display_days=7, objection_days=5),
        actor="m1",
    )
    page = client.get(f"/board/notices/{notice}").text
    assert "审议意见公示" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    assert "如何提出异议" in page and f"/v1/councils/{code}/issues/3/objections" in page
    withdrawn = next(n for n in governance.list_notices(code) if n.withdrawn)
    old = client.get(f"/board/notices/{withdrawn.id}?lang=en").text
    assert "withdrawn" in old and "Replies #1" in old and "How to object" not in old
    assert client.get("/board/notices/00000000-0000-0000-0000-000000000000").status_code == 404


def test_spending_ledger_links_its_three_disclosures(client: TestClient) -> None:
    page = client.get("/board/specimen/spending").text
    assert page.index('id="s2"') < page.index('id="s1"')  # newest first
    row = page[page.index('id="s1"') :]
    assert "¥12000.00" in row and "¥11800.00" in row and "已结算" in row
    disclosures = re.findall(r'href="(/board/notices/[^"]+)"', row)
    assert len(disclosures) == 3
    for link in disclosures:
        assert client.get(link).status_code == 200
    assert "未通过" in page[page.index('id="s2"') : page.index('id="s1"')]


def test_feeds_are_valid_atom_and_json(client: TestClient) -> None:
    for name in ("notices", "issues", "spending"):
        response = client.get(f"/board/specimen/{name}.atom")
        assert response.headers["content-type"].startswith("application/atom+xml")
        feed = ET.fromstring(response.content)
        entries = feed.findall(f"{ATOM}entry")
        assert entries, name
        for entry in entries:
            for field in ("title", "id", "updated", "link"):
                assert entry.find(f"{ATOM}{field}") is not None
            href = entry.find(f"{ATOM}link").get("href")  # type: ignore[union-attr]
            assert client.get(href.removeprefix("http://testserver")).status_code == 200
    issues = client.get("/board/specimen/issues.json").json()
    assert [i["number"] for i in issues] == [40, 3, 2, 1]
    assert issues[3]["outcome"] == "adopted" and issues[2]["outcome"] == "withdrawn"
    assert client.get("/board/specimen/notices.json").json()  # on display now
    everything = client.get("/board/specimen/notices.json?all=true").json()
    assert any(n["withdrawn"] for n in everything)
    assert client.get("/board/nowhere/issues.json").status_code == 404


def test_lists_page_and_keep_up_with_new_events(
    client: TestClient, governance: Governance, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "PAGE_SIZE", 2)
    first = client.get("/board/specimen/issues").text
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/board/specimen/issues?page=2").text
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "/board/specimen/issues/1" in second and "/board/specimen/issues/3" not in second
    assert client.get("/board/specimen/issues?page=0").status_code == 422
    governance.propose_issue("specimen", 4, "新议题", specimen_procedure(), actor="m1")
    rows = {r["number"]: r for r in client.get("/board/specimen/issues.json").json()}
    assert rows[4]["title"] == "新议题"  # caught up with the log
    assert rows[4]["id"] == str(issue_id("specimen", 4))


def test_audit_page_lists_published_checkpoints(client: TestClient, governance: Governance) -> None:
    assert "尚未发布检查点" in client.get("/board/audit").text
    checkpoint = governance.record_checkpoint()
    page = client.get("/board/audit").text
    assert checkpoint.digest in page and "govflow audit verify --expect" in page


def test_a_demo_server_marks_simulated_time_on_every_page(governance: Governance) -> None:
    """On a server started with --demo (clocks can be fast-forwarded) every page says its dates
    are simulated; a real server's pages never do."""
    with TestClient(create_api(governance, demo=True)) as demo:
        for path in ("/board/", "/board/specimen/", "/board/audit?lang=en"):
            page = demo.get(path)
            assert page.status_code == 200 and 'id="simulated"' in page.text, path
        assert "模拟时间" in demo.get("/board/").text
    with TestClient(create_api(governance)) as real:
        assert 'id="simulated"' not in real.get("/board/").text


class VisibleText(HTMLParser):
    """The text a reader sees (tooltips included), never tags, attributes or the style sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def crawl(client: TestClient, start: str) -> dict[str, str]:
    """Every HTML board page reachable from ``start`` in its language, by path."""
    english = "lang=en" in start
    pages: dict[str, str] = {}
    todo = [start]
    while todo:
        path = todo.pop()
        if path in pages or ("lang=en" in path) != english or "/audit" in path:
            continue
        response = client.get(path)
        assert response.status_code == 200, path
        if "html" in response.headers["content-type"]:
            pages[path] = response.text
            todo.extend(links(response.text))
    return pages


# Codes and Python values a resident must never read on a Chinese page.
RAW_CODES = (
    "adopted", "rejected", "withdrawn", "failed", "completed", "timed_out", "all_voted",
    "deadline", "satisfied", "settled", "requested", "True", "False", "None", "@1", "propose",
    "deliberate", "review", "resolve", "publish", "passed:", "quorum", "days)", "#1",
    "more than", "members_of_record", "expected", "(specimen)",
)  # fmt: skip


def test_chinese_pages_show_no_codes_and_english_pages_no_python_values(
    client: TestClient,
) -> None:
    pages = crawl(client, "/board/")
    assert len(pages) > 10 and "/board/specimen/issues/1" in pages
    for path, html in pages.items():
        text = visible(html)
        found = [code for code in RAW_CODES if code in text]
        assert not found, (path, found)
    issue = visible(pages["/board/specimen/issues/1"])
    assert "结果: 通过" in issue and "原因: 表决期限届满" in issue and "是否通过: 是" in issue
    assert "表决 · 第1轮" in issue and "满意 1" in issue
    for path, html in crawl(client, "/board/?lang=en").items():
        text = visible(html)
        found = [c for c in ("True", "False", "None", "@1", "all_voted", "timed_out") if c in text]
        assert not found, (path, found)
    assert "Outcome: adopted" in visible(client.get("/board/specimen/issues/1?lang=en").text)


def test_every_notice_names_its_council_and_item_and_what_was_decided(
    client: TestClient, governance: Governance
) -> None:
    listing = visible(client.get("/board/specimen/notices?all=1").text)
    subjects = {"issue": "样例社区 · 议题 1 更换化粪管", "spending": "样例社区 · 支出 1 化粪管更换"}
    for row in governance.list_notices("specimen"):
        subject = subjects[row.subject]
        text = governance.get_notice(row.id).text
        page = visible(client.get(f"/board/notices/{row.id}").text)
        assert subject in page and text in page and "公示内容" in page, row.title
        assert subject in listing and text[:140] in listing, row.title
    english = visible(client.get("/board/specimen/notices?all=1&lang=en").text)
    assert "Item 1 更换化粪管" in english and "Spending 1 化粪管更换" in english


def test_stages_and_procedure_are_named_by_the_procedure_library(
    governance: Governance, tmp_path: Path
) -> None:
    """With the procedure in the app's library the board uses its titles; without it, kinds."""
    data = specimen_procedure().model_dump(mode="json")
    data["title"] = "样例议事规则"
    (tmp_path / "specimen.v1.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    library = ProcedureLibrary(tmp_path)
    with TestClient(create_api(governance, procedures=library)) as client:
        page = client.get("/board/specimen/issues/1").text
        assert "议事规则: 样例议事规则" in visible(page)
        assert "<strong>决议</strong>" in page  # the resolve stage's own title
        listing = visible(client.get("/board/specimen/issues").text)
        assert "审议" in listing and "review" not in listing
    with TestClient(create_api(governance)) as client:
        page = client.get("/board/specimen/issues/1").text
        assert "提议 → 商议 → 审议 → 表决 → 公示" in visible(page)  # no library: by kind


def test_the_stage_chart_becomes_a_list_on_a_phone(client: TestClient) -> None:
    page = client.get("/board/specimen/issues/1").text
    stages = page[page.index('<ol class="stagelist"') : page.index("</ol>")]
    assert stages.count("<li") == 5 and "<strong>审议</strong>" in stages and "已跳过" in stages
    phone = page[page.index("@media (max-width: 40rem)") :]
    assert ".wide { display:none; }" in phone and "ol.stagelist { display:block; }" in phone
    assert "ol.stagelist li { margin:.4rem 0; font-size:1rem; }" in page  # 16px, not 6px


def test_an_owners_tally_shows_area_and_headcount_against_both_thresholds() -> None:
    rule = {
        "quorum": {"fraction": "2/3", "comparison": "at_least", "base": "members_of_record"},
        "passes": {"fraction": "1/2", "comparison": "more_than", "base": "participating"},
        "area_weighted": True,
    }
    opened = {
        "rule": rule,
        "roll": {"a": "100", "b": "100", "c": "50", "d": "50"},
        "members_of_record": 4,
        "expected": 4,
    }
    tally = {
        "yes": 2,
        "no": 1,
        "abstain": 0,
        "participating": 3,
        "yes_area": "150",
        "participating_area": "250",
    }
    lines = board.tally_lines(tally, opened, "zh")
    shown = [(x["label"], x["share"], x["amounts"], x["threshold"], x["holds"]) for x in lines]
    assert shown == [
        ("参与人数占比", "75.00%", "3 / 4 人", "不少于全体成员的三分之二", True),
        ("参与面积占比", "83.33%", "250.00 ㎡ / 300.00 ㎡", "不少于全体成员的三分之二", True),
        ("赞成人数占比", "66.67%", "2 / 3 人", "超过参与表决的二分之一", True),
        ("赞成面积占比", "60.00%", "150.00 ㎡ / 250.00 ㎡", "超过参与表决的二分之一", True),
    ]
    english = board.tally_lines(tally, opened, "en")
    assert english[3]["label"] == "Yes by area"
    assert english[3]["threshold"] == "more than 1/2 of those taking part"
    assert board.tally_lines(tally, None, "zh") == []
