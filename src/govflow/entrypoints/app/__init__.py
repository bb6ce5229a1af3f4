"""The members' app (``/app/``): everything a member or resident does, from a phone.

Server-rendered pages and plain forms (they work without JavaScript) over the same commands,
door and policy as the API: a form builds a command and hands it to the door; no page decides a
rule. Each module holds one part and its module-level ``router``; :data:`ROUTERS` lists them.
"""

from __future__ import annotations

from fastapi import APIRouter

from govflow.entrypoints.app import contacts, home, item_acts, items, propose, receipts, signin
from govflow.entrypoints.app import funds as funds_app
from govflow.entrypoints.app import grid_routing as grid_routing_app
from govflow.entrypoints.app import meetings as meetings_app
from govflow.entrypoints.app import oidc as oidc_app
from govflow.entrypoints.app import orders as orders_app
from govflow.entrypoints.app import roll as roll_app
from govflow.entrypoints.app import spending as spending_app

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    items.router,
    item_acts.router,
    grid_routing_app.router,
    propose.router,
    receipts.router,
    signin.router,
    oidc_app.router,
    roll_app.router,
    meetings_app.router,
    spending_app.router,
    funds_app.router,
    orders_app.router,
    contacts.router,
)

__all__ = ["ROUTERS"]
