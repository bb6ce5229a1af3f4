"""The roll in the app: the clerk enrolls, registers households and imports or exports CSV;
refusals are told in plain words and record nothing; only the clerk keeps the roll."""

from __future__ import annotations

import re

import pytest

from govflow.application import Governance
from govflow.application.roll_csv import list_households
from govflow.domain.council import Body
from tests.app.conftest import COUNCIL, SignIn

pytestmark = pytest.mark.asyncio(loop_scope="session")

MEMBERS = (
    "member_id,name,roles,bodies,chairs\n"
    "n1,新成员一,officer,党员大会,\n"
    "bad id,坏编号,,,\n"
    "n2,新成员二,,party_members_assembly;two_committees,two_committees\n"
    "n3,新成员三,,火星委员会,\n"
)


def version(app: Governance) -> int:
    return app.council(COUNCIL).version


async def test_the_roll_reads_in_chinese_with_the_clerk_s_forms(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """The clerk sees members with bodies in Chinese, households and every form."""
    _, sign_in = roll_people
    clerk = await sign_in("k1")
    page = await clerk.get("/app/roll")
    assert page.status_code == 200
    assert "成员1" in page.text and "党员大会" in page.text and "3-01" in page.text
    assert 'action="/app/roll/members"' in page.text and 'action="/app/roll/import"' in page.text
    assert "party_members_assembly<" not in page.text  # codes only as values


async def test_a_member_reads_the_roll_without_forms_or_households(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A member reads the roll; no form shows, households only as a count."""
    _, sign_in = roll_people
    member = await sign_in("m1")
    page = await member.get("/app/roll?lang=en")
    assert page.status_code == 200 and "Members" in page.text
    assert "<form" not in page.text and "3-01" not in page.text
    assert (await member.get("/app/roll/members.csv")).status_code == 403


async def test_a_member_cannot_enroll_by_a_forged_post(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A non-clerk posting the enroll form (with a valid CSRF token) is refused in plain
    words and nothing is recorded."""
    app, sign_in = roll_people
    member = await sign_in("m1")
    before = version(app)
    answer = await member.submit("/app/roll/members", member_id="z9", name="冒名")
    assert answer.status_code == 403 and "您没有权限进行此操作" in answer.text
    assert version(app) == before and "z9" not in app.council(COUNCIL).members
    imported = await member.submit(
        "/app/roll/import", kind="members", files={"file": ("m.csv", MEMBERS.encode())}
    )
    assert imported.status_code == 403 and version(app) == before


async def test_a_form_without_csrf_is_refused(roll_people: tuple[Governance, SignIn]) -> None:
    """The clerk's own session without the form's CSRF token: 403, nothing recorded."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    before = version(app)
    answer = await clerk.client.post("/app/roll/members", data={"member_id": "z8", "name": "x"})
    assert answer.status_code == 403 and version(app) == before


async def test_the_clerk_enrolls_changes_and_removes_a_member(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """Enroll (303 back with a confirmation), change bodies, remove: each by the door."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    enrolled = await clerk.client.post(
        "/app/roll/members",
        data={
            "csrf": clerk.csrf,
            "member_id": "z1",
            "name": "赵一",
            "roles": "officer",
            "bodies": ["two_committees", "party_members_assembly"],
        },
    )
    assert enrolled.status_code == 303 and enrolled.headers["location"].endswith("done=enrolled")
    member = app.council(COUNCIL).members["z1"]
    assert member.roles == ("officer",) and Body.TWO_COMMITTEES in member.bodies
    shown = await clerk.get(enrolled.headers["location"])
    assert "已登记新成员" in shown.text and "赵一" in shown.text
    changed = await clerk.submit("/app/roll/members/z1", chairs="two_committees")
    assert changed.status_code == 303
    assert app.council(COUNCIL).members["z1"].chairs == frozenset({Body.TWO_COMMITTEES})
    removed = await clerk.submit("/app/roll/members/z1/remove")
    assert removed.status_code == 303 and "z1" not in app.council(COUNCIL).members


async def test_a_refused_enrolment_tells_why_in_plain_words(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A bad member id: 422, the field and the reason in Chinese, the form kept filled in."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    before = version(app)
    answer = await clerk.submit("/app/roll/members", member_id="坏 编号", name="某人")
    assert answer.status_code == 422
    assert "成员编号：只能使用英文字母、数字" in answer.text and 'value="某人"' in answer.text
    again = await clerk.submit("/app/roll/members", member_id="m1", name="成员1")
    assert again.status_code == 409 and "该记录已存在" in again.text
    assert version(app) == before


async def test_a_household_with_a_bad_area_is_refused_in_plain_words(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """89.505 m² is not an area: 422 in Chinese, nothing registered; 89.50㎡ is."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    bad = await clerk.submit(
        "/app/roll/households", unit="9-01", exclusive_area="89.505", owner_id="m1"
    )
    assert bad.status_code == 422 and "面积格式不正确" in bad.text
    assert "9-01" not in app.council(COUNCIL).households
    good = await clerk.submit(
        "/app/roll/households", unit="9-01", exclusive_area="89.50㎡", owner_id="m1"
    )
    assert good.status_code == 303
    assert str(app.council(COUNCIL).households["9-01"].exclusive_area) == "89.50"


async def test_the_clerk_changes_the_threshold(roll_people: tuple[Governance, SignIn]) -> None:
    """¥20,000.00 is read exactly; 12.345 is refused in words."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    assert (await clerk.submit("/app/roll/threshold", threshold="12.345")).status_code == 422
    assert (await clerk.submit("/app/roll/threshold", threshold="¥20,000.00")).status_code == 303
    assert str(app.council(COUNCIL).spending_threshold) == "20000.00"


async def test_an_import_lists_both_bad_rows_and_imports_the_good_ones(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """Two bad rows are listed with line, value and why in Chinese; the two good rows are
    enrolled; importing the same file again doubles nothing."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    report = await clerk.submit(
        "/app/roll/import", kind="members", files={"file": ("m.csv", MEMBERS.encode())}
    )
    assert report.status_code == 422
    refused = re.search(r'<table id="refused-rows">(.*?)</table>', report.text, re.S)
    assert refused is not None
    rows = re.findall(r"<tr><td>(\d+)</td><td><code>(.*?)</code></td><td>(.*?)</td></tr>",
                      refused.group(1))  # fmt: skip
    assert rows == [
        ("3", "bad id", "成员编号：只能使用英文字母、数字和 . _ - : 符号"),
        ("5", "火星委员会", "所属组织：没有这个组织"),
    ]
    assert '<strong id="imported-count">2</strong>' in report.text
    members = app.council(COUNCIL).members
    assert members["n1"].roles == ("officer",) and members["n2"].chairs == {Body.TWO_COMMITTEES}
    before = version(app)
    again = await clerk.submit(
        "/app/roll/import", kind="members", files={"file": ("m.csv", MEMBERS.encode())}
    )
    assert '<strong id="unchanged-count">2</strong>' in again.text
    assert '<strong id="imported-count">0</strong>' in again.text and version(app) == before


async def test_export_then_import_is_a_round_trip(roll_people: tuple[Governance, SignIn]) -> None:
    """Members and households exported (UTF-8 with BOM, formula cells quoted) import back as
    unchanged; into a roll without them they import as they were."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    app.enroll_member(COUNCIL, "f9", "=1+1", actor="k1", roles=("officer",))
    members = await clerk.get("/app/roll/members.csv")
    households = await clerk.get("/app/roll/households.csv")
    assert members.status_code == 200 and members.headers["content-type"].startswith("text/csv")
    assert members.content.startswith(b"\xef\xbb\xbf") and "'=1+1" in members.text
    for kind, data in (("members", members.content), ("households", households.content)):
        report = await clerk.submit(
            "/app/roll/import", kind=kind, files={"file": (f"{kind}.csv", data)}
        )
        assert report.status_code == 200 and '<strong id="imported-count">0</strong>' in report.text
    app.remove_member(COUNCIL, "f9", actor="k1")
    report = await clerk.submit(
        "/app/roll/import", kind="members", files={"file": ("members.csv", members.content)}
    )
    assert report.status_code == 200 and '<strong id="imported-count">1</strong>' in report.text
    assert app.council(COUNCIL).members["f9"].name == "=1+1"
    assert len(list_households(app, COUNCIL)) == 6


async def test_a_file_that_is_not_a_roll_imports_nothing(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """Wrong columns: the page says the file could not be read, 422, nothing recorded."""
    app, sign_in = roll_people
    clerk = await sign_in("k1")
    before = version(app)
    answer = await clerk.submit(
        "/app/roll/import", kind="households", files={"file": ("x.csv", b"a,b\n1,2\n")}
    )
    assert answer.status_code == 422 and "无法读取此文件" in answer.text
    assert version(app) == before


async def test_a_refused_form_s_language_switch_leads_back_to_the_page(
    roll_people: tuple[Governance, SignIn],
) -> None:
    """A refused form is shown at the form's address; opening that address (the language
    switch does) leads back to its page with the same query."""
    _, sign_in = roll_people
    clerk = await sign_in("k1")
    refused = await clerk.submit("/app/roll/households", unit="", exclusive_area="1", owner_id="")
    assert refused.status_code == 422 and 'href="/app/roll/households?lang=en"' in refused.text
    switched = await clerk.get("/app/roll/households?lang=en")
    assert switched.status_code == 303 and switched.headers["location"] == "/app/roll?lang=en"
