"""Settings from the environment (and an optional `.env`). A wrong value fails fast naming the setting.

Module-specific settings are looked up by module name (`<MODULE>_DATABASE_URL`, `<MODULE>_SERVICE_URL`) so
the kernel needs to know no module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kernel.http.client_address import Network, parse_networks

ENVIRONMENTS = ("development", "production")
EVENT_TRANSPORTS = ("inprocess", "redis")
DEFAULT_DEV_CORS_ORIGINS = ("http://localhost:3000",)
# Passwords that appear in our own examples and compose files: fine on a laptop, refused in production.
KNOWN_DEFAULT_PASSWORDS = frozenset({"", "freightdesk", "password", "root", "changeme", "secret", "admin"})

_SCHEME_ALIASES = {
    "mysql": "mysql+asyncmy",
    "mariadb": "mysql+asyncmy",
    "mariadb+asyncmy": "mysql+asyncmy",
    "mysql+asyncmy": "mysql+asyncmy",
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
}


MIN_METRICS_TOKEN_LENGTH = 32
DEFAULT_REDIS_KEY_PREFIX = "freightdesk:"
DEFAULT_DB_TIMEOUT_SECONDS = 5.0
DEFAULT_REDIS_TIMEOUT_SECONDS = 2.0
MIN_SERVICE_SECRET_LENGTH = 32
DEVELOPMENT_SERVICE_SECRET = "freightdesk-development-service-secret"  # noqa: S105 - documented, refused in production
"""Signs service tokens between processes (kernel.remote) in development when FREIGHTDESK_SERVICE_SECRET is unset,
so two processes started on a laptop trust each other; production refuses it."""
DEFAULT_SERVICE_CONNECT_TIMEOUT_SECONDS = 1.0
DEFAULT_SERVICE_TIMEOUT_SECONDS = 5.0
DEFAULT_SERVICE_RETRIES = 2
DEFAULT_SERVICE_CIRCUIT_FAILURES = 5
DEFAULT_SERVICE_CIRCUIT_OPEN_SECONDS = 10.0
DEFAULT_EVENTS_STREAM_MAX_LENGTH = 100_000
DEFAULT_EVENTS_CLAIM_IDLE_MS = 30_000
DEFAULT_EVENTS_MAX_DELIVERIES = 8


class SettingsError(ValueError):
    """A setting has a value we cannot run with. The message names the setting."""


def read_env_file(path: Path) -> dict[str, str]:
    """Parse a minimal `.env`: `KEY=VALUE` lines, `#` comments, optional surrounding quotes."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :]
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def normalize_database_url(setting: str, url: str) -> str:
    """Accept `mysql://`, `mariadb://` and `sqlite://` spellings; return the async driver URL."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in _SCHEME_ALIASES:
        raise SettingsError(
            f"{setting}: unsupported database URL {redact_url(url)!r}; "
            "use mysql+asyncmy://user:password@host:3306/db or sqlite+aiosqlite:///path/file.sqlite"
        )
    normalized = f"{_SCHEME_ALIASES[scheme.lower()]}://{rest}"
    if normalized.startswith("mysql") and not urlsplit(normalized).path.strip("/"):
        raise SettingsError(f"{setting}: the MySQL URL names no database")
    return normalized


def redact_url(url: str) -> str:
    """The URL with its password replaced, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def parse_bool(setting: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{setting}: expected true or false, got {value!r}")


def parse_positive_float(setting: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{setting}: expected a number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{setting}: must be greater than 0")
    return number


def parse_positive_int(setting: str, value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{setting}: expected a whole number, got {value!r}") from None
    if number <= 0:
        raise SettingsError(f"{setting}: must be greater than 0")
    return number


def parse_count(setting: str, value: str) -> int:
    """A whole number, 0 allowed."""
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{setting}: expected a whole number, got {value!r}") from None
    if number < 0:
        raise SettingsError(f"{setting}: must not be negative")
    return number


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Everything the process reads from its environment, parsed and checked once at start."""

    env: str = "development"
    modules: tuple[str, ...] | None = None
    data_dir: Path = Path("var")
    redis_url: str | None = None
    redis_key_prefix: str = DEFAULT_REDIS_KEY_PREFIX
    """Put in front of every Redis key the app writes, so processes of other applications (or of other
    Freightdesk installations, or test runs) can share one Redis database without meeting each other's keys."""
    event_transport: str = "inprocess"
    cors_origins: tuple[str, ...] = DEFAULT_DEV_CORS_ORIGINS
    trusted_proxies: tuple[Network, ...] = ()
    """Reverse proxies whose `X-Forwarded-For` is believed (kernel.http.client_address); none by default."""
    log_level: str = "INFO"
    log_json: bool = True
    access_log: str = "errors"
    """`FREIGHTDESK_ACCESS_LOG`: `all` (a line per request), `errors` (status >= 400 or slow), `off`."""
    access_log_slow_ms: float = 1000.0
    """`FREIGHTDESK_ACCESS_LOG_SLOW_MS`: in `errors` mode, a request taking this long is logged whatever its status."""
    auto_migrate: bool = True
    relay_interval_seconds: float = 1.0
    event_max_attempts: int = 8
    events_stream_max_length: int = DEFAULT_EVENTS_STREAM_MAX_LENGTH
    """Redis transport: entries a producer's stream keeps (trimmed approximately on each add)."""
    events_claim_idle_ms: int = DEFAULT_EVENTS_CLAIM_IDLE_MS
    """Redis transport: how long an unacknowledged entry waits before a consumer takes it over and retries it."""
    events_max_deliveries: int = DEFAULT_EVENTS_MAX_DELIVERIES
    """Redis transport: deliveries of an entry to a consuming module before it goes to its dead-letter stream."""
    db_pool_size: int = 10
    db_pre_ping: bool = False
    db_timeout_seconds: float = DEFAULT_DB_TIMEOUT_SECONDS
    """How long a MySQL connection attempt, a wait for the server's answer or for a pooled connection may take."""
    redis_timeout_seconds: float = DEFAULT_REDIS_TIMEOUT_SECONDS
    jwt_issuer: str = "auth-service"
    access_token_ttl: int = 900
    metrics_token: str | None = field(default=None, repr=False)
    """A static bearer token for Prometheus scrapers, good for `/metrics` only."""
    service_secret: str | None = field(default=None, repr=False)
    """`FREIGHTDESK_SERVICE_SECRET`: the key shared by the processes of one deployment, signing the service tokens
    that open the internal routes of split mode (kernel.remote); unset: the development default (production
    refuses to start)."""
    service_connect_timeout_seconds: float = DEFAULT_SERVICE_CONNECT_TIMEOUT_SECONDS
    service_timeout_seconds: float = DEFAULT_SERVICE_TIMEOUT_SECONDS
    """How long one call to another process may take, connection included, before it counts as failed."""
    service_retries: int = DEFAULT_SERVICE_RETRIES
    """Further attempts of an idempotent call after a failure without an answer; other calls are sent once."""
    service_circuit_failures: int = DEFAULT_SERVICE_CIRCUIT_FAILURES
    service_circuit_open_seconds: float = DEFAULT_SERVICE_CIRCUIT_OPEN_SECONDS
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
        merged: dict[str, str] = {}
        if env_file is not None:
            merged.update(read_env_file(env_file))
        merged.update(os.environ if environ is None else environ)
        return cls.from_mapping(merged)

    @classmethod
    def from_mapping(cls, values: Mapping[str, str]) -> Settings:
        env = values.get("FREIGHTDESK_ENV", "development").strip().lower()
        if env not in ENVIRONMENTS:
            raise SettingsError(f"FREIGHTDESK_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {env!r}")
        production = env == "production"

        modules_raw = values.get("FREIGHTDESK_MODULES", "").strip()
        modules = _csv(modules_raw.lower()) if modules_raw else None

        transport = values.get("FREIGHTDESK_EVENT_TRANSPORT", "inprocess").strip().lower()
        if transport not in EVENT_TRANSPORTS:
            raise SettingsError(
                f"FREIGHTDESK_EVENT_TRANSPORT: expected one of {', '.join(EVENT_TRANSPORTS)}, got {transport!r}"
            )
        redis_url = values.get("REDIS_URL", "").strip() or None
        if redis_url is not None and urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError(f"REDIS_URL: expected redis://host:port/db, got {redact_url(redis_url)!r}")
        if transport == "redis" and redis_url is None:
            raise SettingsError("FREIGHTDESK_EVENT_TRANSPORT: 'redis' needs REDIS_URL to be set")

        if "FREIGHTDESK_CORS_ORIGINS" in values:
            cors = _csv(values["FREIGHTDESK_CORS_ORIGINS"])
        else:
            cors = () if production else DEFAULT_DEV_CORS_ORIGINS
        for origin in cors:
            if origin != "*" and urlsplit(origin).scheme not in {"http", "https"}:
                raise SettingsError(f"FREIGHTDESK_CORS_ORIGINS: {origin!r} is not an http(s) origin")

        try:
            trusted_proxies = parse_networks(_csv(values.get("FREIGHTDESK_TRUSTED_PROXIES", "")))
        except ValueError as exc:
            raise SettingsError(
                f"FREIGHTDESK_TRUSTED_PROXIES: {exc}; expected a comma list such as 10.0.0.0/8,::1"
            ) from None

        log_level = values.get("FREIGHTDESK_LOG_LEVEL", "INFO").strip().upper()
        if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise SettingsError(f"FREIGHTDESK_LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
        log_format = values.get("FREIGHTDESK_LOG_FORMAT", "json").strip().lower()
        if log_format not in {"json", "console"}:
            raise SettingsError(f"FREIGHTDESK_LOG_FORMAT: expected json or console, got {log_format!r}")

        access_log = values.get("FREIGHTDESK_ACCESS_LOG", "errors").strip().lower()
        if access_log not in {"all", "errors", "off"}:
            raise SettingsError(f"FREIGHTDESK_ACCESS_LOG: expected all, errors or off, got {access_log!r}")

        settings = cls(
            env=env,
            modules=modules,
            data_dir=Path(values.get("FREIGHTDESK_DATA_DIR", "").strip() or "var"),
            redis_url=redis_url,
            redis_key_prefix=values.get("FREIGHTDESK_REDIS_KEY_PREFIX", "").strip() or DEFAULT_REDIS_KEY_PREFIX,
            event_transport=transport,
            cors_origins=cors,
            trusted_proxies=trusted_proxies,
            log_level=log_level,
            log_json=log_format == "json",
            access_log=access_log,
            access_log_slow_ms=parse_positive_float(
                "FREIGHTDESK_ACCESS_LOG_SLOW_MS", values.get("FREIGHTDESK_ACCESS_LOG_SLOW_MS", "1000")
            ),
            auto_migrate=parse_bool(
                "FREIGHTDESK_AUTO_MIGRATE",
                values.get("FREIGHTDESK_AUTO_MIGRATE", "false" if production else "true"),
            ),
            relay_interval_seconds=parse_positive_float(
                "FREIGHTDESK_RELAY_INTERVAL", values.get("FREIGHTDESK_RELAY_INTERVAL", "1.0")
            ),
            event_max_attempts=parse_positive_int(
                "FREIGHTDESK_EVENT_MAX_ATTEMPTS", values.get("FREIGHTDESK_EVENT_MAX_ATTEMPTS", "8")
            ),
            events_stream_max_length=parse_positive_int(
                "FREIGHTDESK_EVENTS_STREAM_MAX_LENGTH",
                values.get("FREIGHTDESK_EVENTS_STREAM_MAX_LENGTH", str(DEFAULT_EVENTS_STREAM_MAX_LENGTH)),
            ),
            events_claim_idle_ms=parse_positive_int(
                "FREIGHTDESK_EVENTS_CLAIM_IDLE_MS",
                values.get("FREIGHTDESK_EVENTS_CLAIM_IDLE_MS", str(DEFAULT_EVENTS_CLAIM_IDLE_MS)),
            ),
            events_max_deliveries=parse_positive_int(
                "FREIGHTDESK_EVENTS_MAX_DELIVERIES",
                values.get("FREIGHTDESK_EVENTS_MAX_DELIVERIES", str(DEFAULT_EVENTS_MAX_DELIVERIES)),
            ),
            db_pool_size=parse_positive_int("FREIGHTDESK_DB_POOL_SIZE", values.get("FREIGHTDESK_DB_POOL_SIZE", "10")),
            db_pre_ping=parse_bool("FREIGHTDESK_DB_PRE_PING", values.get("FREIGHTDESK_DB_PRE_PING", "false")),
            db_timeout_seconds=parse_positive_float(
                "FREIGHTDESK_DB_TIMEOUT", values.get("FREIGHTDESK_DB_TIMEOUT", str(DEFAULT_DB_TIMEOUT_SECONDS))
            ),
            redis_timeout_seconds=parse_positive_float(
                "FREIGHTDESK_REDIS_TIMEOUT",
                values.get("FREIGHTDESK_REDIS_TIMEOUT", str(DEFAULT_REDIS_TIMEOUT_SECONDS)),
            ),
            jwt_issuer=values.get("FREIGHTDESK_JWT_ISSUER", "").strip() or "auth-service",
            access_token_ttl=parse_positive_int(
                "FREIGHTDESK_ACCESS_TOKEN_TTL", values.get("FREIGHTDESK_ACCESS_TOKEN_TTL", "900")
            ),
            metrics_token=values.get("FREIGHTDESK_METRICS_TOKEN", "").strip() or None,
            service_secret=values.get("FREIGHTDESK_SERVICE_SECRET", "").strip() or None,
            service_connect_timeout_seconds=parse_positive_float(
                "FREIGHTDESK_SERVICE_CONNECT_TIMEOUT",
                values.get("FREIGHTDESK_SERVICE_CONNECT_TIMEOUT", str(DEFAULT_SERVICE_CONNECT_TIMEOUT_SECONDS)),
            ),
            service_timeout_seconds=parse_positive_float(
                "FREIGHTDESK_SERVICE_TIMEOUT",
                values.get("FREIGHTDESK_SERVICE_TIMEOUT", str(DEFAULT_SERVICE_TIMEOUT_SECONDS)),
            ),
            service_retries=parse_count(
                "FREIGHTDESK_SERVICE_RETRIES", values.get("FREIGHTDESK_SERVICE_RETRIES", str(DEFAULT_SERVICE_RETRIES))
            ),
            service_circuit_failures=parse_positive_int(
                "FREIGHTDESK_SERVICE_CIRCUIT_FAILURES",
                values.get("FREIGHTDESK_SERVICE_CIRCUIT_FAILURES", str(DEFAULT_SERVICE_CIRCUIT_FAILURES)),
            ),
            service_circuit_open_seconds=parse_positive_float(
                "FREIGHTDESK_SERVICE_CIRCUIT_OPEN",
                values.get("FREIGHTDESK_SERVICE_CIRCUIT_OPEN", str(DEFAULT_SERVICE_CIRCUIT_OPEN_SECONDS)),
            ),
            environ=dict(values),
        )
        if settings.metrics_token is not None and len(settings.metrics_token) < MIN_METRICS_TOKEN_LENGTH:
            raise SettingsError(f"FREIGHTDESK_METRICS_TOKEN: use at least {MIN_METRICS_TOKEN_LENGTH} characters")
        if settings.service_secret is not None and len(settings.service_secret) < MIN_SERVICE_SECRET_LENGTH:
            raise SettingsError(f"FREIGHTDESK_SERVICE_SECRET: use at least {MIN_SERVICE_SECRET_LENGTH} characters")
        return settings

    def value(self, name: str) -> str | None:
        raw = self.environ.get(name, "").strip()
        return raw or None

    def database_url(self, module: str, default_file: str) -> str:
        """`<MODULE>_DATABASE_URL`, else a SQLite file in the data dir."""
        setting = f"{module.upper()}_DATABASE_URL"
        raw = self.value(setting)
        if raw is None:
            return f"sqlite+aiosqlite:///{(self.data_dir / default_file).as_posix()}"
        return normalize_database_url(setting, raw)

    def service_url(self, module: str) -> str | None:
        """`<MODULE>_SERVICE_URL`: where a module hosted by another process answers (split mode)."""
        setting = f"{module.upper()}_SERVICE_URL"
        raw = self.value(setting)
        if raw is not None and urlsplit(raw).scheme not in {"http", "https"}:
            raise SettingsError(f"{setting}: expected an http(s) URL, got {raw!r}")
        return raw

    def service_token_secret(self) -> str | None:
        """The key of the service tokens: `FREIGHTDESK_SERVICE_SECRET`, else (development only) the documented
        default. None in a production process without one, which production mode refuses to start."""
        if self.service_secret is not None:
            return self.service_secret
        return None if self.production else DEVELOPMENT_SERVICE_SECRET

    def production_problems(self, database_urls: Mapping[str, str]) -> list[str]:
        """Insecure defaults that production mode refuses. Empty outside production."""
        if not self.production:
            return []
        problems: list[str] = []
        if "*" in self.cors_origins:
            problems.append("FREIGHTDESK_CORS_ORIGINS: '*' is not allowed in production")
        for setting, url in database_urls.items():
            parts = urlsplit(url)
            if url.startswith("mysql") and (parts.password or "") in KNOWN_DEFAULT_PASSWORDS:
                problems.append(f"{setting}: the database password is empty or a documented default")
        if self.service_secret in {None, DEVELOPMENT_SERVICE_SECRET}:
            problems.append(
                "FREIGHTDESK_SERVICE_SECRET: unset or the documented development default; every process serves "
                "its modules' internal routes behind it (set the same random value in every process)"
            )
        return problems
