"""The proxy appointment (委托), a proxy's ballot, the tally's override and the procedure's
``proxies`` setting."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from uuid import uuid4

import pytest
from pydantic import ValidationError

from govflow.domain.ballot import Ballot, Choice, ProxyBallotCast, proxy_ballot_id, tally
from govflow.domain.errors import AlreadyExistsError, NotOnRollError, RuleViolationError
from govflow.domain.ids import ballot_id
from govflow.domain.issue import OpenVoting
from govflow.domain.procedure import Procedure, Proxies, Stage
from govflow.domain.proxy import Proxy, meeting_proxy_id, proxy_id
from govflow.domain.voting import Base, Comparison, Threshold, VotingRule

AT = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
FORM = hashlib.sha256(b"form").hexdigest()
ISSUE = uuid4()
RULE = VotingRule(
    passes=Threshold(fraction=Fraction(1, 2), comparison=Comparison.MORE_THAN, base=Base.PRESENT)
)


def voting() -> OpenVoting:
    roll = {"o1": Decimal(1), "o2": Decimal(1), "o3": Decimal(1)}
    return OpenVoting(ISSUE, "resolve#1", roll, 3, 3, RULE, AT + timedelta(days=7))


def appointment(principal: str = "o3", proxy: str = "o2") -> Proxy:
    return Proxy.appoint(
        None, council="c", issue=ISSUE, stage="resolve", principal=principal, proxy=proxy,
        proxy_form_sha256=FORM, at=AT, actor=principal,
    )  # fmt: skip


def test_an_appointment_is_named_by_its_vote_and_principal() -> None:
    proxy = appointment()
    assert proxy.id == proxy_id(ISSUE, "resolve", "o3")
    assert proxy.live and not proxy.used_in and proxy.proxy_form_sha256 == FORM
    meeting = uuid4()
    assert meeting_proxy_id(meeting, "o3") not in (proxy.id, meeting_proxy_id(meeting, "o2"))


def test_nobody_is_their_own_proxy() -> None:
    with pytest.raises(RuleViolationError):
        appointment("o2", "o2")


def test_a_live_appointment_is_revoked_before_another() -> None:
    proxy = appointment()
    with pytest.raises(AlreadyExistsError):
        Proxy.appoint(
            proxy, council="c", issue=ISSUE, stage="resolve", principal="o3", proxy="o1",
            proxy_form_sha256=FORM, at=AT, actor="o3",
        )  # fmt: skip
    proxy.revoke("changed my mind", at=AT, actor="o3")
    again = Proxy.appoint(
        proxy, council="c", issue=ISSUE, stage="resolve", principal="o3", proxy="o1",
        proxy_form_sha256=FORM, at=AT, actor="o3",
    )  # fmt: skip
    assert again.live and again.proxy == "o1" and again.version == 3


def test_the_proxys_ballot_is_apart_from_the_principals_and_uses_the_appointment() -> None:
    proxy = appointment()
    ballot = Ballot.cast_by_proxy(voting(), proxy, "o2", Choice.YES, at=AT)
    (event,) = ballot.collect_events()
    assert isinstance(event, ProxyBallotCast)
    assert (event.voter, event.proxy, event.weight) == ("o3", "o2", Decimal(1))
    assert ballot.id == proxy_ballot_id(ISSUE, "resolve#1", "o3")
    assert ballot.id != ballot_id(ISSUE, "resolve#1", "o3")
    assert proxy.used_in == {"resolve#1"}
    with pytest.raises(RuleViolationError):  # revocation after use
        proxy.revoke("too late", at=AT, actor="o3")


def test_only_the_appointed_proxy_votes_and_only_while_live() -> None:
    proxy = appointment()
    with pytest.raises(RuleViolationError):
        Ballot.cast_by_proxy(voting(), proxy, "o1", Choice.YES, at=AT)
    proxy.revoke("in person", at=AT, actor="o3")
    with pytest.raises(RuleViolationError):
        Ballot.cast_by_proxy(voting(), proxy, "o2", Choice.YES, at=AT)


def test_the_principal_must_be_on_the_roll() -> None:
    proxy = appointment("x9", "o2")
    with pytest.raises(NotOnRollError):
        Ballot.cast_by_proxy(voting(), proxy, "o2", Choice.YES, at=AT)


def test_the_own_ballot_overrides_the_proxys_in_the_tally() -> None:
    result = tally(
        voting(),
        [("o1", "yes"), ("o3", "no")],
        by_proxy=[("o3", "yes"), ("o2", "yes"), ("x9", "yes")],
        counted_up_to=10,
    )
    assert (result.yes, result.no, result.participating, result.by_proxy) == (2, 1, 3, 1)


def _stage(**proxies: object) -> Stage:
    return Stage.model_validate(
        {
            "id": "resolve", "kind": "vote", "title": "表决", "body": "owners_assembly",
            "rule": "r", "vote_by": "ballots", "duration": {"days": 7}, "ballot": "named",
            "proxies": proxies,
        }
    )  # fmt: skip


def test_a_stage_says_whether_proxies_are_allowed_and_the_cap() -> None:
    assert _stage().proxies == Proxies(allowed=False, cap=1)
    assert _stage(allowed=True, cap=2).proxies.cap == 2
    with pytest.raises(ValidationError):
        _stage(allowed=True, cap=0)
    with pytest.raises(ValidationError):
        Stage.model_validate(
            {
                "id": "talk", "kind": "deliberate", "title": "商议", "body": "two_committees",
                "duration": {"days": 7}, "proxies": {"allowed": True},
            }
        )  # fmt: skip


def test_unstated_proxies_leave_a_procedures_digest_as_it_was() -> None:
    data = {
        "name": "p", "version": 1, "title": "p", "sources": [{"title": "t"}],
        "rules": {"r": RULE.model_dump(mode="json")},
        "stages": [_stage().model_dump(mode="json", exclude={"proxies"})],
    }  # fmt: skip
    plain = Procedure.model_validate(data)
    data["stages"] = [_stage(allowed=True).model_dump(mode="json")]
    with_proxies = Procedure.model_validate(data)
    assert plain.digest != with_proxies.digest
    data["stages"] = [_stage(allowed=False).model_dump(mode="json")]
    assert Procedure.model_validate(data).digest == plain.digest
