"""Webhook endpoints, deliveries and their retries.

`WebhookService` is the one face of the package: owner-facing calls (endpoints, delivery logs,
test events, the account signing secret) take the acting `Principal` and see only what is
theirs; `start`/`stop` run the bus listener and the delivery workers with the job workers.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from clipmill.accounts.principal import Principal
from clipmill.accounts.vault import SecretBox
from clipmill.clock import Clock, SystemClock
from clipmill.config import Settings
from clipmill.events.bus import EventBus
from clipmill.jobs.models import new_id
from clipmill.jobs.service import CreateCheck
from clipmill.media.netguard import NetGuard
from clipmill.storage.signing import load_or_create_secret
from clipmill.webhooks.dispatcher import Dispatcher, Target
from clipmill.webhooks.endpoints import EndpointStore
from clipmill.webhooks.outbox import Claimed, Outbox, Receiver
from clipmill.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
    EndpointSecretOut,
    SigningSecretOut,
    WebhookEvent,
)
from clipmill.webhooks.sender import Outcome, WebhookSender
from clipmill.webhooks.signing import account_secret
from clipmill.webhooks.targets import check_webhook_url, job_option_check
from clipmill.webhooks.triggers import JobEventTrigger


class WebhookService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        bus: EventBus,
        box: SecretBox,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.bus = bus
        self.box = box
        self.clock = clock or SystemClock()
        self.guard = NetGuard.from_settings(settings)
        self._server_secret = settings.secret_key or load_or_create_secret(settings.data_dir)
        self.outbox = Outbox(sessions, self.clock)
        self.endpoints = EndpointStore(sessions, box, self.clock)
        self.dispatcher = Dispatcher(
            self.outbox,
            WebhookSender(self.guard, timeout=settings.webhook_timeout_seconds),
            self._resolve,
            self.clock,
            max_attempts=settings.webhook_max_attempts,
            backoff_base=settings.webhook_backoff_seconds,
            workers=settings.webhook_workers,
            lease=settings.webhook_timeout_seconds * 2 + 30,
        )
        self._unsubscribe: Callable[[], None] | None = None

    @staticmethod
    def option_check(settings: Settings) -> CreateCheck:
        """The `JobService` check of a new job's ``webhook_url``."""
        return job_option_check(NetGuard.from_settings(settings))

    # -- running --------------------------------------------------------------------------------
    def start(self) -> None:
        """Begin delivering (subscribe to job events, start the retry loop)."""
        if self._unsubscribe is None:
            trigger = JobEventTrigger(self.sessions, self.outbox, self.endpoints, self.wake)
            self._unsubscribe = self.bus.add_listener(trigger, local_only=True)
        self.dispatcher.start()  # resumes what an earlier run left pending

    def stop(self) -> None:
        """Stop delivering; what is not delivered yet stays in the log for the next start."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.dispatcher.stop()

    def wake(self) -> None:
        """Look for due deliveries now (after queueing one, or after moving a test clock)."""
        self.dispatcher.wake()

    # -- endpoints ------------------------------------------------------------------------------
    def create_endpoint(self, owner: Principal, request: EndpointIn) -> EndpointSecretOut:
        check_webhook_url(self.guard, request.url)
        return self.endpoints.create(owner.user_id, request)

    def list_endpoints(self, owner: Principal) -> list[EndpointOut]:
        return self.endpoints.list_for(owner.user_id)

    def get_endpoint(self, owner: Principal, endpoint_id: str) -> EndpointOut:
        return self.endpoints.get(owner.user_id, endpoint_id)

    def update_endpoint(
        self, owner: Principal, endpoint_id: str, patch: EndpointPatch
    ) -> EndpointOut:
        self.endpoints.get(owner.user_id, endpoint_id)  # a stranger's id: 404 before a 422
        if patch.url is not None:
            check_webhook_url(self.guard, patch.url)
        return self.endpoints.update(owner.user_id, endpoint_id, patch)

    def rotate_secret(self, owner: Principal, endpoint_id: str) -> EndpointSecretOut:
        return self.endpoints.rotate(owner.user_id, endpoint_id)

    def delete_endpoint(self, owner: Principal, endpoint_id: str) -> None:
        self.endpoints.delete(owner.user_id, endpoint_id)

    def send_test(self, owner: Principal, endpoint_id: str) -> DeliveryOut:
        """Queue a ``ping`` to the endpoint (sent even while it is switched off)."""
        endpoint = self.endpoints.get(owner.user_id, endpoint_id)
        receiver = Receiver(owner_id=owner.user_id, url=endpoint.url, endpoint_id=endpoint.id)
        data = {"webhook": {"id": endpoint.id, "events": [e.value for e in endpoint.events]}}
        delivery = self.outbox.add(new_id(), receiver, WebhookEvent.PING, data)
        assert delivery is not None  # a fresh random id cannot exist yet
        self.wake()
        return delivery

    # -- logs -----------------------------------------------------------------------------------
    def endpoint_deliveries(
        self, owner: Principal, endpoint_id: str, *, limit: int = 50, offset: int = 0
    ) -> DeliveryPage:
        self.endpoints.get(owner.user_id, endpoint_id)
        return self.outbox.page(owner.user_id, endpoint_id=endpoint_id, limit=limit, offset=offset)

    def job_deliveries(
        self, owner_id: str, job_id: str, *, limit: int = 50, offset: int = 0
    ) -> DeliveryPage:
        """Deliveries to a job's own ``webhook_url``; the caller has checked the job is theirs
        (``owner_id`` is the job's owner)."""
        return self.outbox.page(owner_id, job_id=job_id, limit=limit, offset=offset)

    def delivery(self, owner: Principal, delivery_id: str) -> DeliveryOut:
        return self.outbox.get(owner.user_id, delivery_id)

    # -- signing --------------------------------------------------------------------------------
    def signing_secret(self, owner: Principal) -> SigningSecretOut:
        """The secret that signs deliveries to the ``webhook_url`` of ``owner``'s jobs."""
        return SigningSecretOut(secret=self.account_secret(owner.user_id))

    def account_secret(self, owner_id: str) -> str:
        return account_secret(self._server_secret, owner_id)

    def _resolve(self, claimed: Claimed) -> Target | Outcome:
        if claimed.endpoint_id is None:
            return Target(url=claimed.url, secret=self.account_secret(claimed.owner_id))
        found = self.endpoints.target(claimed.endpoint_id)
        if found is None:
            return Outcome(error="endpoint_deleted: the webhook was deleted.", retry=False)
        url, secret, active = found
        if not active and claimed.event != WebhookEvent.PING.value:
            return Outcome(error="endpoint_disabled: the webhook is switched off.", retry=False)
        return Target(url=url, secret=secret)
