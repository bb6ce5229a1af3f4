"""``/v1/councils/{code}/webhooks``: subscriptions to the council's events (the clerk, or an
integration with ``webhooks:manage``; subscribing needs ``read`` as well)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from govflow.application.webhooks import NewWebhook, WebhookView
from govflow.domain.policy import Action, authorize
from govflow.entrypoints.api_bodies import Strict
from govflow.entrypoints.deps import App, Caller

router = APIRouter(prefix="/v1/councils/{code}", tags=["webhooks"])


class WebhookBody(Strict):
    url: str = Field(min_length=1, max_length=2000)
    topics: list[str] = Field(default=[], max_length=100)
    from_start: bool = False


# -- webhooks ------------------------------------------------------------------------------


@router.post("/webhooks", tags=["webhooks"], status_code=201)
async def subscribe(code: str, body: WebhookBody, caller: Caller, app: App) -> NewWebhook:
    """Subscribe a URL to the council's events (the clerk, or an integration with both the
    ``webhooks:manage`` and ``read`` scopes). The signing secret is returned this once only.
    A target inside govflow's network is refused (422 ``webhook.target_refused``)."""
    return await run_in_threadpool(
        lambda: app.subscribe_webhook_as(
            caller, code, body.url, tuple(body.topics), from_start=body.from_start
        )
    )


@router.get("/webhooks", tags=["webhooks"])
def list_webhooks(code: str, caller: Caller, app: App) -> list[WebhookView]:
    """Subscriptions with their delivery status (cursor, delivered, failing attempts)."""
    authorize(caller, Action.MANAGE_WEBHOOKS, code)
    return app.list_webhooks(code)


@router.get("/webhooks/{subscription_id}", tags=["webhooks"])
def get_webhook(code: str, subscription_id: UUID, caller: Caller, app: App) -> WebhookView:
    """One subscription with its recent delivery failures."""
    authorize(caller, Action.MANAGE_WEBHOOKS, code)
    return app.get_webhook(code, subscription_id)


@router.delete("/webhooks/{subscription_id}", tags=["webhooks"])
def unsubscribe(code: str, subscription_id: UUID, caller: Caller, app: App) -> dict[str, bool]:
    actor = authorize(caller, Action.MANAGE_WEBHOOKS, code)
    app.unsubscribe_webhook(code, subscription_id, "unsubscribed through the API", actor=actor)
    return {"active": False}
