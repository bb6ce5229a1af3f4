"""OpenAPI links: how the answer of one operation feeds the next (propose → vote → close →
receipt), so that clients and schemathesis' stateful phase can follow an item through its life.

FastAPI generates the schema from the routes; :func:`add_links` post-processes it, finding each
operation by its path and method (FastAPI's operationIds are derived from function names and
are not repeated here), instead of every route carrying its links.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["LINKS", "add_links"]

C = "/v1/councils/{code}"
ISSUE = f"{C}/issues/{{number}}"
MEETING = f"{C}/meetings/{{number}}"
SPENDING = f"{C}/spending/{{number}}"

# (method, path, status) of a response -> its links: name -> (method, path, parameters).
# A target's path parameters not named here are taken from the request's own path
# (``$request.path.<name>``): a ballot's receipt is on the same council and item.
Link = tuple[str, str, dict[str, str]]
LINKS: dict[tuple[str, str, str], dict[str, Link]] = {
    ("post", f"{C}/issues", "201"): {
        "GetIssue": ("get", ISSUE, {"number": "$response.body#/number"}),
        "GetIssueStatus": ("get", f"{ISSUE}/status", {"number": "$response.body#/number"}),
        "CastBallot": ("post", f"{ISSUE}/ballots", {"number": "$response.body#/number"}),
        "CloseStage": ("post", f"{ISSUE}/close-stage", {"number": "$response.body#/number"}),
        "Withdraw": ("post", f"{ISSUE}/withdraw", {"number": "$response.body#/number"}),
    },
    ("post", f"{ISSUE}/ballots", "201"): {
        "CheckReceipt": (
            "get",
            f"{ISSUE}/receipts/{{ballot_id}}",
            {
                "ballot_id": "$response.body#/ballot_id",
                "query.notification_id": "$response.body#/notification_id",
            },
        ),
        "GetIssueStatus": ("get", f"{ISSUE}/status", {}),
        "CloseStage": ("post", f"{ISSUE}/close-stage", {}),
    },
    ("post", f"{ISSUE}/close-stage", "200"): {
        "GetIssue": ("get", ISSUE, {}),
        "GetIssueStatus": ("get", f"{ISSUE}/status", {}),
        "CloseNextStage": ("post", f"{ISSUE}/close-stage", {}),
        "CastBallot": ("post", f"{ISSUE}/ballots", {}),
    },
    ("post", f"{ISSUE}/withdraw", "200"): {"GetIssue": ("get", ISSUE, {})},
    ("post", f"{ISSUE}/objections", "201"): {
        "AnswerObjection": (
            "post",
            f"{ISSUE}/objections/{{objection_no}}/answer",
            {"objection_no": "$response.body#/objection_no"},
        ),
    },
    ("post", f"{C}/meetings", "201"): {
        "GetMeeting": ("get", MEETING, {"number": "$response.body#/number"}),
        "GiveNotice": ("post", f"{MEETING}/notice", {"number": "$response.body#/number"}),
        "Excuse": ("post", f"{MEETING}/excused", {"number": "$response.body#/number"}),
        "RecordAttendance": (
            "post",
            f"{MEETING}/attendance",
            {"number": "$response.body#/number"},
        ),
        "RecordMotion": ("post", f"{MEETING}/motions", {"number": "$response.body#/number"}),
        "RecordMinutes": ("post", f"{MEETING}/minutes", {"number": "$response.body#/number"}),
    },
    ("post", f"{MEETING}/attendance", "200"): {
        "RecordMotion": ("post", f"{MEETING}/motions", {}),
        "GetMeeting": ("get", MEETING, {}),
    },
    ("post", f"{MEETING}/motions", "201"): {"GetMeeting": ("get", MEETING, {})},
    ("post", f"{C}/spending", "201"): {
        "GetSpending": ("get", SPENDING, {"number": "$response.body#/number"}),
        "RequestDisbursement": (
            "post",
            f"{SPENDING}/disbursements",
            {"number": "$response.body#/number"},
        ),
    },
    ("post", f"{SPENDING}/disbursements", "201"): {
        "ApproveDisbursement": (
            "post",
            f"{SPENDING}/disbursements/{{disbursement_no}}/approve",
            {"disbursement_no": "$response.body#/disbursement_no"},
        ),
        "GetSpending": ("get", SPENDING, {}),
    },
    ("post", f"{C}/webhooks", "201"): {
        "GetWebhook": (
            "get",
            f"{C}/webhooks/{{subscription_id}}",
            {"subscription_id": "$response.body#/subscription/id"},
        ),
        "Unsubscribe": (
            "delete",
            f"{C}/webhooks/{{subscription_id}}",
            {"subscription_id": "$response.body#/subscription/id"},
        ),
    },
    ("post", f"{C}/tokens", "201"): {
        "RevokeToken": (
            "delete",
            f"{C}/tokens/{{token_id}}",
            {"token_id": "$response.body#/token_id"},
        ),
    },
}

_PARAMETER = re.compile(r"\{([^}]+)\}")


def _path_parameters(path: str) -> list[str]:
    return _PARAMETER.findall(path)


def merge_equivalent_paths(schema: dict[str, Any]) -> None:
    """OpenAPI treats templated paths that differ only by their parameters' names as one path
    (``.../evidence/{name}`` for PUT and ``.../evidence/{sha256}`` for GET): merge each into the
    first one of its shape, renaming the parameters, so the document lists every method a URL
    answers under one path (as the ``Allow`` header of a 405 does)."""
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    first: dict[str, str] = {}
    for path in list(paths):
        shape = _PARAMETER.sub("{}", path)
        if shape not in first:
            first[shape] = path
            continue
        into = first[shape]
        renames = dict(zip(_path_parameters(path), _path_parameters(into), strict=True))
        for method, operation in paths.pop(path).items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in renames:
                    parameter["name"] = renames[parameter["name"]]
            paths[into].setdefault(method, operation)


def add_links(schema: dict[str, Any]) -> dict[str, Any]:
    """Add :data:`LINKS` to ``schema`` (FastAPI's OpenAPI document), in place; returns it.
    A link whose source or target is not in the document is an error: the table is kept in
    step with the routes."""
    merge_equivalent_paths(schema)
    paths: dict[str, dict[str, Any]] = schema["paths"]

    def operation(method: str, path: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = paths[path][method]
        except KeyError:
            raise LookupError(f"no operation {method.upper()} {path} for a link") from None
        return found

    for (method, path, status), links in LINKS.items():
        response = operation(method, path)["responses"][status]
        own = set(_path_parameters(path))
        for name, (target_method, target_path, parameters) in links.items():
            target = operation(target_method, target_path)
            values = {
                p: f"$request.path.{p}"
                for p in _path_parameters(target_path)
                if p in own and p not in parameters
            }
            response.setdefault("links", {})[name] = {
                "operationId": target["operationId"],
                "parameters": {**values, **parameters},
            }
    return schema
