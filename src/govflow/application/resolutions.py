"""Use cases: a meeting's motion as a stage's resolution, and as a spending's re-approval.

Every fact is checked against the record before anything is recorded: the meeting must be of
the deciding body, scheduled for this item, held under the stage's rule, and its motion must
exist and not have decided anything of this item before.
"""

from __future__ import annotations

from govflow.application.core import GovernanceCore
from govflow.domain.base import Aggregate
from govflow.domain.council import Body
from govflow.domain.errors import ResolutionMismatchError
from govflow.domain.ids import meeting_id, spending_id
from govflow.domain.issue import Issue
from govflow.domain.meeting import Meeting
from govflow.domain.spending import Spending
from govflow.domain.voting import VotingRule


class ResolutionCases(GovernanceCore):
    def record_meeting_resolution(
        self,
        code: str,
        number: int,
        stage: str,
        *,
        meeting_number: int,
        motion_no: int,
        body: Body,
        rule: VotingRule,
        review_spending: int | None = None,
        actor: str,
        step: str | None = None,
    ) -> bool:
        """Take a meeting's motion as the stage's resolution; returns whether it passed.

        The meeting must be one of the stage's ``body``, held for this issue under the
        stage's ``rule``; with ``review_spending`` the same motion is recorded as that
        spending's review in the same transaction. Everything is checked before anything is
        recorded: a refused resolution leaves no event.
        """
        issue = self.issue(code, number)
        if step is not None and issue.has_applied(step):
            return bool(issue.resolutions.get(stage))
        meeting = self.resolving_meeting(issue, meeting_number, motion_no, body=body, rule=rule)
        passed = meeting.motion_passed(motion_no)
        issue.record_resolution(
            stage,
            meeting_id=meeting.id,
            motion_no=motion_no,
            passed=passed,
            at=self.now(),
            actor=actor,
            step=step,
        )
        changed: list[Aggregate] = [issue]
        if review_spending is not None:
            spending = self._get(
                Spending, spending_id(code, review_spending), f"spending {code}/{review_spending}"
            )
            if spending.issue_id is not None and spending.issue_id != issue.id:
                raise ResolutionMismatchError(
                    f"spending {code}/{review_spending} belongs to another item"
                )
            spending.record_review_at(meeting, motion_no, at=self.now(), actor=actor, step=step)
            changed.append(spending)
        self._save(*changed)
        return passed

    def resolving_meeting(
        self, issue: Issue, meeting_number: int, motion_no: int, *, body: Body, rule: VotingRule
    ) -> Meeting:
        """The meeting whose motion may resolve a stage of ``issue`` acted by ``body`` under
        ``rule``; anything else is refused with ``resolution.wrong_meeting``."""
        meeting = self._get(
            Meeting,
            meeting_id(issue.council, meeting_number),
            f"meeting {issue.council}/{meeting_number}",
        )
        if meeting.body is not body:
            raise ResolutionMismatchError(
                f"meeting {meeting_number} is of {meeting.body.value}; this stage is decided "
                f"by {body.value}",
                meeting_body=meeting.body.value,
                stage_body=body.value,
            )
        if meeting.issue_id != issue.id:
            raise ResolutionMismatchError(
                f"meeting {meeting_number} was not scheduled for issue "
                f"{issue.council}/{issue.number}",
            )
        if meeting.rule != rule:
            raise ResolutionMismatchError(
                f"meeting {meeting_number} decided under another rule ({meeting.rule.describe()}) "
                f"than this stage's ({rule.describe()})",
            )
        meeting.motion_passed(motion_no)
        return meeting

    def reapprove_spending(
        self,
        code: str,
        number: int,
        *,
        spending_number: int,
        meeting_number: int,
        motion_no: int,
        body: Body,
        rule: VotingRule,
        actor: str,
        step: str | None = None,
    ) -> None:
        """Re-approve an overrun of item ``number``'s spending: a new motion of the reviewing
        ``body``, held for this item under the review's ``rule``, recorded as the spending's
        review and, passed with quorum, approving the actual cost, in one transaction."""
        issue = self.issue(code, number)
        spending = self._get(
            Spending, spending_id(code, spending_number), f"spending {code}/{spending_number}"
        )
        if step is not None and spending.has_applied(f"{step}:approve"):
            return
        meeting = self.resolving_meeting(issue, meeting_number, motion_no, body=body, rule=rule)
        if (meeting.id, motion_no) in issue.used_motions:
            raise ResolutionMismatchError(
                f"motion {motion_no} of meeting {meeting_number} already resolved a stage of "
                "this item: a re-approval needs a new motion"
            )
        if spending.issue_id is not None and spending.issue_id != issue.id:
            raise ResolutionMismatchError(
                f"spending {code}/{spending_number} belongs to another item"
            )
        review_step = f"{step}:review" if step else None
        spending.record_review_at(meeting, motion_no, at=self.now(), actor=actor, step=review_step)
        spending.approve(at=self.now(), actor=actor, step=f"{step}:approve" if step else None)
        self._save(spending)
