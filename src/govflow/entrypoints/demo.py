"""``govflow demo``: a sample council and the field stories of the domain guide, played through
the running API (`govflow up --demo`) in fast time, each person with their own token, and left
on the board.

The operator registers the council and its clerk on this machine's store (as `govflow council
bootstrap` does); the clerk enrolls everyone else and issues their tokens through the API; then:

1. Every expense over ¥10,000 goes to the party members' assembly, with three disclosures:
   a ¥12,000 sewage pipe for one courtyard, reviewed, each payment requested by one officer and
   approved by the other, reported weekly, its result disclosed and the spending settled.
2. The five-step consultation (提议 合议 群议 决议 评议): a pocket park, left open at 群议 so a
   newcomer can act on it from the command line as its chair.
3. A lift retrofit decided by the owners, weighted by exclusive area and headcount.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from govflow.domain.council import Body
from govflow.entrypoints.cli_council import bootstrap_council, sign_in_links
from govflow.entrypoints.cli_http import Api, council_path
from govflow.entrypoints.console import EXIT_RULE, EXIT_SERVER, fail, offline

CODE = "sunshine"
CLERK, CHAIR = "k1", "c1"
ALL_BODIES = [b.value for b in Body]
COURTYARD = 18  # households of the courtyard (and owners of the estate)
PEOPLE: list[tuple[str, str, dict[str, Any]]] = [
    (CHAIR, "王书记", {"bodies": ALL_BODIES, "chairs": ALL_BODIES}),
    ("a1", "赵监委", {"roles": ["auditor"]}),
    ("f1", "陈出纳", {"roles": ["officer"]}),
    ("f2", "周会计", {"roles": ["officer"]}),
    *((f"m{i}", f"委员{i}", {"bodies": ALL_BODIES}) for i in range(1, 9)),
    *((f"o{i}", f"业主{i}", {}) for i in range(1, COURTYARD + 1)),
]

# Who gets a sign-in link to the members' app at the end: the chair (item 2 waits for them),
# a member, an owner (rates results) and the clerk (invites everyone else from the app).
SIGN_IN = (CHAIR, "m1", "o1", CLERK)

Status = dict[str, Any]


@dataclass
class Demo:
    server: str
    code: str = CODE
    tokens: dict[str, str] = field(default_factory=dict)
    clients: dict[str, Api] = field(default_factory=dict)

    def run(self, step: Callable[[str], None]) -> dict[str, Any]:
        """Play every story; ``step`` is told as each one starts."""
        self.check_server()
        try:
            self.enroll()
            step("council enrolled: members, bodies, 18 households, a token each")
            step("story 1: ¥12,000 sewage pipe (review, two officers, three disclosures)")
            self.major_spending()
            step("story 2: five-step consultation, left open at 群议 (public deliberation)")
            self.five_steps()
            step("story 3: lift retrofit decided by owners (area and headcount)")
            self.lift()
        finally:
            for client in self.clients.values():
                client.__exit__(None, None, None)
        board = f"{self.server}/board/{self.code}"
        return {
            "council": self.code,
            "board": [f"{board}/", f"{board}/spending"],
            "tokens": self.tokens,
            "sign_in": offline(lambda app: sign_in_links(app, self.code, SIGN_IN)),
        }

    # -- helpers ------------------------------------------------------------------------------

    def as_(self, who: str) -> Api:
        """The API as ``who``, with their own token."""
        if who not in self.clients:
            self.clients[who] = Api(self.server, self.tokens[who])
        return self.clients[who]

    def path(self, *parts: object) -> str:
        return council_path(self.code, *parts)

    def check_server(self) -> None:
        """The server answers, and (if it says) runs in demo mode, before anything is made."""
        try:
            health = httpx.get(f"{self.server}/healthz", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            fail(
                f"cannot reach the govflow server at {self.server}: is `govflow up --demo` "
                "running?",
                "server.unreachable",
                EXIT_SERVER,
            )
        if health.get("demo") is False:
            fail(
                f"the server at {self.server} is not in demo mode: start it with "
                "`govflow up --demo`",
                "demo.only",
                EXIT_RULE,
            )

    def status(self, number: int) -> Status | None:
        response = self.as_(CHAIR).send("GET", self.path("issues", number, "status"))
        return response.json() if response.status_code == 200 else None

    def until(self, number: int, predicate: Callable[[Status], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.status(number)
            if last is not None and predicate(last):
                return
            time.sleep(0.2)
        fail(
            f"item {number} did not get there in {timeout:.0f} s; last status: {last}",
            "demo.timeout",
            EXIT_SERVER,
        )

    def stage(self, number: int, stage: str) -> None:
        self.until(number, lambda s: s["stage"] == stage)

    def noticed(self, number: int, stage: str) -> None:
        self.until(number, lambda s: s["stage"] == stage and bool(s.get("notice_id")))

    def closed(self, number: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.as_(CHAIR).get(self.path("issues", number))["issue"]["outcome"] is not None:
                return
            time.sleep(0.2)
        fail(f"item {number} did not close in {timeout:.0f} s", "demo.timeout", EXIT_SERVER)

    def advance(self, number: int, days: int) -> None:
        self.as_(CLERK).post(self.path("issues", number, "advance"), {"days": days})

    def meeting(self, number: int, issue: int, rule_of: str, rule: str, yes: int) -> int:
        """The chair holds a party members' assembly for ``issue``; returns the motion's no."""
        chair, present = self.as_(CHAIR), [CHAIR] + [f"m{i}" for i in range(1, 7)]
        chair.post(
            self.path("meetings"),
            {
                "number": number,
                "body": Body.PARTY_MEMBERS_ASSEMBLY.value,
                "kind": "党员大会",
                "title": "审议",
                "scheduled_for": _now(),
                "notice_days_required": 0,
                "rule_of": rule_of,
                "rule": rule,
                "issue_number": issue,
            },
        )
        chair.post(self.path("meetings", number, "notice"))
        chair.post(self.path("meetings", number, "attendance"), {"present": present})
        motion = chair.post(
            self.path("meetings", number, "motions"),
            {"text": "同意", "yes": yes, "no": len(present) - yes},
        )
        chair.post(self.path("meetings", number, "minutes"), {"text": "与会党员一致认为方案可行。"})
        return int(motion["motion_no"])

    def pay(self, amount: str, reference: str, officer: str, other: str) -> None:
        """One officer requests a disbursement, the other approves it."""
        requested = self.as_(officer).post(
            self.path("spending", 1, "disbursements"), {"amount": amount, "reference": reference}
        )
        no = requested["disbursement_no"]
        self.as_(other).post(self.path("spending", 1, "disbursements", no, "approve"))

    # -- the council --------------------------------------------------------------------------

    def enroll(self) -> None:
        self.tokens[CLERK] = offline(
            lambda app: bootstrap_council(
                app, self.code, "阳光社区", clerk=CLERK, clerk_name="李文书"
            )
        )
        clerk = self.as_(CLERK)
        for member_id, name, extra in PEOPLE:
            clerk.post(self.path("members"), {"member_id": member_id, "name": name, **extra})
        for i in range(1, COURTYARD + 1):
            clerk.post(
                self.path("households"),
                {
                    "unit": f"7-{i:02d}",
                    "exclusive_area": str(Decimal("60.00") + Decimal(i * 3)),
                    "owner_id": f"o{i}",
                    "bodies": [Body.OWNERS_ASSEMBLY.value, Body.AFFECTED_HOUSEHOLDS.value],
                },
            )
        for member_id, _, _ in PEOPLE:
            issued = clerk.post(self.path("tokens"), {"holder": member_id})
            self.tokens[member_id] = issued["token"]
        clerk.post(
            self.path("grids"),
            {"grid": "g7", "name": "七号院网格", "station": "七号院党群服务站", "staff": ["m1"]},
        )

    # -- the stories --------------------------------------------------------------------------

    def major_spending(self) -> None:
        chair, number = self.as_(CHAIR), 1
        chair.post(
            self.path("spending"),
            {
                "number": 1,
                "amount": "12000.00",
                "purpose": "七号院化粪管更换",
                "payee": "市政工程队",
                "budget_line": "公益事业专项",
            },
        )
        chair.post(
            self.path("issues"),
            {
                "number": number,
                "title": "七号院化粪管更换 ¥12,000",
                "procedure": "major-spending",
                "spending_number": 1,
                "grid": "g7",
            },
        )
        chair.post(self.path("issues", number, "route"), {"grid": "g7"})  # to the grid's station
        self.stage(number, "deliberate")
        chair.post(self.path("issues", number, "close-stage"))
        self.stage(number, "review")
        motion = self.meeting(1, number, "major-spending", "party_members_assembly", yes=6)
        chair.post(
            self.path("issues", number, "resolution"), {"meeting_number": 1, "motion_no": motion}
        )
        self.noticed(number, "publish_resolution")
        self.pay("6000.00", "付款凭证-001", "f1", "f2")
        self.advance(number, 8)
        self.stage(number, "implement")
        chair.post(self.path("issues", number, "progress"), {"text": "旧管道已开挖，新管材进场。"})
        self.advance(number, 15)  # two weekly progress notices
        self.pay("5800.00", "付款凭证-002", "f2", "f1")
        chair.post(self.path("issues", number, "complete"), {"actual_cost": "11800.00"})
        self.noticed(number, "publish_result")
        self.advance(number, 8)
        self.closed(number)

    def five_steps(self) -> None:
        chair, number = self.as_(CHAIR), 2
        chair.post(
            self.path("issues"),
            {"number": number, "title": "口袋公园改造", "procedure": "five-step-consultation"},
        )
        self.stage(number, "deliberate")
        chair.post(self.path("issues", number, "close-stage"))
        self.stage(number, "public_deliberation")

    def lift(self) -> None:
        number = 3
        self.as_(CHAIR).post(
            self.path("issues"),
            {
                "number": number,
                "title": "七号楼加装电梯",
                "procedure": "owners-assembly-art278",
            },
        )
        self.noticed(number, "announce")
        self.advance(number, 16)
        self.until(number, lambda s: s.get("ballot_key") is not None)
        for i in range(1, COURTYARD + 1):
            choice = "no" if i in (4, 9) else "abstain" if i == 13 else "yes"
            self.as_(f"o{i}").post(self.path("issues", number, "ballots"), {"choice": choice})
        self.noticed(number, "publish_resolution")
        self.advance(number, 8)
        self.closed(number)


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()


def play(
    server: str, code: str = CODE, step: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Play the demo against ``server``; returns the council, the board's pages and the tokens."""
    return Demo(server, code).run(step)
