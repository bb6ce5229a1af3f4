"""Delivering webhooks from the notification log, one subscription at a time each.

Each subscription has a cursor in the log. A delivery posts the council's events after the
cursor, in log order, one request per event, and moves the cursor only on a 2xx answer: at
least once, in order, with the notification id as the receiver's idempotency key
(``Govflow-Delivery``). A failure stops that subscription's delivery and schedules the next
attempt with exponential back-off (1 s doubling to at most 5 minutes), so a receiver that was
down for an hour gets everything, in order, within minutes of coming back.

Each subscription is delivered one request at a time with its own time budget, in bounded
turns on a shared pool of threads (:class:`Deliveries`): at most two threads per council, and a
subscription with more to deliver after its turn waits behind the others. A slow or silent
receiver, or a council with many of them, holds up nobody else's deliveries for long. The
cursor also moves past every record the subscription does not get (other topics, other
councils, unpublished records), read by topic in the query, so a pass over subscriptions that
are caught up reads nothing from the log.

Every delivery resolves the target again and refuses it if it is inside the server's network
(see :mod:`govflow.application.webhook_http`), unless the operator allowed the host by name
(``GOVFLOW_WEBHOOK_ALLOW_HOSTS``); a name that resolves to nothing fails with the same word,
``target_refused``, so the status does not tell which names exist inside. Secrets are kept
beside the log, sealed with the installation's cipher when one is set, never in an event.

Any number of processes deliver at once: each pass takes the subscriptions that are due with a
lease in the store (a holder id and an expiry by the database's clock; on PostgreSQL ``FOR UPDATE
SKIP LOCKED``), so one subscription is delivered by one process at a time, and at most
:data:`LEASE_AHEAD` by one process, so that others share a backlog. The lease is renewed in
the same transaction as every move of the cursor, and a holder whose lease another process took
saves nothing more and stops; it is given up when the subscription is caught up, backs off, or
the process stops. A process that dies keeps its subscriptions until their leases expire
(``GOVFLOW_WEBHOOK_LEASE_SECONDS``), then another goes on from the saved cursor: the one event
that was being posted may arrive twice (same ``Govflow-Delivery``), none is skipped.

Requests are signed: ``Govflow-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<body>" under the subscription's secret>`` (see :func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import socket
import threading
import time
from base64 import b64decode, b64encode
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from uuid import UUID, uuid4

import orjson

from govflow.application.access import principal_of
from govflow.application.core import GovernanceCore
from govflow.application.listing import ListingCases, is_public_topic
from govflow.application.views import FeedEvent
from govflow.application.webhook_http import (
    CONNECTION_FAILED,
    SECRET_MISSING,
    SUBSCRIBER_REVOKED,
    TARGET_REFUSED,
    UNRESOLVABLE,
    VOCABULARY,
    DeliveryError,
    Sender,
    resolve,
)
from govflow.application.webhook_store import (
    DeliveryState,
    Failure,
    InMemoryWebhookStore,
    Lease,
    LeaseLostError,
    WebhookStore,
    postgres_webhook_store,
    sqlite_webhook_store,
)
from govflow.domain.access import AccessToken, HolderKind, Scope, token_uuid
from govflow.domain.base import event_classes
from govflow.domain.errors import ForbiddenError, NotFoundError
from govflow.domain.policy import Action, Principal, authorize
from govflow.domain.webhook import Subscription, TargetRefusedError, fingerprint

logger = logging.getLogger("govflow.webhooks")

BATCH = 100
FIRST_RETRY = timedelta(seconds=1)
LONGEST_RETRY = timedelta(minutes=5)
DELIVERY_THREADS = 8  # subscriptions delivered at once (each holds one database connection)
COUNCIL_THREADS = 2  # of which at most this many for one council's subscriptions
# Subscriptions one process holds at most (delivering or waiting for a thread): a backlog beyond
# that is left to the other processes rather than leased to the first one to look.
LEASE_AHEAD = 4 * DELIVERY_THREADS
TURN_EVENTS = 20  # events one subscription delivers before it lets the next one have a turn
TURN_SECONDS = 10.0  # ... or after this long, whichever comes first
ALLOW_HOSTS = "GOVFLOW_WEBHOOK_ALLOW_HOSTS"  # host names an operator lets webhooks reach inside
LEASE_SECONDS = "GOVFLOW_WEBHOOK_LEASE_SECONDS"  # how long a process holds a subscription
# Longer than a request may take (10 s) between two renewals, with room for a busy database.
DEFAULT_LEASE_SECONDS = 60.0
_WEBHOOK_SEALED = "aesgcm:"
_HTTP_STATUS = re.compile(r"http_status:\d{3}")


def backoff(attempts: int) -> timedelta:
    """The wait after ``attempts`` consecutive failures: 1 s, 2 s, 4 s ... at most 5 min."""
    delay: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_RETRY)
    return delay


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str, *, now: float, tolerance: float = 300
) -> bool:
    """For receivers: whether ``header`` signs ``body`` with ``secret``, made recently."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def public_error(error: str | None) -> str | None:
    """A delivery error as it may be shown: a word of the fixed vocabulary or an HTTP status
    (errors stored before there was a vocabulary read ``failed``; ``unresolvable``, stored
    before it was told apart from nothing, reads ``target_refused``)."""
    if error == UNRESOLVABLE:
        return TARGET_REFUSED
    if error is None or error in VOCABULARY or _HTTP_STATUS.fullmatch(error):
        return error
    return "failed"


def published_topics() -> tuple[str, ...]:
    """Every topic a subscription without topics gets."""
    return tuple(t for t in event_classes() if is_public_topic(t))


# What one delivery turn gives back: events delivered, and whether more are waiting.
Turn = tuple[int, bool]


@dataclass
class _Job:
    """One subscription's delivery: turns taken until it is caught up or fails."""

    subscription_id: UUID
    council: str
    turn: Callable[[], Turn]
    release: Callable[[], None] | None = None  # called once the delivery ends
    future: Future[int] = field(default_factory=Future)
    delivered: int = 0

    def released(self) -> None:
        if self.release is None:
            return
        try:
            self.release()
        except Exception:  # the lease expires on its own
            logger.exception("releasing webhook %s failed", self.subscription_id)


class Deliveries:
    """The delivery threads, shared fairly: at most one turn running per subscription, at most
    :data:`COUNCIL_THREADS` per council, and a subscription with more to deliver after its
    turn goes to the back of the queue (round-robin). A turn is bounded (:data:`TURN_EVENTS`,
    :data:`TURN_SECONDS`), so however slow one council's receivers are, the other councils'
    subscriptions get threads, and the council's own other subscriptions get turns."""

    def __init__(self, threads: int = DELIVERY_THREADS, per_council: int = COUNCIL_THREADS) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="govflow-webhook")
        self.threads, self.per_council = threads, per_council
        self._lock = threading.Lock()
        self._jobs: dict[UUID, _Job] = {}  # queued or running
        self._queue: deque[_Job] = deque()  # waiting for a thread, in turn order
        self._busy: Counter[str] = Counter()  # turns running, by council
        self._closed = False
        self.gone: set[UUID] = set()  # unsubscribed: never delivered again

    @property
    def closed(self) -> bool:
        return self._closed

    def delivering(self) -> set[UUID]:
        """The subscriptions whose delivery is queued or running here."""
        with self._lock:
            return set(self._jobs)

    def start(
        self,
        subscription_id: UUID,
        council: str,
        turn: Callable[[], Turn],
        release: Callable[[], None] | None = None,
    ) -> Future[int] | None:
        """Queue ``turn`` for this subscription unless its delivery is already queued or
        running; the future ends (with the events delivered) when a turn says nothing more is
        waiting, or fails, after ``release`` is called."""
        with self._lock:
            if self._closed or subscription_id in self._jobs:
                return None
            job = _Job(subscription_id, council, turn, release)
            self._jobs[subscription_id] = job
            self._queue.append(job)
        self._dispatch()
        return job.future

    def _dispatch(self) -> None:
        """Give free threads to the first queued jobs whose council has a thread to spare."""
        chosen: list[_Job] = []
        with self._lock:
            while not self._closed and sum(self._busy.values()) < self.threads:
                job = next(
                    (j for j in self._queue if self._busy[j.council] < self.per_council), None
                )
                if job is None:
                    break
                self._queue.remove(job)
                self._busy[job.council] += 1
                chosen.append(job)
        for job in chosen:
            try:
                self.pool.submit(self._run, job)
            except RuntimeError:  # shut down
                self._end(job, None)

    def _run(self, job: _Job) -> None:
        try:
            delivered, more = job.turn()
        except Exception as error:  # reported; the delivery ends, the thread goes on
            self._end(job, error)
            return
        job.delivered += delivered
        if not more:
            self._end(job, None)
            return
        with self._lock:
            self._busy[job.council] -= 1
            if self._closed:
                more = False
            else:
                self._queue.append(job)  # behind the others
        if not more:
            self._end(job, None, busy=False)
        self._dispatch()

    def _end(self, job: _Job, error: Exception | None, *, busy: bool = True) -> None:
        # the lease goes before the job: released after, it could be the lease of a new delivery
        # of the same subscription started here meanwhile, which another process would then take
        # while that delivery is posting
        job.released()
        with self._lock:
            self._jobs.pop(job.subscription_id, None)
            if busy:
                self._busy[job.council] -= 1
        if error is not None:
            logger.error("delivering webhook %s failed", job.subscription_id, exc_info=error)
            job.future.set_exception(error)
        else:
            job.future.set_result(job.delivered)
        self._dispatch()

    def close(self) -> None:
        """Stop: no new turn starts, queued deliveries end with what they delivered."""
        with self._lock:
            self._closed = True
            queued = list(self._queue)
            self._queue.clear()
            for job in queued:
                self._jobs.pop(job.subscription_id, None)
        for job in queued:
            job.released()
            job.future.set_result(job.delivered)
        self.pool.shutdown(wait=False, cancel_futures=True)


class WebhookDelivery(ListingCases, GovernanceCore):
    """Delivery of every subscription, their secrets and their progress (the side store)."""

    _webhook_store: WebhookStore | None = None
    _deliveries: Deliveries | None = None
    _deliveries_lock = threading.Lock()
    _webhook_lease: Lease | None = None

    @property
    def webhook_store(self) -> WebhookStore:
        if self._webhook_store is None:
            in_memory: Callable[[], WebhookStore] = InMemoryWebhookStore
            self._webhook_store = self.side_store(
                sqlite_webhook_store, postgres_webhook_store, in_memory
            )
        return self._webhook_store

    @property
    def webhook_lease(self) -> Lease:
        """This instance's hold on the subscriptions it delivers (its own holder id, so two
        instances in one process are two holders)."""
        with self._deliveries_lock:  # one holder id per instance, whichever thread asks first
            if self._webhook_lease is None:
                seconds = float(self.env.get(LEASE_SECONDS) or DEFAULT_LEASE_SECONDS)
                holder = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
                self._webhook_lease = Lease(holder, seconds)
            return self._webhook_lease

    @property
    def webhook_allowed_hosts(self) -> frozenset[str]:
        """The host names the operator lets webhooks reach whatever they resolve to."""
        listed = (self.env.get(ALLOW_HOSTS) or "").split(",")
        return frozenset(h.strip().strip("[]").rstrip(".").lower() for h in listed if h.strip())

    # -- secrets ------------------------------------------------------------------------------

    def _seal_webhook_secret(self, secret: str) -> str:
        cipher = self.mapper.cipher
        if cipher is None:
            return secret
        return _WEBHOOK_SEALED + b64encode(cipher.encrypt(secret.encode())).decode()

    def _webhook_secret(self, subscription_id: UUID) -> str | None:
        """The signing secret: kept beside the log, or, for a subscription recorded before
        that, in its first event (version 1)."""
        sealed = self.webhook_store.secret(str(subscription_id))
        if sealed is not None and sealed.startswith(_WEBHOOK_SEALED):
            cipher = self.mapper.cipher
            try:
                assert cipher is not None, "sealed under a cipher key that is not set"
                return cipher.decrypt(b64decode(sealed[len(_WEBHOOK_SEALED) :])).decode()
            except Exception:
                logger.exception("cannot unseal the secret of webhook %s", subscription_id)
                return None
        if sealed is not None:
            return sealed
        for stored in self.recorder.select_events(subscription_id, limit=1):
            secret = orjson.loads(self.payload(stored.state, stored.topic)).get("secret")
            return secret if isinstance(secret, str) else None
        return None

    # -- delivery -----------------------------------------------------------------------------

    @property
    def deliveries(self) -> Deliveries:
        with self._deliveries_lock:
            if self._deliveries is None:
                self._deliveries = Deliveries()
            return self._deliveries

    def deliver_webhooks(self, send: Sender, *, wait_at_most: float | None = None) -> int:
        """Start a delivery for every active subscription that is due, behind the log and not
        leased to another process, each on its own thread; wait for them (at most
        ``wait_at_most`` seconds: the rest go on, and their subscriptions are not started again
        until they end). Returns how many events the deliveries that ended delivered."""
        head = self.recorder.max_notification_id() or 0
        now = self.clock()
        due: dict[UUID, str] = {}
        webhooks = self.directory.webhooks()
        for sid in webhooks:
            if sid in self.deliveries.gone:
                continue
            state = self.webhook_store.kept_state(str(sid))
            if state is None:
                continue  # not ready: its cursor is kept before its event, so it is coming
            if state.position >= head:
                continue  # caught up: nothing to read
            if state.next_attempt_at is not None and state.next_attempt_at > now:
                continue  # backing off
            due[sid] = webhooks[sid]
        lease, store = self.webhook_lease, self.webhook_store
        delivering = self.deliveries.delivering()
        # renew the leases of those delivered here (waiting for a thread, or running), and take
        # no more than this process will get to soon
        taken = store.take_leases([str(sid) for sid in due if sid in delivering], lease)
        spare = LEASE_AHEAD - len(delivering)
        new = [str(sid) for sid in due if sid not in delivering]
        if new and spare > 0:
            taken |= store.take_leases(new, lease, limit=spare)
        started = []
        for sid, council in due.items():
            if str(sid) not in taken:
                continue  # another process is delivering it
            release = partial(store.release_lease, str(sid), lease.holder)
            turn = partial(self._deliver, sid, send, head)
            future = self.deliveries.start(sid, council, turn, release)
            if future is not None:
                started.append(future)
            elif self.deliveries.closed:
                release()  # else it is being delivered here already, under the same lease
        done, _ = wait(started, timeout=wait_at_most)
        return sum(f.result() for f in done)

    def _deliver(self, sid: UUID, send: Sender, head: int) -> Turn:
        """One turn of a subscription's delivery, while this process holds its lease: a turn
        ends, delivering nothing more, once another process has taken the subscription."""
        try:
            if not self.webhook_store.renew_lease(str(sid), self.webhook_lease):
                logger.info("webhook %s is delivered by another process now", sid)
                return 0, False
            return self._turn(sid, send, head)
        except LeaseLostError:
            logger.warning("webhook %s was taken by another process; stopping here", sid)
            return 0, False

    def _turn(self, sid: UUID, send: Sender, head: int) -> Turn:
        """One turn of a subscription's delivery towards the log's head: until a failure, or
        :data:`TURN_EVENTS` events, or :data:`TURN_SECONDS` (then it says more is waiting
        and goes behind the others). The subscription and its subscriber are checked again
        at every turn; every save of the cursor renews the lease."""
        started = time.monotonic()
        subscription = self._get(Subscription, sid, "webhook subscription")
        store, lease = self.webhook_store, self.webhook_lease
        state = store.state(str(sid))
        if not subscription.active:
            self.deliveries.gone.add(sid)  # unsubscribing is for good
            return 0, False
        if self._subscriber_revoked(subscription):
            self._failed(state, SUBSCRIBER_REVOKED, state.position + 1)
            return 0, False
        topics = tuple(sorted(subscription.topics)) or published_topics()
        delivered = 0
        while True:
            events = self.read_feed(state.position, BATCH, topics)
            directory = self.directory  # caught up past the batch just read
            directory.prime([e.aggregate_id.hex for e in events])
            moved = state
            for event in events:
                if directory.council_of(event) != subscription.council:
                    moved = replace(moved, position=event.id)
                    continue
                if self.deliveries.closed:  # stopping: save the cursor and let go
                    if moved != state:
                        store.save(moved, lease)
                    return delivered, False
                if delivered >= TURN_EVENTS or time.monotonic() - started >= TURN_SECONDS:
                    if moved != state:
                        store.save(moved, lease)
                    return delivered, True  # the turn is over: the others' turn
                error = self._post(subscription, event, send)
                now = self.clock()
                if error is not None:
                    self._failed(moved, error, event.id)
                    return delivered, False
                moved = replace(
                    moved,
                    position=event.id,
                    delivered=moved.delivered + 1,
                    attempts=0,
                    next_attempt_at=None,
                    last_error=None,
                    last_attempt_at=now,
                    last_delivered_at=now,
                )
                store.save(moved, lease)  # before the next request: a crash re-sends one
                state = moved
                delivered += 1
            if len(events) < BATCH:  # nothing more of its topics up to the head
                moved = replace(moved, position=max(moved.position, head))
            if moved != state:
                store.save(moved, lease)
                state = moved
            if len(events) < BATCH:
                return delivered, False
            if time.monotonic() - started >= TURN_SECONDS:
                return delivered, True

    def _failed(self, state: DeliveryState, error: str, notification_id: int) -> None:
        """Record a failed attempt at ``notification_id`` and back off."""
        now = self.clock()
        attempts = state.attempts + 1
        self.webhook_store.save(
            replace(
                state,
                attempts=attempts,
                next_attempt_at=now + backoff(attempts),
                last_error=error,
                last_attempt_at=now,
            ),
            self.webhook_lease,
        )
        self.webhook_store.add_failure(Failure(state.subscription_id, now, notification_id, error))

    def _subscriber_revoked(self, subscription: Subscription) -> bool:
        """Whether whoever made the subscription has lost access to the council's events: the
        token they subscribed with revoked, the member gone (or the member id enrolled again
        for someone else), or the policy no longer letting them read. A subscription that
        records no subscriber (older, or made by an operator's tool) is not checked."""
        who = subscription.subscriber
        if who is None:
            return False
        code = subscription.council
        scopes: frozenset[Scope] = frozenset()
        if who.token is not None:
            try:
                token = self._get(AccessToken, token_uuid(who.token), "token")
            except NotFoundError:
                return True
            if token.revoked or token.council != code or token.holder != who.holder:
                return True
            scopes = frozenset(token.scopes)
        try:
            if who.kind == HolderKind.INTEGRATION.value:
                if who.token is None:
                    return False  # nothing recorded to check it against
                principal = Principal(code, who.holder, HolderKind.INTEGRATION, scopes=scopes)
            else:
                council = self.council_to_read(code)
                member = council.members.get(who.holder)
                if member is None:
                    return True
                if who.enrolment is not None and member.enrolment != who.enrolment:
                    return True
                principal = principal_of(council, who.holder, member)
            authorize(principal, Action.READ, code)
        except (ForbiddenError, NotFoundError):
            return True
        return False

    def delivery_body(self, subscription: Subscription, event: FeedEvent) -> bytes:
        """The body posted for ``event``: what a receiver sees of it (the one place that
        renders a delivery)."""
        return orjson.dumps({"council": subscription.council, **event.model_dump(mode="json")})

    def _post(self, subscription: Subscription, event: FeedEvent, send: Sender) -> str | None:
        """Post one event; None on a 2xx answer, else the error in the fixed vocabulary."""
        secret = self._webhook_secret(subscription.id)
        if secret is None or fingerprint(secret) != subscription.secret_fingerprint:
            return SECRET_MISSING  # not the secret its subscriber was given: sign nothing
        body = self.delivery_body(subscription, event)
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "govflow-webhooks",
            "Govflow-Delivery": str(event.id),
            "Govflow-Event": event.topic,
            "Govflow-Subscription": str(subscription.id),
            "Govflow-Signature": signature(secret, timestamp, body),
        }
        try:
            target = resolve(subscription.url, self.webhook_allowed_hosts)
        except (TargetRefusedError, DeliveryError):
            # one word for a name that resolves to nothing and one that resolves inside: the
            # status must not tell someone probing names which of them exist inside
            return TARGET_REFUSED
        try:
            status = send(target, body, headers)
        except TargetRefusedError:
            return TARGET_REFUSED
        except DeliveryError as error:
            return error.reason
        except Exception:  # a defect: in the log for the operator, retried like a failure
            logger.exception("posting webhook %s failed", subscription.id)
            return CONNECTION_FAILED
        return None if 200 <= status < 300 else f"http_status:{status}"

    def close(self) -> None:
        with self._deliveries_lock:
            if self._deliveries is not None:
                self._deliveries.close()
        super().close()
