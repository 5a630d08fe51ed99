"""Configuration from environment variables only.

Every setting is read here, once; a missing or malformed value stops start-up with one message that names
the variable. Secrets never have a default outside the embedded mode (`trede serve --embedded`), which keeps
a generated secret under ``var/``.
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TREDE_VAR_DIR", ROOT / "var"))


class ConfigError(Exception):
    """A setting is missing or malformed. ``str()`` is the one line shown to the operator."""

    def __init__(self, variable: str, problem: str):
        self.variable = variable
        super().__init__(f"Configuration error: {variable} {problem}")


@dataclass(frozen=True)
class OidcProvider:
    name: str
    issuer: str
    client_id: str
    client_secret: str | None = None
    kvk_claim: str = "urn:etoegang:core:LegalSubjectID"
    label: str = ""


@dataclass(frozen=True)
class Settings:
    environment: str  # "development" or "production"
    database_url: str
    broker_url: str
    storage_url: str
    smtp_url: str
    mail_from: str
    secret_key: str
    base_url: str
    tenants_dir: Path
    oidc_providers: tuple[OidcProvider, ...] = field(default_factory=tuple)
    upload_max_bytes: int = 100 * 1024 * 1024
    # The proxies whose X-Forwarded-For/-Proto are believed (IP addresses or networks); none by default, so a
    # client can never choose its own address (rate limits, the audit log's addresses).
    forwarded_allow_ips: tuple[str, ...] = ()
    # The scraper's bearer token for /metrics; without it /metrics answers 404 (the counts are not public).
    metrics_token: str = ""
    # OTEL_EXPORTER_OTLP_ENDPOINT: the OpenTelemetry collector (OTLP over HTTP); unset: no tracing (core/tracing.py)
    otel_endpoint: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def embedded_broker(self) -> bool:
        """The in-process broker of the embedded default: worker and scheduler run inside the web process."""
        return self.broker_url.startswith("stub://")

    @property
    def dev_mailbox(self) -> Path | None:
        """The folder of the development mailbox (``SMTP_URL=file://…``, development only): every outgoing mail
        is written there as a ``.eml`` file and listed on ``/ontwikkeling/post``."""
        parts = urlsplit(self.smtp_url)
        return Path(parts.path) if parts.scheme == "file" and not self.is_production else None

    @property
    def database_is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")


def _database_url(value: str) -> str:
    scheme = urlsplit(value).scheme
    if scheme == "sqlite":
        if not value.startswith("sqlite:///") or len(value) <= len("sqlite:///"):
            raise ConfigError("DATABASE_URL", f"must look like sqlite:///var/trede.sqlite3, got {value!r}")
        return value
    if scheme in ("postgres", "postgresql"):
        if not urlsplit(value).hostname and "host=" not in value:
            raise ConfigError("DATABASE_URL", f"has no host: {value!r}")
        return value
    raise ConfigError("DATABASE_URL", f"must start with sqlite:/// or postgres://, got {_redact(value)!r}")


def _broker_url(value: str) -> str:
    if urlsplit(value).scheme not in ("stub", "redis", "rediss", "amqp", "amqps"):
        raise ConfigError("BROKER_URL", f"must start with stub://, redis:// or amqp://, got {_redact(value)!r}")
    return value


def _storage_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "file":
        if not parts.path:
            raise ConfigError("STORAGE_URL", "must name a folder, e.g. file:///srv/trede/objects")
        return value
    if parts.scheme in ("s3", "s3+http", "s3+https"):
        if not parts.hostname:
            raise ConfigError("STORAGE_URL", "has no endpoint host, e.g. s3+https://KEY:SECRET@minio:9000/bucket")
        if not parts.path.strip("/"):
            raise ConfigError("STORAGE_URL", "has no bucket, e.g. s3+https://KEY:SECRET@minio:9000/trede-prod")
        if not parts.username or not parts.password:
            raise ConfigError("STORAGE_URL", "has no access key and secret (s3+https://KEY:SECRET@host/bucket)")
        return value
    raise ConfigError("STORAGE_URL", f"must start with file:// or s3+https:// (or s3+http://), got {parts.scheme!r}")


def _smtp_url(value: str, environment: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "file":  # the development mailbox: mail kept in a folder, sent to nobody
        if environment == "production":
            raise ConfigError("SMTP_URL", "file:// keeps mail in a folder and sends none: not in production")
        if not parts.path:
            raise ConfigError("SMTP_URL", "must name a folder, e.g. file:///srv/trede/var/mail")
        return value
    if parts.scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ConfigError("SMTP_URL", f"must start with smtp://, smtps:// or smtp+starttls://, got {parts.scheme!r}")
    if not parts.hostname:
        raise ConfigError("SMTP_URL", "has no host")
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError("SMTP_URL", f"has a malformed port: {exc}") from None
    return value


def _oidc_providers(value: str) -> tuple[OidcProvider, ...]:
    try:
        raw = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ConfigError("OIDC_PROVIDERS", f"is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(raw, list):
        raise ConfigError("OIDC_PROVIDERS", "must be a JSON list of objects with name, issuer and client_id")
    providers = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise ConfigError("OIDC_PROVIDERS", f"item {index} is not an object")
        missing = [key for key in ("name", "issuer", "client_id") if not item.get(key)]
        if missing:
            raise ConfigError("OIDC_PROVIDERS", f"item {index} lacks {', '.join(missing)}")
        unknown = set(item) - {"name", "issuer", "client_id", "client_secret", "kvk_claim", "label"}
        if unknown:
            raise ConfigError("OIDC_PROVIDERS", f"item {index} has unknown keys: {', '.join(sorted(unknown))}")
        if urlsplit(item["issuer"]).scheme not in ("http", "https"):
            raise ConfigError("OIDC_PROVIDERS", f"item {index}: issuer must be an http(s) URL")
        providers.append(OidcProvider(**item))
    names = [p.name for p in providers]
    if len(set(names)) != len(names):
        raise ConfigError("OIDC_PROVIDERS", "has two providers with the same name")
    return tuple(providers)


def _forwarded_allow_ips(value: str) -> tuple[str, ...]:
    entries = tuple(item.strip() for item in value.split(",") if item.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                "FORWARDED_ALLOW_IPS",
                f"must be a comma-separated list of the proxies' IP addresses or networks (e.g. 10.0.0.0/8), "
                f"got {entry!r}",
            ) from None
    return entries


def _metrics_token(value: str) -> str:
    if value and (len(value) < 24 or not value.isascii() or any(c.isspace() for c in value)):
        raise ConfigError(
            "METRICS_TOKEN",
            "must be at least 24 characters without spaces (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)",
        )
    return value


def _otel_endpoint(value: str) -> str:
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname):
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            f"must be the collector's OTLP/HTTP address, e.g. http://otel-collector:4318, got {_redact(value)!r}",
        )
    return value


def _int(variable: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(variable, f"must be a whole number, got {value!r}") from None
    if number < minimum:
        raise ConfigError(variable, f"must be at least {minimum}, got {number}")
    return number


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


def embedded_defaults(var_dir: Path = VAR_DIR) -> dict[str, str]:
    """Settings of the embedded default (`make run`): SQLite, objects on disk, in-process broker.

    The secret key is generated once and kept in ``var/secret_key`` so sessions survive a restart.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    production = os.environ.get("TREDE_ENV") == "production"  # `serve --embedded` in production mode
    secret_file = var_dir / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(48))
        secret_file.chmod(0o600)
    return {
        "TREDE_ENV": "development",
        "DATABASE_URL": f"sqlite:///{var_dir / 'trede.sqlite3'}",
        "BROKER_URL": "stub://",
        "STORAGE_URL": f"file://{var_dir / 'objects'}",
        # the development mailbox (/ontwikkeling/post); production refuses it, so there a local server is assumed
        "SMTP_URL": "smtp://127.0.0.1:1025" if production else f"file://{var_dir / 'mail'}",
        "MAIL_FROM": "Trede <noreply@trede.localhost>",
        "SECRET_KEY": secret_file.read_text().strip(),
        "BASE_URL": "http://127.0.0.1:8000",
    }


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if environ is None else environ)

    def required(name: str) -> str:
        value = env.get(name, "").strip()
        if not value:
            raise ConfigError(name, "is not set")
        return value

    environment = env.get("TREDE_ENV", "production").strip()
    if environment not in ("development", "production"):
        raise ConfigError("TREDE_ENV", f"must be development or production, got {environment!r}")
    secret_key = required("SECRET_KEY")
    if len(secret_key) < 32:
        raise ConfigError(
            "SECRET_KEY",
            "must be at least 32 characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)",
        )
    base_url = required("BASE_URL").rstrip("/")
    if urlsplit(base_url).scheme not in ("http", "https"):
        raise ConfigError("BASE_URL", f"must be an http(s) URL, got {base_url!r}")
    tenants_dir = Path(env.get("TENANTS_DIR", str(ROOT / "tenants")))
    return Settings(
        environment=environment,
        database_url=_database_url(required("DATABASE_URL")),
        broker_url=_broker_url(required("BROKER_URL")),
        storage_url=_storage_url(required("STORAGE_URL")),
        smtp_url=_smtp_url(required("SMTP_URL"), environment),
        mail_from=required("MAIL_FROM"),
        secret_key=secret_key,
        base_url=base_url,
        tenants_dir=tenants_dir,
        oidc_providers=_oidc_providers(env.get("OIDC_PROVIDERS", "[]")),
        upload_max_bytes=_int("UPLOAD_MAX_BYTES", env.get("UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)), 1),
        forwarded_allow_ips=_forwarded_allow_ips(env.get("FORWARDED_ALLOW_IPS", "")),
        metrics_token=_metrics_token(env.get("METRICS_TOKEN", "").strip()),
        otel_endpoint=_otel_endpoint(env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()),
    )


def storage_query(url: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}
