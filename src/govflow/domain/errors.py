"""One typed hierarchy of errors, each with a stable code and the HTTP status it maps to."""

from __future__ import annotations

from typing import Any, ClassVar


class GovflowError(Exception):
    """Base of every error govflow raises on purpose.

    ``code`` is stable: integrations and translations key on it, so never rename one.
    """

    code: ClassVar[str] = "govflow.error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidInputError(GovflowError):
    code = "input.invalid"
    status = 422


class InvalidAmountError(InvalidInputError):
    code = "money.invalid_amount"


class UnsupportedCurrencyError(InvalidInputError):
    code = "money.unsupported_currency"


class InvalidProcedureError(InvalidInputError):
    code = "procedure.invalid"


class NotFoundError(GovflowError):
    code = "not_found"
    status = 404


class AlreadyExistsError(GovflowError):
    code = "already_exists"
    status = 409


class RuleViolationError(GovflowError):
    """A command that the governance rules refuse in the aggregate's current state."""

    code = "rule.violation"
    status = 409


class UnknownMemberError(RuleViolationError):
    code = "council.unknown_member"


class StageOrderError(RuleViolationError):
    code = "issue.stage_out_of_order"


class IssueClosedError(RuleViolationError):
    code = "issue.closed"


class WithdrawalTooLateError(RuleViolationError):
    code = "issue.withdrawal_after_resolution"


class VotingNotOpenError(RuleViolationError):
    code = "ballot.voting_not_open"


class NotOnRollError(RuleViolationError):
    code = "ballot.not_on_roll"
    status = 403


class EmptyRollError(RuleViolationError):
    """A vote cannot open with nobody on the body's roll: nobody could decide anything."""

    code = "voting.empty_roll"


class ResolutionMismatchError(RuleViolationError):
    """The meeting named as a stage's resolution is not one of this stage's body, rule and
    issue."""

    code = "resolution.wrong_meeting"


class DemoOnlyError(RuleViolationError):
    code = "demo.only"


class WorkflowUnavailableError(GovflowError):
    """The workflow service cannot be reached, or the item's workflow cannot answer now."""

    code = "workflow.unavailable"
    status = 503


class WorkflowTimeoutError(GovflowError):
    """The item's workflow did not answer in time; the action may still complete."""

    code = "workflow.timeout"
    status = 504


class DoubleVoteError(RuleViolationError):
    code = "ballot.double_vote"


class SecretVoteError(RuleViolationError):
    """A secret vote takes no proxies and no paper ballots: each needs a choice linked to its
    voter."""

    code = "ballot.secret_vote"


class ObjectionWindowClosedError(RuleViolationError):
    code = "notice.objection_window_closed"


class NoticeStateError(RuleViolationError):
    code = "notice.invalid_state"


class QuorumNotMetError(RuleViolationError):
    code = "meeting.quorum_not_met"


class MeetingStateError(RuleViolationError):
    code = "meeting.invalid_state"


class NotOnMeetingRollError(RuleViolationError):
    """A proxy for a meeting (委托出席) is another member of the meeting's body."""

    code = "meeting.not_on_roll"


class ReviewRequiredError(RuleViolationError):
    code = "spending.review_required"


class DisclosureMissingError(RuleViolationError):
    code = "spending.disclosure_missing"


class ReapprovalRequiredError(RuleViolationError):
    code = "spending.reapproval_required"


class SpendingStateError(RuleViolationError):
    code = "spending.invalid_state"


class SameOfficerError(RuleViolationError):
    code = "spending.same_officer"


class OverDisbursementError(RuleViolationError):
    code = "spending.over_disbursement"


class FundStateError(RuleViolationError):
    code = "fund.invalid_state"


class FundOverdrawnError(RuleViolationError):
    code = "fund.overdrawn"


class SameKeyholderError(RuleViolationError):
    code = "fund.same_keyholder"


class SpendingCoverError(RuleViolationError):
    """An expense over the threshold without an approved, disclosed spending covering it."""

    code = "fund.spending_required"


class BankStatementError(InvalidInputError):
    code = "fund.bank_statement_invalid"


class ConcurrentChangeError(GovflowError):
    """Someone else changed the aggregate meanwhile: retrying the command is safe."""

    code = "concurrency.conflict"
    status = 409


class ActionRefusedError(RuleViolationError):
    """A workflow refused an action (not the open stage, not a chair, out of window ...).

    ``details["cause"]`` carries the underlying stable code when the domain refused it.
    """

    code = "workflow.action_refused"


class TargetNotEmptyError(GovflowError):
    code = "migration.target_not_empty"
    status = 409


class AuthenticationError(GovflowError):
    code = "auth.unauthenticated"
    status = 401


class ForbiddenError(GovflowError):
    code = "auth.forbidden"
    status = 403


def error_class(code: str) -> type[GovflowError] | None:
    """The error class with the stable ``code`` (to rebuild an error that crossed a boundary)."""
    pending: list[type[GovflowError]] = [GovflowError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            return cls
        pending.extend(cls.__subclasses__())
    return None
