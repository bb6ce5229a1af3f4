"""Deterministic aggregate ids: the same business key always names the same aggregate."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f1f3c0e-8d2a-5b7e-9c41-2b9d0a7e5c13")


def council_id(code: str) -> UUID:
    return uuid5(NAMESPACE, f"council:{code}")


def issue_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"issue:{council}:{number}")


def meeting_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"meeting:{council}:{number}")


def spending_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"spending:{council}:{number}")


def fund_id(council: str, number: int) -> UUID:
    return uuid5(NAMESPACE, f"fund:{council}:{number}")


def ballot_id(issue: UUID, stage: str, voter: str) -> UUID:
    return uuid5(NAMESPACE, f"ballot:{issue}:{stage}:{voter}")


def notice_id(subject: UUID, kind: str, seq: int) -> UUID:
    return uuid5(NAMESPACE, f"notice:{subject}:{kind}:{seq}")


def rating_id(issue: UUID, stage: str, rater: str) -> UUID:
    return uuid5(NAMESPACE, f"rating:{issue}:{stage}:{rater}")
