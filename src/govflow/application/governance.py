"""The Governance application: every use case, one short method each."""

from __future__ import annotations

from govflow.application.access import AccessCases
from govflow.application.annual_ratings import AnnualRatingCases
from govflow.application.audit import AuditCases
from govflow.application.councils import CouncilCases
from govflow.application.evaluation import EvaluationCases
from govflow.application.funds import FundCases
from govflow.application.grids import GridCases
from govflow.application.idempotency import IdempotencyCases
from govflow.application.invitations import InvitationCases
from govflow.application.issues import IssueCases
from govflow.application.listing import ListingCases
from govflow.application.meetings import MeetingCases
from govflow.application.notification_sending import NotificationSending
from govflow.application.paper_ballots import PaperBallotCases
from govflow.application.proxies import ProxyCases
from govflow.application.rectification import RectificationCases
from govflow.application.resolutions import ResolutionCases
from govflow.application.spending import SpendingCases
from govflow.application.voting import VotingCases
from govflow.application.webhooks import WebhookCases


class Governance(
    CouncilCases,
    IssueCases,
    PaperBallotCases,  # before VotingCases, which it extends
    VotingCases,
    MeetingCases,  # before ProxyCases, which it extends
    ProxyCases,
    EvaluationCases,
    ResolutionCases,
    SpendingCases,
    AnnualRatingCases,
    FundCases,
    AuditCases,
    AccessCases,
    InvitationCases,
    IdempotencyCases,
    WebhookCases,
    GridCases,  # before NotificationSending, which it extends
    RectificationCases,  # before NotificationSending, which it extends
    NotificationSending,
    ListingCases,
):
    """govflow's eventsourcing Application (see the use-case mixins for each method)."""

    name = "Governance"
