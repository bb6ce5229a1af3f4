"""``govflow council|token``: councils, their roll and their tokens.

Registering a council and enrolling its first clerk are the operator's (they open this machine's
event store: there is nobody to sign in as yet); everything after is the clerk's, through the API
with the clerk's token.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.table import Table

from govflow.domain.access import HolderKind, Scope
from govflow.domain.area import InvalidAreaError, format_area, parse_area
from govflow.domain.council import Body
from govflow.entrypoints import cli_http as http
from govflow.entrypoints.cli_http import council_path
from govflow.entrypoints.console import (
    EXIT_INVALID,
    JsonFlag,
    emit_json,
    err,
    fail,
    offline,
    out,
    report,
)

if TYPE_CHECKING:
    from govflow.application import Governance

OPERATOR = "operator"  # the actor of what the operator records on this machine
ROLES = ("clerk", "auditor", "officer")
MEMBER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

council_app = typer.Typer(help="Councils, members and households.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: issue and revoke (the clerk).", no_args_is_help=True)
Threshold = Annotated[str, typer.Option(help="Spending above this (yuan) needs the review.")]
Timezone = Annotated[str, typer.Option(help="The council's time zone (deadlines end 24:00).")]


def _check_timezone(timezone: str) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"{timezone!r} is not a time zone like Asia/Shanghai", "input.invalid", EXIT_INVALID)


def bootstrap_council(
    app: Governance,
    code: str,
    name: str,
    *,
    clerk: str,
    clerk_name: str,
    threshold: str = "10000.00",
    timezone: str = "Asia/Shanghai",
) -> str:
    """Register a council, enrol its first clerk and return the clerk's new token."""
    app.register_council(
        code, name, actor=OPERATOR, spending_threshold=threshold, timezone=timezone
    )
    app.enroll_member(code, clerk, clerk_name, actor=OPERATOR, roles=("clerk",))
    return app.issue_token(code, clerk, actor=OPERATOR)


def sign_in_links(app: Governance, code: str, member_ids: tuple[str, ...]) -> dict[str, str]:
    """(Operator) A one-time sign-in link to the members' app for each member, by member id:
    the first clerk's way in, who then invites everyone else from the app."""
    from govflow.bootstrap import Settings

    base = Settings().public_base_url
    made = app.invite_members(code, member_ids, actor=OPERATOR)
    return {new.member_id: f"{base}/app/sign-in/{new.link}" for new in made}


@council_app.command("register")
def council_register(
    code: str,
    name: str,
    threshold: Threshold = "10000.00",
    timezone: Timezone = "Asia/Shanghai",
    as_json: JsonFlag = False,
) -> None:
    """(Operator) Register a council on this machine's event store."""
    _check_timezone(timezone)
    council_id = offline(
        lambda app: app.register_council(
            code, name, actor=OPERATOR, spending_threshold=threshold, timezone=timezone
        )
    )
    report(as_json, {"id": str(council_id), "code": code}, str(council_id))


@council_app.command("bootstrap")
def council_bootstrap(
    code: str,
    name: str,
    clerk: Annotated[str, typer.Option(help="The first clerk's member id.")],
    clerk_name: Annotated[str, typer.Option(help="The first clerk's name.")],
    threshold: Threshold = "10000.00",
    timezone: Timezone = "Asia/Shanghai",
    as_json: JsonFlag = False,
) -> None:
    """(Operator) Register a council and its first clerk; prints the clerk's token once."""
    _check_timezone(timezone)
    if not MEMBER_ID.match(clerk):
        fail(
            f"{clerk!r} is not a member id (letters, digits, '_', '.', '-')",
            "input.invalid",
            EXIT_INVALID,
        )

    def made(app: Governance) -> tuple[str, str]:
        token = bootstrap_council(
            app,
            code,
            name,
            clerk=clerk,
            clerk_name=clerk_name,
            threshold=threshold,
            timezone=timezone,
        )
        return token, sign_in_links(app, code, (clerk,))[clerk]

    token, link = offline(made)
    if as_json:
        emit_json({"code": code, "clerk": clerk, "token": token, "sign_in": link})
        return
    out.print(token, highlight=False)
    err.print(
        f"the clerk's token, shown this once: sign in with `govflow login --token {token[:11]}…`"
    )
    err.print(
        f"or open the members' app (a one-time link, valid 7 days): {link}",
        highlight=False,
        soft_wrap=True,
    )


@council_app.command("add-member")
def council_add_member(
    code: str,
    member_id: str,
    name: str,
    body: Annotated[list[Body] | None, typer.Option(help="A body they sit on.")] = None,
    chair: Annotated[list[Body] | None, typer.Option(help="A body they chair.")] = None,
    role: Annotated[
        list[str] | None, typer.Option(help="clerk, auditor or officer (repeatable).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """(Clerk) Enroll a member on the bodies they sit on, with their roles."""
    answer = http.post(
        council_path(code, "members"),
        {"member_id": member_id, "name": name, **_member_sets(role, body, chair)},
    )
    report(as_json, answer, f"{member_id} enrolled")


def _member_sets(
    roles: list[str] | None, bodies: list[Body] | None, chairs: list[Body] | None
) -> dict[str, list[str]]:
    for r in roles or ():
        if r not in ROLES:
            raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}, not {r!r}")
    return {
        "roles": roles or [],
        "bodies": [b.value for b in bodies or ()],
        "chairs": [c.value for c in chairs or ()],
    }


@council_app.command("change-member")
def council_change_member(
    code: str,
    member_id: str,
    body: Annotated[list[Body] | None, typer.Option(help="A body they sit on.")] = None,
    chair: Annotated[list[Body] | None, typer.Option(help="A body they chair.")] = None,
    role: Annotated[
        list[str] | None, typer.Option(help="clerk, auditor or officer (repeatable).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """(Clerk) Give a member other roles, bodies and chairs: the whole set, replacing the old
    (later commands are decided with them, in stages already open too)."""
    answer = http.call(
        "PUT", council_path(code, "members", member_id), body=_member_sets(role, body, chair)
    )
    report(as_json, answer, f"{member_id} changed")


@council_app.command("remove-member")
def council_remove_member(code: str, member_id: str, as_json: JsonFlag = False) -> None:
    """(Clerk) Record that a member left (their tokens stop working)."""
    answer = http.call("DELETE", council_path(code, "members", member_id))
    report(as_json, answer, f"{member_id} left")


@council_app.command("add-household")
def council_add_household(
    code: str,
    unit: str,
    exclusive_area: Annotated[str, typer.Argument(help="Exclusive area in m², e.g. 89.50")],
    owner: str,
    body: Annotated[
        list[Body] | None, typer.Option(help="A body the household votes in (repeatable).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """(Clerk) Register a household: its unit, exclusive area and owner."""
    try:
        area = parse_area(exclusive_area)
    except InvalidAreaError as error:
        raise typer.BadParameter(f"{exclusive_area!r}: {error.message}") from None
    answer = http.post(
        council_path(code, "households"),
        {
            "unit": unit,
            "exclusive_area": format_area(area),
            "owner_id": owner,
            "bodies": [b.value for b in body or (Body.OWNERS_ASSEMBLY,)],
        },
    )
    report(as_json, answer, f"household {unit} registered")


@council_app.command("threshold")
def council_threshold(code: str, threshold: str, as_json: JsonFlag = False) -> None:
    """(Clerk) Change the amount above which spending needs the party members' review."""
    answer = http.call(
        "PUT", council_path(code, "spending-threshold"), body={"threshold": threshold}
    )
    report(as_json, answer, f"threshold ¥{Decimal(answer['threshold']):,.2f}")


@council_app.command("show")
def council_show(code: str, as_json: JsonFlag = False) -> None:
    """A council's members, bodies and threshold."""
    view = http.get(council_path(code))
    if as_json:
        emit_json(view)
        return
    out.print(
        f"{view['name']} ({view['code']}), threshold ¥{Decimal(view['spending_threshold']):,.2f}, "
        f"{view['households']} households, time zone {view['timezone']}",
        highlight=False,
    )
    table = Table("member", "name", "roles", "bodies", "chairs")
    for m in view["members"]:
        table.add_row(
            m["member_id"],
            m["name"],
            ", ".join(m.get("roles", [])),
            ", ".join(m["bodies"]),
            ", ".join(m["chairs"]),
        )
    out.print(table)


@token_app.command("issue")
def token_issue(
    council: str,
    holder: str,
    scope: Annotated[
        list[Scope] | None,
        typer.Option(
            help="An integration's scope (repeatable); without one the holder is a member."
        ),
    ] = None,
    operator: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="(Operator) Issue it on this machine's event store, without the API.",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """(Clerk) Issue a member's token (or, with --scope, an integration's); shown once only."""
    kind = HolderKind.INTEGRATION if scope else HolderKind.PERSON
    scopes = [s.value for s in scope or ()]
    if operator:
        token = offline(
            lambda app: app.issue_token(
                council, holder, kind=kind, scopes=tuple(scope or ()), actor=OPERATOR
            )
        )
        issued = {"token": token, "token_id": token.split("_")[1]}
    else:
        body = {"holder": holder, **({"kind": kind.value, "scopes": scopes} if scope else {})}
        issued = http.post(council_path(council, "tokens"), body)
    if as_json:
        emit_json({**issued, "holder": holder})
        return
    out.print(issued["token"], highlight=False)
    err.print("keep it safe: only its hash is stored, it cannot be shown again")


@token_app.command("revoke")
def token_revoke(
    council: str,
    token_id: Annotated[str, typer.Argument(help="The token's id (the part after gf_).")],
    reason: str = "revoked by the clerk",
    as_json: JsonFlag = False,
) -> None:
    """(Clerk) Revoke a token of the council by its id."""
    answer = http.call(
        "DELETE", council_path(council, "tokens", token_id), params={"reason": reason}
    )
    report(as_json, answer or {"revoked": token_id}, f"token {token_id} revoked")
