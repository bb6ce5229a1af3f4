"""Procedures as data: the stages an issue walks through, who acts, rules, periods, policies.

A procedure file in ``workflows/`` is validated against :class:`Procedure`; its hash is recorded
on every issue started with it, so a running item keeps the exact procedure it began with.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from govflow.domain.calendar import DayType
from govflow.domain.council import Body
from govflow.domain.notice import NoticeKind
from govflow.domain.voting import VotingRule

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StageKind(StrEnum):
    PROPOSE = "propose"  # 提议
    DELIBERATE = "deliberate"  # 合议/商议
    PUBLIC_DELIBERATION = "public_deliberation"  # 群议
    REVIEW = "review"  # 审议
    VOTE = "vote"  # 决议 (by ballots or at a meeting)
    PUBLISH = "publish"  # 公示
    IMPLEMENT = "implement"  # 实施
    EVALUATE = "evaluate"  # 评议


class TimeoutPolicy(StrEnum):
    ADVANCE = "advance"  # carry on with what there is
    ESCALATE = "escalate"  # record Escalated, notify, extend once
    FAIL = "fail"  # the item fails


class Condition(StrEnum):
    AMOUNT_OVER_THRESHOLD = "amount_over_threshold"


class Period(_Frozen):
    days: int = Field(ge=0, le=366)
    day_type: DayType = DayType.NATURAL


class QuorumFailure(_Frozen):
    action: Literal["revote", "return_to", "reject"] = "reject"
    max_revotes: int = Field(default=0, ge=0, le=10)
    return_to: Slug | None = None


class NoticeSpec(_Frozen):
    kind: NoticeKind
    display: Period
    objection_window: Period | None = None
    reply_within: Period | None = None
    reopen_at: Slug | None = None  # where an upheld objection sends the item
    escalate_to: Body | None = None  # who takes unanswered objections


class Proxies(_Frozen):
    """Whether a voter may appoint a proxy (委托) for a vote stage, and how many voters one
    proxy may hold appointments from (local rules often say one)."""

    allowed: bool = False
    cap: int = Field(default=1, ge=1, le=1000)


class WrittenConsultation(_Frozen):
    """A vote by ballots held as a written consultation (书面征求意见, 指导规则 Art. 22): the
    form is delivered to every voter on the roll (posted as a 公告 where it cannot be), a
    reply counts only with the voter's signature, and the voting period may be extended by
    recorded extensions totalling at most ``extension_cap_days`` (Shenzhen: three months)."""

    extension_cap_days: int = Field(default=0, ge=0, le=366)


class Paper(_Frozen):
    """Whether paper ballots (纸质选票) are entered beside online ones in a vote by ballots
    (线上线下), each batch confirmed by a scrutineer (监票人), and which ballot counts when a
    voter has both (``wins``); the other is refused and listed for the scrutineers."""

    allowed: bool = False
    wins: Literal["online", "paper"] = "paper"


# Validation context: a procedure as an item or a workflow recorded it when it began, checked
# again. Rules added since (a secret vote refuses proxies, paper ballots and written
# consultation) are not applied to it: a running item keeps the procedure it began with.
RECORDED = "recorded"


class Stage(_Frozen):
    id: Slug
    kind: StageKind
    title: str = Field(min_length=1)
    body: Body | None = None
    rule: Slug | None = None
    category_rules: dict[Slug, Slug] = Field(default_factory=dict)
    vote_by: Literal["ballots", "meeting"] | None = None
    # a secret vote never shows who chose what (only the tally and who took part); a named
    # vote (记名表决) shows each choice once voting has closed. While voting is open no
    # choice is shown either way.
    ballot: Literal["secret", "named"] = "secret"
    # proxies (委托投票): not allowed unless the procedure says so (物业管理条例, local rules)
    proxies: Proxies = Proxies()
    # paper ballots beside online ones (线上线下): not allowed unless the procedure says so
    paper: Paper = Paper()
    # a vote by ballots held as a written consultation (forms delivered, signed replies)
    written_consultation: WrittenConsultation | None = None
    duration: Period
    on_timeout: TimeoutPolicy = TimeoutPolicy.ADVANCE
    reminder_lead_hours: int = Field(default=24, ge=0, le=24 * 30)
    may_close_early: bool = False
    on_quorum_failure: QuorumFailure | None = None
    notice: NoticeSpec | None = None
    progress_every: Period | None = None
    when: Condition | None = None

    @model_validator(mode="after")
    def _kind_needs(self, info: ValidationInfo) -> Stage:
        if self.kind is StageKind.VOTE and (self.rule is None or self.vote_by is None):
            raise ValueError(f"vote stage {self.id!r} needs a rule and vote_by")
        if self.proxies.allowed and self.kind is not StageKind.VOTE:
            raise ValueError(f"stage {self.id!r} allows proxies but is not a vote stage")
        if self.paper.allowed and (self.kind is not StageKind.VOTE or self.vote_by != "ballots"):
            raise ValueError(f"stage {self.id!r}: paper ballots are for a vote by ballots")
        if self.written_consultation is not None and (
            self.kind is not StageKind.VOTE or self.vote_by != "ballots"
        ):
            raise ValueError(f"stage {self.id!r}: a written consultation is a vote by ballots")
        linked = self.proxies.allowed or self.paper.allowed or self.written_consultation
        recorded = bool(info.context and info.context.get(RECORDED))
        if self.ballot == "secret" and linked and not recorded:
            # an override, a double channel and a signed reply each need a choice linked to
            # its voter, which a secret vote never records
            raise ValueError(
                f"stage {self.id!r}: proxies, paper ballots and written consultation need a "
                "named vote (ballot: named)"
            )
        if self.kind is StageKind.REVIEW and self.rule is None:
            raise ValueError(f"review stage {self.id!r} needs a rule")
        if self.kind is StageKind.PUBLISH and self.notice is None:
            raise ValueError(f"publish stage {self.id!r} needs a notice")
        if self.kind in (StageKind.DELIBERATE, StageKind.REVIEW, StageKind.VOTE) and not self.body:
            raise ValueError(f"stage {self.id!r} needs the body that acts in it")
        return self


class Defaults(_Frozen):
    """What a procedure leaves unsaid, said once here rather than in the interpreter."""

    # the display period of notices a publish or implement stage posts besides its own
    # (progress and result notices of a spending item)
    display: Period = Period(days=7)
    # the time a body to which an unanswered objection is escalated has to answer it
    reply_within: Period = Period(days=3)
    # whose review, passed with quorum, approves spending over the council's threshold
    review_body: Body = Body.PARTY_MEMBERS_ASSEMBLY
    # who chairs the stages that name no body (notices, implementation); unset: the body of
    # the procedure's first stage that names one (the body that put the item forward)
    acting_body: Body | None = None


class Source(_Frozen):
    title: str
    article: str | None = None
    note: str | None = None


class Procedure(_Frozen):
    """A governance procedure: named, versioned, citing its sources."""

    name: Slug
    version: int = Field(ge=1)
    title: str
    applies_to: Literal["issue", "spending"] = "issue"
    law_version: str | None = None
    sources: list[Source] = Field(min_length=1)
    rules: dict[Slug, VotingRule] = Field(default_factory=dict)
    stages: list[Stage] = Field(min_length=1)
    defaults: Defaults = Field(default_factory=Defaults)
    # after an item ends failed (rejected, not passed), the same matter (the same title in the
    # same council) may not be proposed again for this period (Shenzhen: one year); unset: never
    bar_after_failure: Period | None = None

    @model_validator(mode="after")
    def _references(self) -> Procedure:
        ids = [s.id for s in self.stages]
        if len(set(ids)) != len(ids):
            raise ValueError("stage ids must be unique")
        for stage in self.stages:
            for rule in (stage.rule, *stage.category_rules.values()):
                if rule is not None and rule not in self.rules:
                    raise ValueError(f"stage {stage.id!r} names unknown rule {rule!r}")
            targets = [
                stage.notice.reopen_at if stage.notice else None,
                stage.on_quorum_failure.return_to if stage.on_quorum_failure else None,
            ]
            for target in targets:
                if target is not None and target not in ids:
                    raise ValueError(f"stage {stage.id!r} refers to unknown stage {target!r}")
        return self

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON form: what an issue records it started with."""
        return self._digest(secret_stated=True)

    def matches(self, recorded: str) -> bool:
        """Whether ``recorded`` (an item's procedure hash) is this procedure's digest, as
        computed now or before stages had a ``ballot`` field (a secret vote then went
        unsaid)."""
        return recorded == self.digest or recorded == self._digest(secret_stated=False)

    def _digest(self, *, secret_stated: bool) -> str:
        # Unstated defaults are left out, so a procedure's digest did not change when they
        # gained a name here.
        unstated: dict[str, Any] = {"defaults": True} if self.defaults == Defaults() else {}
        if self.bar_after_failure is None:
            unstated["bar_after_failure"] = True
        no_extras: dict[int, set[str]] = {}
        for i, s in enumerate(self.stages):
            names = {"proxies"} if s.proxies == Proxies() else set()
            if s.paper == Paper():
                names.add("paper")
            if s.written_consultation is None:
                names.add("written_consultation")
            if not secret_stated and s.ballot == "secret":
                names.add("ballot")
            if names:
                no_extras[i] = names
        if no_extras:
            unstated["stages"] = no_extras
        data = self.model_dump(mode="json", exclude=unstated or None)
        canonical = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(canonical).hexdigest()

    def rule_for(self, stage: Stage, category: str | None = None) -> VotingRule:
        """The voting rule of ``stage`` for an issue of ``category`` (Art. 278 categories)."""
        name = stage.category_rules.get(category or "", stage.rule)
        if name is None:
            raise KeyError(f"stage {stage.id!r} has no voting rule")
        return self.rules[name]

    def acting_body(self, stage: Stage) -> Body | None:
        """The body whose chair acts in ``stage``: its own, else the procedure's default, else
        the first body named (never "any chair of any body")."""
        if stage.body is not None:
            return stage.body
        if self.defaults.acting_body is not None:
            return self.defaults.acting_body
        return next((s.body for s in self.stages if s.body is not None), None)

    def review_stage(self) -> Stage | None:
        """The stage in which the reviewing body decides (the rule a re-approval follows)."""
        review = self.defaults.review_body
        kinds = (StageKind.REVIEW, StageKind.VOTE)
        return next((s for s in self.stages if s.body is review and s.kind in kinds), None)

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)
