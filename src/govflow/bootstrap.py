"""The composition root: one ``Settings`` (``GOVFLOW_`` environment) wires everything.

The application is imported when it is built, not with the settings: the CLI's person commands
read the settings but never open the store, and start faster without it.
"""

from __future__ import annotations

from base64 import b64decode
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from govflow.application import Governance
    from govflow.application.evidence_store import EvidenceStore
    from govflow.application.notification_channels import Channel
    from govflow.application.notification_sending import NotifierConfig
    from govflow.application.oidc import OidcConfig
    from govflow.application.procedures import ProcedureLibrary
    from govflow.domain.calendar import HolidayCalendar
    from govflow.transparency import Signer, Verifier

DEFAULT_SECRETS = frozenset(
    {"change-me", "postgres", "govflow", "password", "change-me-to-32-or-more-random-characters"}
)


class Settings(BaseSettings):
    """Every setting govflow reads, validated at start-up."""

    model_config = SettingsConfigDict(env_prefix="GOVFLOW_", extra="ignore")

    environment: Literal["development", "production"] = "development"
    log_format: Literal["json", "console"] | None = None  # default: json in production
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    persistence: Literal["sqlite", "postgres", "memory"] = "sqlite"
    data_dir: Path = Path("var")
    # Where uploaded files (meeting evidence, 委托书 scans, progress photos) are kept by sha256:
    # `directory` (DATA_DIR/evidence, this host's disk) or `database` (beside the events, in the
    # same database, so that API processes on several hosts serve the same files).
    evidence_store: Literal["directory", "database"] = "directory"
    sqlite_path: Path | None = None
    postgres_dbname: str = "govflow"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = Field(default=5432, ge=1, le=65535)
    postgres_user: str = "postgres"
    postgres_password: SecretStr = SecretStr("")
    postgres_pool_size: int = Field(default=5, ge=1)
    # Procedures and calendars added to the shipped presets (a file with a preset's name and
    # version replaces it); unset: the presets alone.
    workflows_dir: Path | None = None
    temporal_address: str | None = None  # an external Temporal; unset: the embedded dev server
    temporal_namespace: str = "default"
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=0, le=65535)
    task_queue: str = "govflow"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    # Where readers reach the server (behind a proxy: its public address). Absolute links, such
    # as the board's Atom feeds, are built on it, never on a request's Host header. Unset:
    # http://HTTP_HOST:HTTP_PORT (127.0.0.1 for a server listening on every address).
    public_url: AnyHttpUrl | None = None
    # Deliver webhooks from this API process (any number of them: each subscription is leased to
    # one process at a time).
    webhooks_enabled: bool = True
    # How long a delivering process holds a subscription without renewing it (it renews at every
    # event): a process that dies leaves its subscriptions to the others after this long. Longer
    # than a request may take (10 s).
    webhook_lease_seconds: float = Field(default=60, ge=15, le=3600)
    # Host names (comma-separated) webhooks may reach although they resolve inside the network
    # (loopback, private, link-local ...); unset: every such target is refused.
    webhook_allow_hosts: str = ""
    # Telling people (送达) from this API process, like webhooks: new notices to followers,
    # answers to objectors, reminders before deadlines.
    notify_enabled: bool = True
    # Remind those who still have to act this many hours before a deadline.
    notify_lead_hours: float = Field(default=24, gt=0, le=24 * 60)
    # Rounds of attempts over a person's channels before the board tells them instead.
    notify_attempts: int = Field(default=3, ge=1, le=20)
    # E-mail through this SMTP server; unset: no e-mail.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "govflow@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # An SMS or WeChat gateway: signed JSON POSTed here (its host is allowed by name even
    # inside the network); unset: no gateway. Needs NOTIFY_GATEWAY_SECRET.
    notify_gateway_url: AnyHttpUrl | None = None
    notify_gateway_secret: SecretStr | None = None
    # The key API tokens are stored under (HMAC-SHA256); required in production.
    token_key: SecretStr | None = None
    # Demo mode (`govflow up --demo`): the API may fast-forward an item's clock.
    demo: bool = False
    # Encrypt every event payload at rest (AES-256-GCM); unset: payloads are stored in clear.
    cipher_key: SecretStr | None = None
    # Every checkpoint digest ever handed out, appended to a file outside the event store;
    # verification holds the chain to it. Unset: published-digests.txt in the data directory.
    published_digests: Path | None = None
    # The verifiable log's signing key (Ed25519, a signed-note signer key
    # PRIVATE+KEY+<name>+<id>+<key>; its name is the log's origin): checkpoints of the Merkle
    # tree over the log are signed with it. `govflow keys new` makes one. Unset: no sealing.
    log_signing_key: SecretStr | None = None
    # The log's public key (name+id+key, as `govflow keys new` prints it), for processes that
    # do not hold the signing key (API processes): the board shows it. Unset: the signing key's.
    log_public_key: str | None = None
    # The witnesses the council expects (comma-separated public keys, as `govflow witness keys`
    # prints them): the API keeps cosignatures of checkpoints by these keys only, and the board
    # shows which of them co-signed each checkpoint. Unset: none.
    log_witnesses: str = ""
    # How many of those witnesses must co-sign a checkpoint before the board and the API mark
    # it as witnessed (final); 0: every checkpoint is (no minimum).
    log_min_witnesses: int = Field(default=0, ge=0, le=100)
    # Sign-in with the city's identity provider (OpenID Connect), beside the invitation links:
    # its issuer URL (https), and govflow's client id and secret there; all three or none.
    # The pending sign-in is sealed under a key derived from TOKEN_KEY (several API processes
    # need TOKEN_KEY set, or a sign-in must come back to the process it left).
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # The ID token's claim whose value is the member id on the roll.
    oidc_member_claim: str = Field(default="preferred_username", min_length=1)
    # A claim naming the member's council (its code); unset: the person chooses the council.
    oidc_council_claim: str | None = None

    @field_validator("oidc_issuer", "oidc_client_id", "oidc_council_claim", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("oidc_issuer")
    @classmethod
    def _a_trusted_issuer(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from govflow.application.oidc import check_issuer
        from govflow.domain.errors import GovflowError

        try:
            return check_issuer(value)
        except GovflowError as refused:
            raise ValueError(refused.message) from None

    @field_validator("cipher_key")
    @classmethod
    def _a_real_aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            try:
                raw = b64decode(value.get_secret_value(), validate=True)
            except ValueError:
                raise ValueError("must be base64 (make one with `govflow keys new`)") from None
            if len(raw) not in (16, 24, 32):
                raise ValueError("must be 16, 24 or 32 bytes, base64 encoded (32 advised)")
        return value

    @field_validator("log_signing_key")
    @classmethod
    def _a_note_signer_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        from govflow.transparency import Signer, TransparencyError

        try:
            Signer.from_skey(value.get_secret_value().strip())
        except TransparencyError as error:
            raise ValueError(f"{error.message} (make one with `govflow keys new`)") from None
        return SecretStr(value.get_secret_value().strip())

    @field_validator("log_public_key")
    @classmethod
    def _a_note_verifier_key(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from govflow.transparency import TransparencyError, Verifier

        try:
            return Verifier.from_vkey(value.strip()).vkey
        except TransparencyError as error:
            raise ValueError(f"{error.message} (the log's public key: name+id+key)") from None

    @field_validator("log_witnesses")
    @classmethod
    def _witness_keys(cls, value: str) -> str:
        from govflow.transparency import TransparencyError, verifier_from_vkey

        keys = [k.strip() for k in value.split(",") if k.strip()]
        for key in keys:
            try:
                verifier_from_vkey(key)
            except TransparencyError as error:
                raise ValueError(f"{key[:40]}: {error.message}") from None
        return ",".join(keys)

    @field_validator("workflows_dir")
    @classmethod
    def _an_existing_directory(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a directory")
        return value

    @model_validator(mode="after")
    def _production_is_explicit(self) -> Settings:
        if self.environment != "production":
            return self
        if self.persistence == "memory":
            raise ValueError("GOVFLOW_PERSISTENCE=memory loses everything: not in production")
        if self.persistence == "postgres" and not self.postgres_password.get_secret_value():
            raise ValueError("set GOVFLOW_POSTGRES_PASSWORD: production refuses an empty one")
        if self.postgres_password.get_secret_value() in DEFAULT_SECRETS:
            raise ValueError("GOVFLOW_POSTGRES_PASSWORD is the example's: change it")
        key = self.token_key.get_secret_value() if self.token_key else ""
        if not key:
            raise ValueError(
                "set GOVFLOW_TOKEN_KEY (32+ random characters): tokens are hashed with it"
            )
        if key in DEFAULT_SECRETS or len(key) < 32:
            raise ValueError("GOVFLOW_TOKEN_KEY is the example's or shorter than 32 characters")
        return self

    @model_validator(mode="after")
    def _gateway_is_signed(self) -> Settings:
        secret = self.notify_gateway_secret
        if self.notify_gateway_url is not None and not (secret and secret.get_secret_value()):
            raise ValueError("set GOVFLOW_NOTIFY_GATEWAY_SECRET: gateway requests are signed")
        return self

    @model_validator(mode="after")
    def _oidc_is_complete(self) -> Settings:
        secret = self.oidc_client_secret.get_secret_value() if self.oidc_client_secret else ""
        given = [bool(self.oidc_issuer), bool(self.oidc_client_id), bool(secret)]
        if any(given) and not all(given):
            raise ValueError(
                "set GOVFLOW_OIDC_ISSUER, GOVFLOW_OIDC_CLIENT_ID and GOVFLOW_OIDC_CLIENT_SECRET "
                "together (or none of them)"
            )
        return self

    @property
    def published_digests_file(self) -> Path | None:
        if self.persistence == "memory":
            return self.published_digests
        return self.published_digests or self.data_dir / "published-digests.txt"

    @property
    def public_base_url(self) -> str:
        """``public_url`` without its trailing slash, or this server's own address."""
        if self.public_url is not None:
            return str(self.public_url).rstrip("/")
        host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.http_host, self.http_host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.http_port}"

    @property
    def events_db(self) -> Path:
        return self.sqlite_path or self.data_dir / "events.db"

    def eventsourcing_env(self) -> dict[str, str]:
        """The environment eventsourcing's persistence modules read."""
        return {**self._store_env(), **cipher_env(self.cipher_key)}

    def _store_env(self) -> dict[str, str]:
        if self.persistence == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.persistence == "sqlite":
            self.events_db.parent.mkdir(parents=True, exist_ok=True)
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.events_db),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": self.postgres_dbname,
            "POSTGRES_HOST": self.postgres_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_USER": self.postgres_user,
            "POSTGRES_PASSWORD": self.postgres_password.get_secret_value(),
            "POSTGRES_POOL_SIZE": str(self.postgres_pool_size),
            "POSTGRES_PRE_PING": "y",  # a restarted server's dead connections are replaced
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }


def cipher_env(key: SecretStr | None) -> dict[str, str]:
    """eventsourcing's settings for AES-GCM payload encryption under ``key`` (none if unset)."""
    if key is None or not key.get_secret_value():
        return {}
    return {"CIPHER_TOPIC": "eventsourcing.cipher:AESCipher", "CIPHER_KEY": key.get_secret_value()}


def build_governance(settings: Settings | None = None) -> Governance:
    from govflow.application import Governance

    settings = settings or Settings()
    return Governance(
        {
            **settings.eventsourcing_env(),
            "GOVFLOW_WEBHOOK_ALLOW_HOSTS": settings.webhook_allow_hosts,
            "GOVFLOW_WEBHOOK_LEASE_SECONDS": str(settings.webhook_lease_seconds),
        },
        holiday_calendar=build_calendar(settings),
        token_key=settings.token_key.get_secret_value() if settings.token_key else None,
        published_digests=settings.published_digests_file,
    )


def build_evidence(settings: Settings, app: Governance) -> EvidenceStore:
    """Where uploaded files are kept: ``DATA_DIR/evidence`` or ``app``'s own database."""
    from govflow.application.evidence_store import DirectoryEvidence, database_evidence

    if settings.evidence_store == "database":
        return database_evidence(app)
    return DirectoryEvidence(settings.data_dir / "evidence")


def build_log_signer(settings: Settings) -> Signer | None:
    """The verifiable log's signer, if a key is set (its name is the log's origin)."""
    if settings.log_signing_key is None:
        return None
    from govflow.transparency import Signer

    return Signer.from_skey(settings.log_signing_key.get_secret_value())


def build_log_public_key(settings: Settings) -> str | None:
    """The log's public key to show: LOG_PUBLIC_KEY, else the signing key's."""
    if settings.log_public_key is not None:
        return settings.log_public_key
    signer = build_log_signer(settings)
    return signer.verifier.vkey if signer is not None else None


def build_log_witnesses(settings: Settings) -> list[Verifier]:
    """The public keys of the witnesses the council expects (LOG_WITNESSES)."""
    from govflow.transparency import verifier_from_vkey

    return [verifier_from_vkey(k) for k in settings.log_witnesses.split(",") if k.strip()]


def build_channels(settings: Settings) -> list[Channel]:
    """The notification channels configured: e-mail, then the gateway (a person is tried on
    each of theirs in this order)."""
    from govflow.application.notification_channels import (
        EmailChannel,
        GatewayChannel,
        SmtpConfig,
    )

    channels: list[Channel] = []
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        config = SmtpConfig(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            settings.smtp_starttls,
            settings.smtp_username,
            password,
        )
        channels.append(EmailChannel(config))
    if settings.notify_gateway_url is not None and settings.notify_gateway_secret is not None:
        channels.append(
            GatewayChannel(
                str(settings.notify_gateway_url),
                settings.notify_gateway_secret.get_secret_value(),
                allowed_hosts=frozenset(
                    h.strip().lower() for h in settings.webhook_allow_hosts.split(",") if h.strip()
                ),
            )
        )
    return channels


def build_notifier_config(settings: Settings) -> NotifierConfig:
    from datetime import timedelta

    from govflow.application.notification_sending import NotifierConfig

    return NotifierConfig(
        public_url=settings.public_base_url,
        lead=timedelta(hours=settings.notify_lead_hours),
        attempts=settings.notify_attempts,
    )


def build_oidc(settings: Settings) -> OidcConfig | None:
    """Sign-in with the city's identity provider, if configured."""
    if not (settings.oidc_issuer and settings.oidc_client_id and settings.oidc_client_secret):
        return None
    from govflow.application.oidc import OidcConfig, state_key_of

    return OidcConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        member_claim=settings.oidc_member_claim,
        council_claim=settings.oidc_council_claim,
        state_key=state_key_of(
            settings.token_key.get_secret_value() if settings.token_key else None
        ),
    )


def build_calendar(settings: Settings) -> HolidayCalendar:
    """Every holiday file in the presets' ``calendars/`` and ``GOVFLOW_WORKFLOWS_DIR``'s, merged."""
    from govflow.application.procedures import calendar_files, load_holidays
    from govflow.domain.calendar import HolidayCalendar

    holidays: set[date] = set()
    working: set[date] = set()
    for path in calendar_files(*procedure_dirs(settings)):
        calendar = load_holidays(path)
        holidays |= calendar.holidays
        working |= calendar.working_weekends
    return HolidayCalendar(frozenset(holidays), frozenset(working))


def procedure_dirs(settings: Settings) -> list[Path]:
    """The shipped presets, then ``GOVFLOW_WORKFLOWS_DIR`` (whose files win) if set."""
    from govflow.application.procedures import preset_dir

    return [preset_dir(), *([settings.workflows_dir] if settings.workflows_dir else [])]


def build_procedures(settings: Settings | None = None) -> ProcedureLibrary:
    from govflow.application.procedures import ProcedureLibrary

    return ProcedureLibrary(*procedure_dirs(settings or Settings()))
