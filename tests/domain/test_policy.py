"""The one policy: who may do what, decided from the principal as the record says now."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from govflow.domain.access import HolderKind, Scope
from govflow.domain.council import Council
from govflow.domain.errors import ForbiddenError, InvalidInputError
from govflow.domain.policy import RULES, Action, Principal, authorize, policy_table

README = Path(__file__).parents[2] / "README.md"
T0 = datetime(2026, 3, 2, tzinfo=UTC)


def person(*roles: str, chairs: tuple[str, ...] = (), council: str = "c") -> Principal:
    return Principal(
        council, "p1", HolderKind.PERSON, roles=frozenset(roles), chairs=frozenset(chairs)
    )


def integration(*scopes: Scope) -> Principal:
    return Principal("c", "bot", HolderKind.INTEGRATION, scopes=frozenset(scopes))


def test_the_readme_table_is_the_policy() -> None:
    """The README's 'who may do what' table is generated from RULES, row for row."""
    assert policy_table() in README.read_text(encoding="utf-8")
    assert set(RULES) == set(Action)


@pytest.mark.parametrize("action", list(Action))
def test_another_council_s_token_may_do_nothing(action: Action) -> None:
    """A clerk who chairs everything in one council is nobody in another."""
    clerk = person("clerk", "officer", "auditor", chairs=("two_committees",), council="other")
    with pytest.raises(ForbiddenError, match="another council"):
        authorize(clerk, action, "c", body="two_committees")


def test_auditors_read_and_export_but_write_nothing() -> None:
    """An auditor reads and exports; every other action is refused."""
    auditor = person("auditor", chairs=("two_committees",))
    assert authorize(auditor, Action.READ, "c") == "p1"
    assert authorize(auditor, Action.EXPORT, "c") == "p1"
    for action in set(Action) - {Action.READ, Action.EXPORT}:
        with pytest.raises(ForbiddenError):
            authorize(auditor, action, "c", body="two_committees")


def test_a_chair_acts_for_the_body_they_chair_only() -> None:
    """Chair actions need the stage's body among the caller's chairs; a stage without a body
    needs a chair of some body."""
    chair = person(chairs=("party_members_assembly",))
    assert authorize(chair, Action.CHAIR_STAGE, "c", body="party_members_assembly") == "p1"
    assert authorize(chair, Action.CHAIR_STAGE, "c", body=None) == "p1"
    with pytest.raises(ForbiddenError, match="only a chair of residents_assembly"):
        authorize(chair, Action.CHAIR_STAGE, "c", body="residents_assembly")
    with pytest.raises(ForbiddenError):
        authorize(person(), Action.CHAIR_STAGE, "c", body=None)


def test_meetings_are_run_by_their_body_s_chair_or_the_clerk() -> None:
    """The clerk records for any body; a chair for their own; a member for none."""
    body = "villagers_representatives"
    assert authorize(person("clerk"), Action.RUN_MEETING, "c", body=body)
    assert authorize(person(chairs=(body,)), Action.RUN_MEETING, "c", body=body)
    with pytest.raises(ForbiddenError):
        authorize(person(chairs=("two_committees",)), Action.RUN_MEETING, "c", body=body)


def test_the_roll_tokens_and_the_clock_are_the_clerk_s() -> None:
    """Keeping the roll, excusing members from a meeting, issuing tokens and fast-forwarding
    need the clerk's role (a chair may not shrink their own quorum base)."""
    clerk_s = (Action.KEEP_ROLL, Action.ISSUE_TOKEN, Action.ADVANCE_CLOCK, Action.EXCUSE_MEMBER)
    for action in clerk_s:
        assert authorize(person("clerk"), action, "c") == "p1"
        with pytest.raises(ForbiddenError, match="clerk"):
            authorize(
                person("officer", chairs=("two_committees",)), action, "c", body="two_committees"
            )


def test_money_moves_by_officers_only() -> None:
    """Requesting and approving a disbursement need the officer role (distinctness is the
    spending's own rule, from its record)."""
    for action in (Action.REQUEST_DISBURSEMENT, Action.APPROVE_DISBURSEMENT):
        assert authorize(person("officer"), action, "c") == "p1"
        with pytest.raises(ForbiddenError, match="officer"):
            authorize(person("clerk"), action, "c")


def test_integrations_act_within_their_scopes_only() -> None:
    """An integration proposes, reads or manages webhooks with the matching scope, and never
    takes a person's act (a ballot, a chair's act, money)."""
    bot = integration(Scope.PROPOSE)
    assert authorize(bot, Action.PROPOSE, "c") == "integration:bot"
    with pytest.raises(ForbiddenError, match="read scope"):
        authorize(bot, Action.READ, "c")
    for action in (Action.CAST_BALLOT, Action.CHAIR_STAGE, Action.APPROVE_DISBURSEMENT):
        with pytest.raises(ForbiddenError, match="only a member"):
            authorize(integration(*Scope), action, "c", body="two_committees")


def test_reserved_names_cannot_be_enrolled() -> None:
    """Nobody is enrolled as 'system' or under an integration's name, so no event can pass a
    person's act off as the system's or an integration's."""
    council = Council.register("c", "社区", at=T0, actor="clerk")
    for reserved in ("system", "integration:grid-app"):
        with pytest.raises(InvalidInputError, match="reserved"):
            council.enroll_member(reserved, "冒名", at=T0, actor="clerk")
