"""Activities run alone (no server): idempotent per step, domain errors non-retryable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eventsourcing.persistence import OperationalError
from structlog.testing import capture_logs
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from govflow.application import Governance
from govflow.application.procedures import ProcedureLibrary
from govflow.orchestration import messages as m
from govflow.orchestration.activities import DEFECT_ATTEMPTS, GovernanceActivities
from tests.orchestration.conftest import CHAIR, COUNCIL, WORKFLOWS, enroll_council

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def activities(tmp_path: Path) -> GovernanceActivities:
    app = Governance(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "events.db")}
    )
    enroll_council(app)
    procedure = ProcedureLibrary(WORKFLOWS).get("residents-assembly")
    app.propose_issue(COUNCIL, 1, "t", procedure, actor=CHAIR)
    return GovernanceActivities(app)


def ref(step: str) -> m.Ref:
    return m.Ref(council=COUNCIL, number=1, at=AT, step=step)


def test_a_repeated_step_is_applied_once(activities: GovernanceActivities) -> None:
    """A retried activity (same step id) records nothing more and returns the same result."""
    env = ActivityEnvironment()
    request = m.OpenStageInput(ref=ref("wf:1"), stage="propose", days=3, day_type="natural")
    first = env.run(activities.open_stage, request)
    version = activities.app.get_issue(COUNCIL, 1).version
    assert env.run(activities.open_stage, request) == first
    assert activities.app.get_issue(COUNCIL, 1).version == version


def test_events_carry_the_workflow_time(activities: GovernanceActivities) -> None:
    """What an activity records is stamped with the workflow's durable time, not the wall clock."""
    ActivityEnvironment().run(
        activities.open_stage,
        m.OpenStageInput(ref=ref("wf:1"), stage="propose", days=3, day_type="natural"),
    )
    history = activities.app.get_history(activities.app.issue(COUNCIL, 1).id)
    assert history[-1].timestamp == AT
    assert history[-1].data["deadline"] == "2026-03-05T16:00:00Z"


def test_a_rule_violation_is_non_retryable_with_its_code(activities: GovernanceActivities) -> None:
    """Opening a stage out of order fails for good, typed with the domain's stable code."""
    with pytest.raises(ApplicationError) as caught:
        ActivityEnvironment().run(
            activities.open_stage,
            m.OpenStageInput(ref=ref("wf:2"), stage="resolve", days=3, day_type="natural"),
        )
    assert caught.value.non_retryable and caught.value.type == "issue.stage_out_of_order"


def test_activity_logs_carry_council_issue_and_workflow(activities: GovernanceActivities) -> None:
    """Log events of an activity are bound to the council, issue and workflow they serve."""
    import structlog
    from structlog.testing import capture_logs

    env = ActivityEnvironment()
    env.run(
        activities.open_stage,
        m.OpenStageInput(ref=ref("wf:1"), stage="propose", days=3, day_type="natural"),
    )
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        env.run(
            activities.send_reminder,
            m.ReminderInput(ref=ref("wf:2"), stage="propose", deadline=AT, who=[CHAIR]),
        )
    assert logs == [
        {
            "event": "reminder",
            "log_level": "info",
            "stage": "propose",
            "deadline": AT.isoformat(),
            "who": [CHAIR],
            "council": COUNCIL,
            "issue": 1,
            "step": "wf:2",
            "workflow_id": "test",
        }
    ]


def test_a_defect_fails_after_a_bounded_number_of_attempts(
    activities: GovernanceActivities, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception is retried a few times, then fails for good, logged once
    (issue 9: a KeyError in an activity was retried forever and the request never answered)."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError(99)

    monkeypatch.setattr(activities.app, "close_issue", broken)
    request = m.CloseIssueInput(ref=ref("wf:9"), outcome="adopted")
    seen = []
    for attempt in range(1, DEFECT_ATTEMPTS + 1):
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info, attempt=attempt, activity_type="govflow.close_issue"
        )
        with capture_logs() as logs, pytest.raises(ApplicationError) as caught:
            env.run(activities.close_issue, request)
        assert caught.value.type == "activity.defect"
        seen.append((caught.value.non_retryable, [e["event"] for e in logs]))
    *retried, last = seen
    assert all(not final and "activity_defect" not in events for final, events in retried)
    assert last == (True, ["activity_defect"])


def test_an_unreachable_store_is_retried_not_failed(
    activities: GovernanceActivities, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store being away is not a defect: the error goes back to Temporal to retry."""

    def away(*args: object, **kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(activities.app, "close_issue", away)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=DEFECT_ATTEMPTS + 3)
    with pytest.raises(OperationalError):
        env.run(activities.close_issue, m.CloseIssueInput(ref=ref("wf:9"), outcome="adopted"))
