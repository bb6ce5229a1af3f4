"""A scripted council history that records at least one event of every type.

``govflow schema export`` takes its golden payloads from here, with a fixed clock so the
payloads are the same on every machine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from govflow.application.annual_rating_specimens import annual_rating
from govflow.application.consultation import extend_consultation, record_signed_reply
from govflow.application.governance import Governance
from govflow.application.voting import Cast
from govflow.domain.access import HolderKind, Scope
from govflow.domain.ballot import Choice
from govflow.domain.base import DomainEvent
from govflow.domain.council import Body
from govflow.domain.delivery import Delivery, MessageKind
from govflow.domain.fund import FundKind, StatementSchedule
from govflow.domain.idempotency import RememberedResponse
from govflow.domain.ids import issue_id
from govflow.domain.invitation import invitation_uuid
from govflow.domain.issue import IssueOutcome, StageOutcome
from govflow.domain.notice import NoticeKind, NoticePeriod
from govflow.domain.paper import PaperEntry
from govflow.domain.procedure import Paper, Procedure, Proxies
from govflow.domain.rating import Satisfaction
from govflow.domain.rectification import AssigneeKind, SourceKind
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule
from govflow.domain.webhook import Subscriber

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

PARTY_RULE = VotingRule(
    quorum=Threshold(fraction=Fraction(1, 2), comparison=Comparison.AT_LEAST, base=Base.EXPECTED),
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.EXPECTED),
)


class SteppingClock:
    """A clock that moves one hour forward each time it is read."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(hours=1)
        return self.current


def specimen_procedure() -> Procedure:
    return Procedure.model_validate(
        {
            "name": "specimen",
            "version": 1,
            "title": "specimen",
            "sources": [{"title": "govflow specimens"}],
            "rules": {"party": PARTY_RULE.model_dump(mode="json")},
            "stages": [
                {"id": "propose", "kind": "propose", "title": "提议", "duration": {"days": 0}},
                {
                    "id": "deliberate",
                    "kind": "deliberate",
                    "title": "商议",
                    "body": "two_committees",
                    "duration": {"days": 7},
                },
                {
                    "id": "review",
                    "kind": "review",
                    "title": "审议",
                    "body": "party_members_assembly",
                    "rule": "party",
                    "vote_by": "meeting",
                    "duration": {"days": 7},
                },
                {
                    "id": "resolve",
                    "kind": "vote",
                    "title": "决议",
                    "body": "party_members_assembly",
                    "rule": "party",
                    "vote_by": "ballots",
                    "duration": {"days": 7},
                },
                {
                    "id": "publish",
                    "kind": "publish",
                    "title": "公示",
                    "duration": {"days": 7},
                    "notice": {
                        "kind": "resolution",
                        "display": {"days": 7},
                        "objection_window": {"days": 7},
                        "reply_within": {"days": 3},
                    },
                },
            ],
        }
    )


def play(app: Governance) -> None:
    c, clerk = "specimen", "clerk"
    app.register_council(c, "样例社区", actor=clerk)
    for i, name in enumerate(["王芳", "李强", "张伟", "刘洋"], start=1):
        app.enroll_member(
            c,
            f"m{i}",
            name,
            actor=clerk,
            bodies=(Body.PARTY_MEMBERS_ASSEMBLY, Body.TWO_COMMITTEES),
            chairs=(Body.TWO_COMMITTEES,) if i == 1 else (),
            roles=("officer",) if i <= 2 else (),
        )
    app.enroll_member(c, "m8", "陈静", actor=clerk)
    app.remove_member(c, "m8", actor=clerk)
    app.enroll_member(c, "m9", "赵敏", actor=clerk)
    app.change_member(c, "m9", actor=clerk, roles=("officer",), bodies=(Body.TWO_COMMITTEES,))
    app.register_household(c, "1-101", Decimal("88.50"), "m2", actor=clerk, co_owners=("m3",))
    app.change_spending_threshold(c, "10000.00", actor=clerk)

    procedure = specimen_procedure()
    app.propose_issue(c, 1, "更换化粪管", procedure, actor="m1")
    app.open_stage(c, 1, "propose", deadline=None, actor="m1")
    app.close_stage(c, 1, "propose", StageOutcome.COMPLETED, actor="m1")
    app.open_stage(c, 1, "deliberate", deadline=START + timedelta(days=7), actor="m1")
    first = app.give_opinion(c, 1, "同意更换", reply_to=None, actor="m2")
    app.give_opinion(c, 1, "费用怎么分摊？", reply_to=first, actor="m3")
    app.escalate_issue(
        c,
        1,
        "no decision by the deadline",
        to_body="party_members_assembly",
        new_deadline=START + timedelta(days=14),
        actor="system",
    )
    app.close_stage(c, 1, "deliberate", StageOutcome.TIMED_OUT, actor="system")
    app.skip_stage(c, 1, "review", "not over the threshold", actor="system")
    app.open_stage(c, 1, "resolve", deadline=START + timedelta(days=21), actor="system")
    app.open_voting(
        c,
        1,
        "resolve",
        body=Body.PARTY_MEMBERS_ASSEMBLY,
        rule=PARTY_RULE,
        closes_at=START + timedelta(days=21),
        actor="system",
    )
    for voter in ("m1", "m2", "m3"):
        app.cast_ballot(c, 1, voter, Choice.YES)
    app.close_voting(c, 1, "deadline", actor="system")
    app.close_stage(c, 1, "resolve", StageOutcome.COMPLETED, actor="system")
    app.open_stage(c, 1, "publish", deadline=START + timedelta(days=30), actor="system")
    period = NoticePeriod(display_days=7, objection_days=7, reply_days=3)
    notice = app.post_issue_notice(
        c, 1, "publish", NoticeKind.RESOLUTION, "决议公示", "同意更换化粪管", period, actor="m1"
    )
    number = app.file_objection(notice, "费用分摊不清", actor="m9")
    app.answer_objection(notice, number, "补充分摊明细", upheld=True, actor="m1")
    app.correct_notice(notice, "同意更换化粪管（附分摊明细）", actor="m1")
    app.reopen_issue(c, 1, "publish", "objection upheld", actor="m1")
    app.open_stage(c, 1, "publish", deadline=START + timedelta(days=40), actor="system")
    app.withdraw_notice(notice, "superseded", actor="m1")
    app.report_progress(
        c, 1, "publish", "施工队已进场", actor="m1", photos=(hashlib.sha256(b"photo").hexdigest(),)
    )
    app.open_evaluation(
        c,
        1,
        "publish",
        body=Body.PARTY_MEMBERS_ASSEMBLY,
        closes_at=START + timedelta(days=60),
        actor="system",
    )
    app.rate_issue(c, 1, "m2", Satisfaction.SATISFIED)
    app.rate_issue(c, 1, "m3", Satisfaction.BASICALLY_SATISFIED)
    app.close_evaluation(c, 1, actor="system")
    app.close_stage(c, 1, "publish", StageOutcome.COMPLETED, actor="system")
    app.close_issue(c, 1, IssueOutcome.ADOPTED, actor="system")

    app.propose_issue(c, 2, "撤回的议题", procedure, actor="m2")
    app.withdraw_issue(c, 2, "merged into issue 1", actor="m2")

    app.request_spending(
        c, 1, "12000.00", purpose="化粪管更换", payee="某工程队", budget_line="公益金", actor="m1"
    )
    app.schedule_meeting(
        c,
        1,
        Body.PARTY_MEMBERS_ASSEMBLY,
        "党员大会",
        "审议化粪管支出",
        scheduled_for=START + timedelta(days=20),
        notice_days_required=3,
        rule=PARTY_RULE,
        actor="m1",
        issue_id=issue_id(c, 3),
    )
    app.issue_meeting_notice(c, 1, actor="m1")
    app.excuse_member(c, 1, "m4", "外出务工", actor="m1")
    app.record_attendance(c, 1, ["m1", "m2", "m3"], actor="m1")
    motion = app.record_motion(c, 1, "同意支出 ¥12,000.00", yes=3, no=0, abstain=0, actor="m1")
    app.record_minutes(c, 1, "会议同意支出", actor="m1")
    app.attach_evidence(c, 1, "签到表.jpg", b"scanned sign-in sheet", actor="m1")
    app.review_spending(c, 1, meeting_number=1, motion_no=motion, actor="m1")
    app.approve_spending(c, 1, actor="m1")
    app.disclose_spending(
        c, 1, NoticeKind.RESOLUTION, "支出决议公开", "¥12,000.00", period, actor="m1"
    )
    payment = app.request_disbursement(c, 1, "6000.00", reference="付款-001", actor="m1")
    app.approve_disbursement(c, 1, payment, actor="m2")
    app.disclose_spending(
        c, 1, NoticeKind.PROGRESS, "实施过程公开", "已完成一半", period, actor="m1"
    )
    app.complete_spending(c, 1, "11800.00", actor="m1")
    app.disclose_spending(
        c, 1, NoticeKind.RESULT, "实施结果公开", "实际费用 ¥11,800.00", period, actor="m1"
    )
    app.settle_spending(c, 1, actor="m1")
    app.request_spending(
        c, 2, "500.00", purpose="打印", payee="文印店", budget_line="办公", actor="m1"
    )
    app.reject_spending(c, 2, "not needed", actor="m1")
    app.request_spending(
        c, 3, "30000.00", purpose="外墙", payee="某公司", budget_line="公益金", actor="m1"
    )
    app.propose_issue(
        c, 40, "外墙翻新", procedure, actor="m1", spending_id=app.get_spending(c, 3).id
    )

    app.propose_issue(c, 3, "会议决议", procedure, actor="m1")
    for stage in ("propose", "deliberate"):
        app.open_stage(c, 3, stage, deadline=None, actor="m1")
        app.close_stage(c, 3, stage, StageOutcome.COMPLETED, actor="m1")
    app.open_stage(c, 3, "review", deadline=None, actor="m1")
    app.record_meeting_resolution(
        c,
        3,
        "review",
        meeting_number=1,
        motion_no=motion,
        body=Body.PARTY_MEMBERS_ASSEMBLY,
        rule=PARTY_RULE,
        actor="m1",
    )
    token = app.issue_token(c, "m1", actor=clerk)
    app.issue_token(
        c, "grid-app", kind=HolderKind.INTEGRATION, scopes=(Scope.PROPOSE,), actor=clerk
    )
    app.revoke_token(token.split("_")[1], "lost phone", actor=clerk)
    invited = app.invite_members(c, ("m1", "m2"), actor=clerk)
    app.redeem_invitation(invited[0].link)
    app.revoke_invitation(c, invitation_uuid(invited[1].link.split("_")[1]), "lost", actor=clerk)
    # Older versions kept idempotent answers as events; their stores still hold some.
    app.save(
        RememberedResponse.remember(
            "caller-sha256",
            "retry-1",
            request_sha256="request-sha256",
            status=201,
            body='{"objection_no": 1}',
            at=app.now(),
            actor="m1",
        )
    )
    hook = app.subscribe_webhook(
        c,
        "https://grid.example/hooks",
        ("govflow.issue.closed",),
        actor=clerk,
        subscriber=Subscriber(clerk, "person", token="0123456789abcdef", enrolment=1),
    )
    app.unsubscribe_webhook(c, hook.subscription.id, "replaced", actor=clerk)
    # Telling people: a contact set (its addresses kept beside the log), a delivery that failed
    # and was posted on the board instead.
    app.set_contact(c, "m2", email="m2@example.org", gateway="", follows=True, actor="m2")
    app.set_contact(c, "m2", email="", gateway="13800000000", follows=False, actor=clerk)
    told = Delivery.address(
        c, "m2", MessageKind.VOTE_REMINDER, issue_id(c, 1), "resolve-1", item_number=1,
        deadline=START + timedelta(days=21), at=app.now(), actor="system",
    )  # fmt: skip
    told.attempted("email", "timeout", at=app.now(), actor="system")
    told.post_on_board("undeliverable", at=app.now(), actor="system")
    app.save(told)
    # The joint owners of 1-101 designate the other one to vote for the unit.
    app.change_household(c, "1-101", "m3", actor=clerk, co_owners=("m2",))
    proxies(app)
    written_consultation(app)
    paper_ballots(app)
    annual_rating(app)
    grid_routing(app)
    trust_fund(app)
    rectification(app)


def _at_vote(app: Governance, c: str, name: str, members: int, number: int, title: str) -> None:
    """A council of its own (``members`` on the party members' assembly) with item ``number``
    walked to an open named vote (the specimens after the first leave the first council as it
    is; proxies, paper ballots and signed replies need a named vote)."""
    app.register_council(c, name, actor="clerk")
    for i in range(1, members + 1):
        app.enroll_member(
            c, f"m{i}", f"成员{i}", actor="clerk", bodies=(Body.PARTY_MEMBERS_ASSEMBLY,)
        )
    app.propose_issue(c, number, title, specimen_procedure(), actor="m1")
    for stage in ("propose", "deliberate"):
        app.open_stage(c, number, stage, deadline=None, actor="m1")
        app.close_stage(c, number, stage, StageOutcome.COMPLETED, actor="m1")
    app.skip_stage(c, number, "review", "not over the threshold", actor="system")
    app.open_stage(c, number, "resolve", deadline=START + timedelta(days=90), actor="system")
    app.open_voting(
        c, number, "resolve", body=Body.PARTY_MEMBERS_ASSEMBLY, rule=PARTY_RULE,
        closes_at=START + timedelta(days=90), actor="system", secret=False,
    )  # fmt: skip


def proxies(app: Governance) -> None:
    """Proxies (委托), in a council of their own so that nothing of the first one moves: m3
    appoints m2 and revokes it; the clerk records m4's paper 委托书 appointing m1, who votes
    for m4."""
    c, clerk = "specimen-proxies", "clerk"
    _at_vote(app, c, "委托样例社区", 4, 4, "委托投票")
    form = hashlib.sha256(b"proxy form").hexdigest()
    allowed = Proxies(allowed=True, cap=1)
    app.appoint_proxy(c, 4, "resolve", "m3", "m2", form, proxies=allowed, actor="m3")
    app.revoke_proxy(c, 4, "resolve", "m3", reason="will vote in person", actor="m3")
    app.appoint_proxy(c, 4, "resolve", "m4", "m1", form, proxies=allowed, actor=clerk)
    app.cast_ballots([Cast(c, 4, "m1", Choice.YES), Cast(c, 4, "m1", Choice.NO, for_member="m4")])
    app.close_voting(c, 4, "deadline", actor="system")


def paper_ballots(app: Governance) -> None:
    """Paper ballots (纸质选票), in a council of their own: m1 votes online; the clerk enters a
    batch of m1's and m2's paper ballots, m3 confirms it as scrutineer (监票人); m1's paper
    ballot counts (the procedure's winner), the online one is refused as a double channel."""
    c, clerk = "specimen-paper", "clerk"
    _at_vote(app, c, "纸质选票样例社区", 3, 5, "纸质选票")
    app.cast_ballots([Cast(c, 5, "m1", Choice.NO)])
    entries = [
        PaperEntry(
            voter=voter, choice="yes", scan_sha256=hashlib.sha256(voter.encode()).hexdigest()
        )
        for voter in ("m1", "m2")
    ]
    paper = Paper(allowed=True, wins="paper")
    app.enter_paper_ballots(c, 5, "resolve", entries, paper=paper, actor=clerk)
    app.confirm_paper_ballots(c, 5, 1, actor="m3")
    app.close_voting(c, 5, "deadline", actor="system")


def written_consultation(app: Governance) -> None:
    """A written consultation (书面征求意见) extended by 30 of its 90 days, in a council of its
    own."""
    c, clerk = "specimen-consultation", "clerk"
    _at_vote(app, c, "书面征求意见样例社区", 1, 6, "书面征求意见")
    extend_consultation(app, c, 6, 30, cap_days=90, actor=clerk)
    signed = hashlib.sha256(b"signed consultation form").hexdigest()
    record_signed_reply(
        app, c, 6, "m1", Choice.YES, signed, entered_by="clerk", actor=clerk
    )  # fmt: skip


def grid_routing(app: Governance) -> None:
    """Grids (网格) and their service stations, in a council of their own: item 7 routed to
    one grid's station and re-routed to another's; a grid changed and one retired."""
    c, clerk = "specimen-grids", "clerk"
    app.register_council(c, "网格样例社区", actor=clerk)
    for i in range(1, 4):
        app.enroll_member(c, f"m{i}", f"网格员{i}", actor=clerk)
    app.add_grid(c, "g7", "七号院网格", "七号院党群服务站", ("m1",), actor=clerk)
    app.add_grid(c, "g8", "八号院网格", "八号院党群服务站", ("m2",), actor=clerk)
    app.change_grid(c, "g8", "八号院网格", "八号院党群服务站", ("m2", "m3"), actor=clerk)
    app.propose_issue(c, 7, "更换污水管", specimen_procedure(), actor="m1", grid="g7")
    app.route_issue(c, 7, "g7", actor=clerk)
    app.reroute_issue(c, 7, "g8", "管线属八号院", actor=clerk)
    app.add_grid(c, "g9", "九号院网格", "九号院党群服务站", (), actor=clerk)
    app.retire_grid(c, "g9", actor=clerk)


def trust_fund(app: Governance) -> None:
    """A trust-model fund (信托制物业), in a council of its own: m1 and m2 hold its keys; fees
    in, an expense initiated by m1 and approved by m2, another withdrawn, a wrong income
    reversed, and February's statement posted."""
    c, clerk = "specimen-funds", "clerk"
    app.register_council(c, "信托样例小区", actor=clerk)
    for i in range(1, 3):
        app.enroll_member(c, f"m{i}", f"业委会委员{i}", actor=clerk)
    app.open_fund(
        c, 1, "物业费信托账户", FundKind.PROPERTY_FEES, ("m1", "m2"),
        schedule=StatementSchedule.MONTHLY, actor=clerk,
    )  # fmt: skip
    receipt = hashlib.sha256(b"bank receipt").hexdigest()
    day = date(2026, 2, 27)

    def income(amount: str, by: str, enrolment: int, corrects: int | None = None) -> int:
        return app.record_fund_income(
            c, 1, amount, counterparty="业主缴费", category="物业费", on=day,
            evidence_sha256=receipt, reference="B-1", corrects=corrects, actor=by,
            enrolment=enrolment,
        )  # fmt: skip

    def expense(amount: str, by: str, enrolment: int, corrects: int | None = None) -> int:
        return app.initiate_fund_expense(
            c, 1, amount, counterparty="保洁公司", category="保洁", on=day,
            evidence_sha256=receipt, corrects=corrects, actor=by, enrolment=enrolment,
        )  # fmt: skip

    income("3000.00", "m1", 2)
    wrong = income("30.00", "m1", 2)
    app.approve_fund_expense(c, 1, expense("800.00", "m1", 2), actor="m2", enrolment=3)
    app.withdraw_fund_expense(c, 1, expense("50.00", "m2", 3), "重复申请", actor="m1", enrolment=2)
    reversal = expense("30.00", "m2", 3, corrects=wrong)
    app.approve_fund_expense(c, 1, reversal, actor="m1", enrolment=2)
    app.request_spending(
        c, 1, "500.00", purpose="路灯", payee="电器行", budget_line="公益", actor="m1"
    )
    app.approve_spending(c, 1, actor="m1")
    covered = app.initiate_fund_expense(
        c, 1, "500.00", counterparty="电器行", category="路灯", on=day,
        evidence_sha256=receipt, spending_number=1, actor="m1", enrolment=2,
    )  # fmt: skip
    app.approve_fund_expense(c, 1, covered, actor="m2", enrolment=3)
    app.post_fund_statement(c, 1, "2026-02", actor="m1")


def rectification(app: Governance) -> None:
    """A rectification order (限期整改) from an inspection, in a council of its own: reminded,
    missed and escalated, reported done, sent back, done again and verified."""
    c, clerk = "specimen-rectification", "clerk"
    app.register_council(c, "限期整改样例社区", actor=clerk)
    app.enroll_member(c, "s1", "监委会主任", actor=clerk, chairs=(Body.SUPERVISORY_COMMITTEE,))
    app.enroll_member(c, "c1", "两委主任", actor=clerk, chairs=(Body.TWO_COMMITTEES,))
    app.enroll_member(c, "w1", "物业经理", actor=clerk)
    photo = hashlib.sha256(b"inspection photo").hexdigest()
    app.record_inspection(c, 1, "消防通道堆放杂物", photo, actor="s1")
    app.order_rectification(
        c, 1, what="清理消防通道", why="检查发现消防通道堆放杂物",
        assignee_kind=AssigneeKind.MEMBER, assignee="w1", ordered_by=Body.SUPERVISORY_COMMITTEE,
        due=(START + timedelta(days=40)).date(), source_kind=SourceKind.INSPECTION,
        source={"inspection_number": 1}, actor="s1",
    )  # fmt: skip
    app.remind_order(c, 1, 1)
    with app.acting_at(START + timedelta(days=45)):
        app.escalate_order(c, 1, step="specimen-order:1")
        app.complete_order(c, 1, "已清理", (photo,), actor="w1")
        app.verify_order(
            c, 1, accepted=False, text="仍有杂物", due=(START + timedelta(days=50)).date(),
            actor="s1",
        )  # fmt: skip
        app.complete_order(c, 1, "已全部清理", (photo,), actor="w1")
        app.verify_order(c, 1, accepted=True, text="已核实", due=None, actor="s1")


def specimen_events(app: Governance) -> Iterator[DomainEvent]:
    """Every event the scripted history recorded, in log order."""
    for notification in app.recorder.select_notifications(1, 100_000):
        event = app.mapper.to_domain_event(notification)
        assert isinstance(event, DomainEvent)
        yield event
