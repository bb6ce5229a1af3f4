"""Two appointments racing past a proxy's cap: the store takes one, the other counts again."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from govflow.application import Governance
from govflow.domain.errors import GovflowError, RuleViolationError
from govflow.domain.ids import issue_id
from govflow.domain.procedure import Proxies
from govflow.domain.proxy import ProxyHolder, holder_id
from tests.application.scenario import COUNCIL
from tests.application.test_proxies import FORM, owners_vote

CAP_ONE = Proxies(allowed=True, cap=1)


def test_two_appointments_racing_for_one_proxy_never_both_pass_its_cap(
    app: Governance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """o1 and o2 appoint o3 (cap 1) at once, each counting o3's appointments before either
    saves: one appointment lands; the other counts again and is refused, recording nothing."""
    owners_vote(app, open_vote=False)
    both_counted = threading.Barrier(2, timeout=10)
    counted_once: set[int] = set()
    count = app.appointments

    def count_then_wait(*args: Any, **kwargs: Any) -> Any:
        found = count(*args, **kwargs)
        if threading.get_ident() not in counted_once:  # the first count of each thread
            counted_once.add(threading.get_ident())
            both_counted.wait()
        return found

    monkeypatch.setattr(app, "appointments", count_then_wait)
    outcomes: dict[str, object] = {}

    def appoint(principal: str) -> None:
        try:
            outcomes[principal] = app.appoint_proxy(
                COUNCIL, 1, "resolve", principal, "o3", FORM, proxies=CAP_ONE, actor=principal
            )
        except GovflowError as refused:
            outcomes[principal] = refused

    threads = [threading.Thread(target=appoint, args=(p,)) for p in ("o1", "o2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    refused = [o for o in outcomes.values() if isinstance(o, GovflowError)]
    assert len(outcomes) == 2 and len(refused) == 1
    assert isinstance(refused[0], RuleViolationError) and "the most" in str(refused[0])
    monkeypatch.undo()
    live = app.appointments(COUNCIL, 1, "resolve")
    assert [a.proxy for a in live.values()] == ["o3"]
    holder = holder_id("o3", issue=issue_id(COUNCIL, 1), stage="resolve", meeting=None)
    record = app.repository.get(holder)
    assert isinstance(record, ProxyHolder) and record.principals == sorted(live)


def test_a_revocation_frees_the_proxys_seat(app: Governance) -> None:
    owners_vote(app, open_vote=False)
    app.appoint_proxy(COUNCIL, 1, "resolve", "o1", "o3", FORM, proxies=CAP_ONE, actor="o1")
    with pytest.raises(RuleViolationError):
        app.appoint_proxy(COUNCIL, 1, "resolve", "o2", "o3", FORM, proxies=CAP_ONE, actor="o2")
    app.revoke_proxy(COUNCIL, 1, "resolve", "o1", reason="will vote", actor="o1")
    app.appoint_proxy(COUNCIL, 1, "resolve", "o2", "o3", FORM, proxies=CAP_ONE, actor="o2")
    holder = holder_id("o3", issue=issue_id(COUNCIL, 1), stage="resolve", meeting=None)
    record = app.repository.get(holder)
    assert isinstance(record, ProxyHolder) and record.principals == ["o2"]
    assert record.version == 3  # o1 held, released, o2 held
