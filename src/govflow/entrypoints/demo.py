"""``govflow demo``: a sample council and the field stories of the domain guide, played through
the real stack (the running worker and Temporal) in fast time, left on the board.

1. Every expense over ¥10,000 goes to the party members' assembly, with three disclosures:
   a ¥12,000 sewage pipe for one courtyard, reviewed, paid by two officers, reported weekly,
   its result disclosed and the spending settled.
2. The five-step consultation (提议 合议 群议 决议 评议): a pocket park, left open at 群议 so a
   newcomer can act on it from the command line.
3. A lift retrofit decided by the owners, weighted by exclusive area and headcount.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.domain.ballot import Choice
from govflow.domain.council import Body
from govflow.domain.errors import NotFoundError
from govflow.orchestration import messages as m
from govflow.orchestration.client import IssueClient

T = TypeVar("T")
CODE = "sunshine"
CHAIR = "c1"
ALL_BODIES = tuple(Body)
COURTYARD = 18  # households of the courtyard (and owners of the estate)


@dataclass
class Demo:
    app: Governance
    issues: IssueClient
    procedures: ProcedureLibrary
    code: str = CODE

    async def run(self, step: Callable[[str], None]) -> list[str]:
        """Play every story; ``step`` is told as each one starts. Returns the board paths."""
        await asyncio.to_thread(self.enroll)
        step("council enrolled: members, bodies, 18 households")
        step("story 1: ¥12,000 sewage pipe (review, two officers, three disclosures)")
        await self.major_spending()
        step("story 2: five-step consultation, left open at 群议 (public deliberation)")
        await self.five_steps()
        step("story 3: lift retrofit decided by owners (area and headcount)")
        await self.lift()
        return [f"/board/{self.code}/", f"/board/{self.code}/spending"]

    # -- helpers ------------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    async def until(
        self, number: int, predicate: Callable[[m.Status], bool], timeout: float = 120
    ) -> m.Status:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last: m.Status | None = None
        while loop.time() < deadline:
            try:
                last = await self.issues.status(self.code, number)
                if predicate(last):
                    return last
            except NotFoundError:
                pass
            await asyncio.sleep(0.2)
        raise TimeoutError(f"item {number} did not get there; last status: {last}")

    async def stage(self, number: int, stage: str) -> m.Status:
        return await self.until(number, lambda s: s.stage == stage)

    async def meeting(self, number: int, body: Body, rule_of: str, rule: str, yes: int) -> int:
        app, code = self.app, self.code
        voting_rule = self.procedures.get(rule_of).rules[rule]
        present = [CHAIR] + [f"m{i}" for i in range(1, 7)]

        def hold() -> int:
            app.schedule_meeting(
                code, number, body, "党员大会", "审议", scheduled_for=app.now(),
                notice_days_required=0, rule=voting_rule, actor=CHAIR,
            )  # fmt: skip
            app.issue_meeting_notice(code, number, actor=CHAIR)
            app.record_attendance(code, number, present, actor=CHAIR)
            motion = app.record_motion(
                code, number, "同意", yes=yes, no=len(present) - yes, abstain=0, actor=CHAIR
            )
            app.record_minutes(code, number, "与会党员一致认为方案可行。", actor=CHAIR)
            return motion

        return await self._call(hold)

    # -- the council --------------------------------------------------------------------------

    def enroll(self) -> None:
        app, code = self.app, self.code
        app.register_council(code, "阳光社区", actor="clerk")
        app.enroll_member(code, CHAIR, "王书记", actor="clerk", bodies=ALL_BODIES,
                          chairs=ALL_BODIES)  # fmt: skip
        app.enroll_member(code, "k1", "李文书", actor="clerk", roles=("clerk",))
        app.enroll_member(code, "a1", "赵监委", actor="clerk", roles=("auditor",))
        app.enroll_member(code, "f1", "陈出纳", actor="clerk", roles=("officer",))
        app.enroll_member(code, "f2", "周会计", actor="clerk", roles=("officer",))
        for i in range(1, 9):
            app.enroll_member(code, f"m{i}", f"委员{i}", actor="clerk", bodies=ALL_BODIES)
        for i in range(1, COURTYARD + 1):
            owner = f"o{i}"
            app.enroll_member(code, owner, f"业主{i}", actor="clerk")
            app.register_household(
                code,
                f"7-{i:02d}",
                Decimal("60.00") + Decimal(i * 3),
                owner,
                actor="clerk",
                bodies=(Body.OWNERS_ASSEMBLY, Body.AFFECTED_HOUSEHOLDS),
            )

    # -- the stories --------------------------------------------------------------------------

    async def major_spending(self) -> None:
        app, code, number = self.app, self.code, 1
        name = "major-spending"
        procedure = self.procedures.get(name)

        def propose() -> None:
            app.request_spending(
                code, 1, "12000.00", purpose="七号院化粪管更换", payee="市政工程队",
                budget_line="公益事业专项", actor=CHAIR,
            )  # fmt: skip
            app.propose_issue(
                code, number, "七号院化粪管更换 ¥12,000", procedure, actor=CHAIR,
                spending_id=app.get_spending(code, 1).id, grid="七号院网格",
            )  # fmt: skip

        await self._call(propose)
        await self.issues.start(code, number, procedure, spending_number=1)
        await self.stage(number, "deliberate")
        await self.issues.close_stage(code, number, CHAIR)
        await self.stage(number, "review")
        motion = await self.meeting(1, Body.PARTY_MEMBERS_ASSEMBLY, name,
                                    "party_members_assembly", yes=6)  # fmt: skip
        await self.issues.record_resolution(code, number, CHAIR, meeting_number=1,
                                            motion_no=motion)  # fmt: skip
        await self.until(number, lambda s: s.stage == "publish_resolution" and bool(s.notice_id))
        await self._call(
            lambda: app.disburse(code, 1, "6000.00", approved_by=("f1", "f2"),
                                 reference="付款凭证-001", actor="f1")
        )  # fmt: skip
        await self.issues.advance(code, number, 8)
        await self.stage(number, "implement")
        await self.issues.report_progress(code, number, CHAIR, "旧管道已开挖，新管材进场。")
        await self.issues.advance(code, number, 15)  # two weekly progress notices
        await self._call(
            lambda: app.disburse(code, 1, "5800.00", approved_by=("f2", "f1"),
                                 reference="付款凭证-002", actor="f2")
        )  # fmt: skip
        await self.issues.complete(code, number, CHAIR, Decimal("11800.00"))
        await self.until(number, lambda s: s.stage == "publish_result" and bool(s.notice_id))
        await self.issues.advance(code, number, 8)
        await self._until_closed(number)

    async def five_steps(self) -> None:
        app, code, number = self.app, self.code, 2
        procedure = self.procedures.get("five-step-consultation")
        await self._call(
            lambda: app.propose_issue(code, number, "口袋公园改造", procedure, actor=CHAIR)
        )
        await self.issues.start(code, number, procedure)
        await self.stage(number, "deliberate")
        await self.issues.close_stage(code, number, CHAIR)
        await self.stage(number, "public_deliberation")

    async def lift(self) -> None:
        app, code, number = self.app, self.code, 3
        procedure = self.procedures.get("owners-assembly-art278")
        await self._call(
            lambda: app.propose_issue(code, number, "七号楼加装电梯", procedure, actor=CHAIR)
        )
        await self.issues.start(code, number, procedure)
        await self.until(number, lambda s: s.stage == "announce" and bool(s.notice_id))
        await self.issues.advance(code, number, 16)
        await self.until(number, lambda s: s.ballot_key is not None)
        for i in range(1, COURTYARD + 1):
            choice = Choice.NO if i in (4, 9) else Choice.ABSTAIN if i == 13 else Choice.YES
            await self.issues.cast_ballot(code, number, f"o{i}", choice)
        await self.until(number, lambda s: s.stage == "publish_resolution" and bool(s.notice_id))
        await self.issues.advance(code, number, 8)
        await self._until_closed(number)

    async def _until_closed(self, number: int, timeout: float = 120) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            issue = await self._call(lambda: self.app.issue(self.code, number))
            if issue.outcome is not None:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"item {number} did not close")


async def play(
    app: Governance,
    issues: IssueClient,
    procedures: ProcedureLibrary,
    step: Callable[[str], None],
    code: str = CODE,
) -> list[str]:
    return await Demo(app, issues, procedures, code).run(step)


Runner = Callable[[], Awaitable[list[str]]]
