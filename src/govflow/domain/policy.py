"""Who may do what: the one policy every command asks, over the council's current record.

A :class:`Principal` is built from the record when a caller authenticates (a person's
enrolment with its roles, bodies and chairs *now*, or an integration with its scopes); a
command handler asks :func:`authorize` before it touches anything, and the workflow's update
validators ask the same function. Nothing else decides who may act.

The README's "who may do what" table is :data:`RULES` (a test keeps the two equal).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from govflow.domain.access import HolderKind, Scope
from govflow.domain.annual_rating_procedure import STREET_RATER
from govflow.domain.base import INTEGRATION_ACTOR_PREFIX
from govflow.domain.errors import ForbiddenError


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person's enrolment (roles, bodies, chairs as recorded now) or an
    integration (its scopes). ``enrolment`` is the version of the council at which the person
    was enrolled: a later enrolment under the same member id is another person."""

    council: str
    holder: str
    kind: HolderKind
    roles: frozenset[str] = frozenset()
    scopes: frozenset[Scope] = frozenset()
    chairs: frozenset[str] = frozenset()  # the bodies the person chairs
    bodies: frozenset[str] = frozenset()  # the bodies the person sits on
    enrolment: int | None = None
    token_id: str | None = None  # the token the caller presented, if any

    @property
    def is_person(self) -> bool:
        return self.kind is HolderKind.PERSON

    @property
    def is_auditor(self) -> bool:
        return self.is_person and "auditor" in self.roles

    @property
    def is_clerk(self) -> bool:
        """The council's clerk (书记员) keeps its roll: members, households, subscriptions."""
        return self.is_person and "clerk" in self.roles

    @property
    def is_officer(self) -> bool:
        return self.is_person and "officer" in self.roles

    @property
    def actor(self) -> str:
        """The name recorded on the events this principal causes."""
        if self.kind is HolderKind.INTEGRATION:
            return f"{INTEGRATION_ACTOR_PREFIX}{self.holder}"
        return self.holder


class Action(StrEnum):
    """Everything someone may ask govflow to do (one command each, reads grouped)."""

    READ = "read"
    EXPORT = "export"
    KEEP_ROLL = "keep_roll"
    ISSUE_TOKEN = "issue_token"
    INVITE = "invite"
    END_SESSION = "end_session"
    MANAGE_WEBHOOKS = "manage_webhooks"
    SUBSCRIBE_WEBHOOK = "subscribe_webhook"
    PROPOSE = "propose"
    CAST_BALLOT = "cast_ballot"
    APPOINT_PROXY = "appoint_proxy"
    ENTER_SIGNED_REPLY = "enter_signed_reply"
    ENTER_PAPER_BALLOTS = "enter_paper_ballots"
    CONFIRM_PAPER_BALLOTS = "confirm_paper_ballots"
    GIVE_OPINION = "give_opinion"
    RATE = "rate"
    FILE_OBJECTION = "file_objection"
    CHAIR_STAGE = "chair_stage"
    EXTEND_CONSULTATION = "extend_consultation"
    RUN_MEETING = "run_meeting"
    EXCUSE_MEMBER = "excuse_member"
    REQUEST_SPENDING = "request_spending"
    REQUEST_DISBURSEMENT = "request_disbursement"
    APPROVE_DISBURSEMENT = "approve_disbursement"
    KEEP_GRIDS = "keep_grids"
    ROUTE_ISSUE = "route_issue"
    OPEN_FUND = "open_fund"
    KEEP_FUND = "keep_fund"
    APPROVE_FUND_EXPENSE = "approve_fund_expense"
    POST_FUND_STATEMENT = "post_fund_statement"
    ORDER_RECTIFICATION = "order_rectification"
    COMPLETE_RECTIFICATION = "complete_rectification"
    VERIFY_RECTIFICATION = "verify_rectification"
    RECORD_INSPECTION = "record_inspection"
    ADVANCE_CLOCK = "advance_clock"
    SET_CONTACT = "set_contact"
    RATE_COUNCIL = "rate_council"


# What each action is, and who may take it: the README's table is this (tested).
RULES: dict[Action, tuple[str, str]] = {
    Action.READ: (
        "read a council's items, notices, meetings, spending, events, history",
        "its members (auditors too), integrations with `read`",
    ),
    Action.EXPORT: (
        "export the council's log; see who was told of what, how (送达)",
        "auditors and the clerk",
    ),
    Action.KEEP_ROLL: (
        "enroll, change or remove members, register households, change the threshold",
        "the clerk (role `clerk`)",
    ),
    Action.ISSUE_TOKEN: ("issue or revoke a member's or integration's token", "the clerk"),
    Action.INVITE: (
        "invite members to the app (one-time sign-in links), withdraw an invitation, see a "
        "member's sessions",
        "the clerk",
    ),
    Action.END_SESSION: (
        "end an app session or a person's token (sign out)",
        "the member themself (their own), or the clerk (any member's)",
    ),
    Action.MANAGE_WEBHOOKS: (
        "list and unsubscribe webhooks",
        "the clerk, integrations with `webhooks:manage`",
    ),
    Action.SUBSCRIBE_WEBHOOK: (
        "subscribe a webhook (it delivers the council's events)",
        "the clerk, integrations with both `webhooks:manage` and `read`",
    ),
    Action.PROPOSE: ("propose an item", "members, integrations with `issues:propose`"),
    Action.CAST_BALLOT: (
        "cast a ballot (for oneself, or for a voter as their proxy)",
        "the member themself, if on the frozen roll; their proxy (委托), with a live "
        "appointment, until the voter's own ballot overrides it",
    ),
    Action.ENTER_SIGNED_REPLY: (
        "enter a voter's signed paper reply to a written consultation (书面征求意见: choice and "
        "the signed form's sha256)",
        "the clerk (a voter enters their own signed reply as a ballot: cast a ballot)",
    ),
    Action.APPOINT_PROXY: (
        "appoint a proxy (委托) for a vote on a 委托书 (its scan's sha256), or revoke the "
        "appointment before the proxy has voted",
        "the voter themself, or the clerk recording a paper 委托书 for them, where the "
        "procedure allows proxies (at most its cap per proxy)",
    ),
    Action.ENTER_PAPER_BALLOTS: (
        "enter a batch of paper ballots (纸质选票: voter, choice, the scan's sha256) for an "
        "open vote by ballots",
        "the clerk, or the chair of the voting body, where the procedure takes paper ballots",
    ),
    Action.CONFIRM_PAPER_BALLOTS: (
        "confirm a batch of paper ballots as scrutineer (监票人); only then do they count",
        "any member of the council other than the person who entered the batch (auditors "
        "and integrations write nothing here)",
    ),
    Action.GIVE_OPINION: (
        "give an opinion in a discussion stage (群议), or reply to one",
        "members",
    ),
    Action.RATE: ("rate an implemented item", "the member themself, if asked to evaluate"),
    Action.FILE_OBJECTION: ("object to a notice", "members, within the objection window"),
    Action.CHAIR_STAGE: (
        "close a stage, record a resolution, answer objections, correct a notice, report "
        "progress, complete, re-approve, withdraw",
        "a chair of the stage's acting body as the roll records it now",
    ),
    Action.EXTEND_CONSULTATION: (
        "extend a written consultation's voting period (书面征求意见), within the procedure's "
        "cap in total",
        "the chair of the stage's acting body, or the clerk",
    ),
    Action.RUN_MEETING: (
        "schedule a meeting, give notice, record attendance, motions, minutes, evidence",
        "the chair of the meeting's body, or the clerk",
    ),
    Action.EXCUSE_MEMBER: (
        "excuse a member of the body's roll from a meeting, with a reason, before it is held",
        "the clerk (the roll's keeper, not the meeting's chair)",
    ),
    Action.REQUEST_SPENDING: ("request spending", "members"),
    Action.REQUEST_DISBURSEMENT: ("request a disbursement", "officers (role `officer`)"),
    Action.APPROVE_DISBURSEMENT: (
        "approve a requested disbursement (money moves)",
        "another officer, not the one who requested it",
    ),
    Action.OPEN_FUND: (
        "open a fund (信托制物业: property fees, public income, a project's budget) and name its "
        "keyholders (at least two distinct members)",
        "the clerk, or a chair of the two committees (两委)",
    ),
    Action.KEEP_FUND: (
        "record a fund's income, initiate or withdraw an expense (money out waits for a "
        "second keyholder)",
        "the fund's keyholders (as enrolled when the fund named them)",
    ),
    Action.APPROVE_FUND_EXPENSE: (
        "approve a fund's expense (money moves out)",
        "another keyholder of the fund, not the one who initiated it",
    ),
    Action.POST_FUND_STATEMENT: (
        "post a fund's statement for a closed period as a notice (once per period), answer "
        "objections to it",
        "the fund's keyholders, or the clerk",
    ),
    Action.ORDER_RECTIFICATION: (
        "order a rectification by a deadline (限期整改), from an evaluation rated 不满意, an "
        "upheld objection or an inspection's finding",
        "a chair of the ordering body (a committee: see `ESCALATES_TO`)",
    ),
    Action.COMPLETE_RECTIFICATION: (
        "report a rectification order done, with evidence",
        "the member ordered to act (as enrolled when ordered), or a chair of the body ordered",
    ),
    Action.VERIFY_RECTIFICATION: (
        "verify a completed rectification order: accept it, or send it back with reasons and "
        "a new deadline",
        "a chair of the ordering body, not the person who reported it done",
    ),
    Action.RECORD_INSPECTION: (
        "record an inspection's finding (检查发现) with its evidence's sha256",
        "members of the supervisory committee (监委会)",
    ),
    Action.KEEP_GRIDS: (
        "add, change or retire a grid (网格) and its service station (name, staff)",
        "the clerk",
    ),
    Action.ROUTE_ISSUE: (
        "route an item to a grid's service station, or re-route it to another's with a reason",
        "the clerk or a chair of any body; to re-route, also the staff of the station the "
        "item is at now",
    ),
    Action.ADVANCE_CLOCK: ("fast-forward an item's clock", "the clerk, on a demo server only"),
    Action.SET_CONTACT: (
        "set or see a member's e-mail or gateway address and whether they follow the council",
        "the member themself (auditors too), or the clerk",
    ),
    Action.RATE_COUNCIL: (
        "open a year's annual rating (分类定级), score a criterion with its evidence, publish "
        "the result, answer objections to it, revise it",
        "the street office's raters: members with the role `street_rater` who sit on none of "
        "the council's bodies and are not its clerk, on the year's panel, frozen when the "
        "rating opens",
    ),
}


def policy_table() -> str:
    """:data:`RULES` as the README's Markdown table."""
    rows = [f"| {what} | {who} |" for what, who in RULES.values()]
    return "\n".join(["| action | who |", "|---|---|", *rows])


# The scopes an integration needs for an action (all of them): a subscription delivers the
# council's events, so subscribing needs the read scope as well.
_SCOPES: dict[Action, tuple[Scope, ...]] = {
    Action.READ: (Scope.READ,),
    Action.PROPOSE: (Scope.PROPOSE,),
    Action.MANAGE_WEBHOOKS: (Scope.WEBHOOKS,),
    Action.SUBSCRIBE_WEBHOOK: (Scope.WEBHOOKS, Scope.READ),
}


def authorize(
    who: Principal,
    action: Action,
    council: str,
    *,
    body: str | None = None,
    owner: tuple[str, int | None] | None = None,
    keyholders: frozenset[tuple[str, int]] | None = None,  # a fund's (member, enrolment)
    staff: frozenset[str] = frozenset(),
) -> str:
    """Refuse (``ForbiddenError``) unless ``who`` may take ``action`` in ``council``; return
    the actor to record. ``body`` is the acting body of a stage or a meeting, if any;
    ``owner`` the member id and enrolment whose session or token it is; ``staff`` the staff
    of the grid station an item is at (re-routing it)."""
    if who.council != council:
        raise ForbiddenError("the token belongs to another council", action=action.value)
    if who.kind is HolderKind.INTEGRATION:
        scopes = _SCOPES.get(action)
        if scopes is None:
            raise ForbiddenError("only a member can take this action", action=action.value)
        for scope in scopes:
            if scope not in who.scopes:
                raise ForbiddenError(
                    f"the token lacks the {scope.value} scope", action=action.value
                )
        return who.actor
    if action is Action.READ:
        return who.actor
    if action is Action.EXPORT:
        if who.is_auditor or who.is_clerk:
            return who.actor
        raise ForbiddenError("only auditors and the clerk export the log", action=action.value)
    if action is Action.END_SESSION:  # signing out writes nothing of the council's record
        if owner == (who.holder, who.enrolment) or (who.is_clerk and not who.is_auditor):
            return who.actor
        raise ForbiddenError(
            "only the member themself or the clerk can end a session", action=action.value
        )
    if action is Action.SET_CONTACT:  # a person's own contact writes no council record
        if owner == (who.holder, who.enrolment) or (who.is_clerk and not who.is_auditor):
            return who.actor
        raise ForbiddenError(
            "only the member themself or the clerk can set a member's contact",
            action=action.value,
        )
    if who.is_auditor:
        raise ForbiddenError("auditors read everything and write nothing", action=action.value)
    if action is Action.APPOINT_PROXY:  # ``owner``: the voter whose appointment it is
        if (owner is not None and owner[0] == who.holder) or who.is_clerk:
            return who.actor
        raise ForbiddenError(
            "only the voter themself or the clerk can appoint or revoke their proxy",
            action=action.value,
        )
    if action is Action.RATE_COUNCIL:  # the street office rates a council, never itself
        if STREET_RATER in who.roles and not who.bodies and not who.is_clerk:
            return who.actor
        raise ForbiddenError(
            f"only the street office's raters (role {STREET_RATER}, on none of the council's "
            "bodies, not its clerk) rate the council",
            action=action.value,
        )
    if action in (
        Action.KEEP_ROLL,
        Action.ENTER_SIGNED_REPLY,
        Action.ISSUE_TOKEN,
        Action.INVITE,
        Action.MANAGE_WEBHOOKS,
        Action.SUBSCRIBE_WEBHOOK,
        Action.ADVANCE_CLOCK,
        Action.EXCUSE_MEMBER,
        Action.KEEP_GRIDS,
    ):
        if not who.is_clerk:
            raise ForbiddenError(
                "only the council's clerk can take this action", action=action.value
            )
    elif action is Action.CHAIR_STAGE:
        chairs = body in who.chairs if body is not None else bool(who.chairs)
        if not chairs:
            raise ForbiddenError(
                f"only a chair of {body or 'a body'} can take this action",
                action=action.value,
                body=body,
            )
    elif action is Action.ROUTE_ISSUE:
        if not (who.is_clerk or who.chairs or who.holder in staff):
            raise ForbiddenError(
                "only the clerk, a chair, or (to re-route) the staff of the item's station "
                "can route an item",
                action=action.value,
            )
    elif action is Action.ENTER_PAPER_BALLOTS:
        if body not in who.chairs and not who.is_clerk:
            raise ForbiddenError(
                f"only the clerk or the chair of {body} can enter paper ballots",
                action=action.value,
                body=body,
            )
    elif action in (Action.RUN_MEETING, Action.EXTEND_CONSULTATION):
        if body not in who.chairs and not who.is_clerk:
            raise ForbiddenError(
                f"only the chair of {body} or the clerk can take this action",
                action=action.value,
                body=body,
            )
    elif action in (Action.REQUEST_DISBURSEMENT, Action.APPROVE_DISBURSEMENT) and not (
        who.is_officer
    ):
        raise ForbiddenError("only an officer can take this action", action=action.value)
    elif action is Action.OPEN_FUND:
        if not (who.is_clerk or "two_committees" in who.chairs):
            raise ForbiddenError(
                "only the clerk or a chair of the two committees opens a fund",
                action=action.value,
            )
    elif action in (
        Action.KEEP_FUND,
        Action.APPROVE_FUND_EXPENSE,
        Action.POST_FUND_STATEMENT,
    ):
        holds = (who.holder, who.enrolment) in (keyholders or frozenset())
        if not (holds or (action is Action.POST_FUND_STATEMENT and who.is_clerk)):
            raise ForbiddenError(
                "only a keyholder of the fund can take this action", action=action.value
            )
    elif action in (Action.ORDER_RECTIFICATION, Action.VERIFY_RECTIFICATION):
        # ``body``: the ordering body (None: asked before the order is read: a chair of any)
        if not (body in who.chairs if body is not None else bool(who.chairs)):
            raise ForbiddenError(
                f"only a chair of {body or 'the ordering body'} can take this action",
                action=action.value,
                body=body,
            )
        if body is not None and action is Action.ORDER_RECTIFICATION:
            escalation_body(body)  # only committees order
    elif action is Action.COMPLETE_RECTIFICATION:
        # ``owner``: the member ordered to act (id, enrolment); ``body``: the body ordered
        ordered = owner is not None and owner == (who.holder, who.enrolment)
        if not (ordered or (body is not None and body in who.chairs)):
            raise ForbiddenError(
                "only the member ordered to act, or a chair of the body ordered, can report "
                "the order done",
                action=action.value,
            )
    elif action is Action.RECORD_INSPECTION and SUPERVISORY_COMMITTEE not in who.bodies:
        raise ForbiddenError(
            "only members of the supervisory committee record inspections", action=action.value
        )
    return who.actor


SUPERVISORY_COMMITTEE = "supervisory_committee"
# Which body orders a rectification (限期整改), and the named body an order is escalated to
# when its deadline passes undone: the body that oversees the one that ordered it. Only these
# (committees) order; assemblies decide, they do not order.
ESCALATES_TO: dict[str, str] = {
    "branch_committee": "party_members_assembly",
    "two_committees": "party_members_assembly",
    "residents_committee": "residents_representatives",
    "owners_committee": "owners_assembly",
    "supervisory_committee": "two_committees",
}


def escalation_body(ordering_body: str) -> str:
    """The body an order of ``ordering_body`` is escalated to (``ForbiddenError`` if that body
    does not order rectifications)."""
    try:
        return ESCALATES_TO[ordering_body]
    except KeyError:
        raise ForbiddenError(
            f"{ordering_body} does not order rectifications: a committee does "
            f"({', '.join(ESCALATES_TO)})",
            action=Action.ORDER_RECTIFICATION.value,
            body=ordering_body,
        ) from None
