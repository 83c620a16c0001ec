"""Settings: defaults, fail-fast messages naming the setting, production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap.app import create_app
from kernel.settings import Settings, SettingsError, read_env_file, redact_url


def test_defaults_are_the_embedded_single_process() -> None:
    settings = Settings.from_mapping({})
    assert settings.env == "development"
    assert settings.modules is None
    assert settings.event_transport == "inprocess"
    assert settings.redis_url is None
    assert (settings.db_timeout_seconds, settings.redis_timeout_seconds) == (5.0, 2.0)
    assert settings.cors_origins == ("http://localhost:3000",)
    assert settings.trusted_proxies == ()  # the socket peer is the client; X-Forwarded-For is ignored
    assert settings.database_url("carrier", "carrier.sqlite") == "sqlite+aiosqlite:///var/carrier.sqlite"


def test_redis_keys_carry_the_configured_prefix() -> None:
    assert Settings.from_mapping({}).redis_key_prefix == "freightdesk:"
    assert Settings.from_mapping({"FREIGHTDESK_REDIS_KEY_PREFIX": " "}).redis_key_prefix == "freightdesk:"
    assert Settings.from_mapping({"FREIGHTDESK_REDIS_KEY_PREFIX": "fd-eu:"}).redis_key_prefix == "fd-eu:"


def test_auth_and_user_share_the_identity_file_by_default() -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": "/data"})
    assert settings.database_url("auth", "shared_user.sqlite") == settings.database_url("user", "shared_user.sqlite")


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"FREIGHTDESK_ENV": "staging"}, "FREIGHTDESK_ENV"),
        ({"FREIGHTDESK_EVENT_TRANSPORT": "kafka"}, "FREIGHTDESK_EVENT_TRANSPORT"),
        ({"FREIGHTDESK_EVENT_TRANSPORT": "redis"}, "FREIGHTDESK_EVENT_TRANSPORT"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"FREIGHTDESK_CORS_ORIGINS": "localhost:3000"}, "FREIGHTDESK_CORS_ORIGINS"),
        ({"FREIGHTDESK_LOG_LEVEL": "LOUD"}, "FREIGHTDESK_LOG_LEVEL"),
        ({"FREIGHTDESK_RELAY_INTERVAL": "-1"}, "FREIGHTDESK_RELAY_INTERVAL"),
        ({"FREIGHTDESK_EVENT_MAX_ATTEMPTS": "many"}, "FREIGHTDESK_EVENT_MAX_ATTEMPTS"),
        ({"FREIGHTDESK_AUTO_MIGRATE": "perhaps"}, "FREIGHTDESK_AUTO_MIGRATE"),
        ({"FREIGHTDESK_DB_TIMEOUT": "0"}, "FREIGHTDESK_DB_TIMEOUT"),
        ({"FREIGHTDESK_REDIS_TIMEOUT": "soon"}, "FREIGHTDESK_REDIS_TIMEOUT"),
        ({"FREIGHTDESK_TRUSTED_PROXIES": "10.0.0.1,proxy.internal"}, "FREIGHTDESK_TRUSTED_PROXIES"),
    ],
)
def test_a_wrong_setting_fails_fast_naming_it(values: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_mapping(values)


def test_a_wrong_database_url_names_its_setting_without_the_password() -> None:
    settings = Settings.from_mapping({"CARRIER_DATABASE_URL": "postgres://u:hunter2@db/x"})
    with pytest.raises(SettingsError, match="CARRIER_DATABASE_URL") as error:
        settings.database_url("carrier", "carrier.sqlite")
    assert "hunter2" not in str(error.value)


def test_mysql_spellings_are_normalized_to_the_async_driver() -> None:
    settings = Settings.from_mapping({"CARRIER_DATABASE_URL": "mariadb://u:p@db:3306/carrier_service_db"})
    assert settings.database_url("carrier", "x.sqlite") == "mysql+asyncmy://u:p@db:3306/carrier_service_db"


def test_unknown_module_fails_naming_the_setting(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), "FREIGHTDESK_MODULES": "carrier,billing"})
    with pytest.raises(SettingsError, match=r"FREIGHTDESK_MODULES.*billing"):
        create_app(settings)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"FREIGHTDESK_CORS_ORIGINS": "*"}, "FREIGHTDESK_CORS_ORIGINS"),
        (
            {"CARRIER_DATABASE_URL": "mysql://freightdesk:freightdesk@db/carrier_service_db"},
            "CARRIER_DATABASE_URL",
        ),
        ({"CARRIER_DATABASE_URL": "mysql://root@db/carrier_service_db"}, "CARRIER_DATABASE_URL"),
    ],
)
def test_production_refuses_insecure_defaults(tmp_path: Path, values: dict[str, str], problem: str) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_ENV": "production", "FREIGHTDESK_DATA_DIR": str(tmp_path), **values})
    with pytest.raises(SettingsError, match=problem):
        create_app(settings)


def test_production_defaults_are_closed() -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_ENV": "production"})
    assert settings.cors_origins == ()
    assert settings.auto_migrate is False


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nFREIGHTDESK_LOG_LEVEL="DEBUG"\nexport FREIGHTDESK_MODULES=carrier\n')
    assert read_env_file(env_file) == {"FREIGHTDESK_LOG_LEVEL": "DEBUG", "FREIGHTDESK_MODULES": "carrier"}
    settings = Settings.from_env(environ={"FREIGHTDESK_LOG_LEVEL": "ERROR"}, env_file=env_file)
    assert settings.log_level == "ERROR"
    assert settings.modules == ("carrier",)


def test_redact_url_hides_only_the_password() -> None:
    assert redact_url("mysql+asyncmy://app:s3cret@db:3306/x") == "mysql+asyncmy://app:***@db:3306/x"


def test_a_production_process_without_auth_verifies_with_public_keys_only(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kernel.security.keys import KeyRing

    public_file = tmp_path / "auth.pub.pem"
    public_file.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    production = {"FREIGHTDESK_ENV": "production", "FREIGHTDESK_DATA_DIR": str(tmp_path)}

    verifying = KeyRing.load(
        Settings.from_mapping({**production, "FREIGHTDESK_JWT_PUBLIC_KEY_FILES": str(public_file)}), signs_tokens=False
    )
    assert verifying.signing_key is None
    assert len(verifying.jwks()["keys"]) == 1
    with pytest.raises(SettingsError, match="FREIGHTDESK_JWT_PUBLIC_KEY_FILES"):
        KeyRing.load(Settings.from_mapping(production), signs_tokens=False)
    with pytest.raises(SettingsError, match="FREIGHTDESK_JWT_PRIVATE_KEY_FILE"):
        KeyRing.load(Settings.from_mapping(production), signs_tokens=True)


def test_a_dependency_in_another_process_needs_its_service_url(tmp_path: Path) -> None:
    from bootstrap.runtime import build_runtime

    settings = Settings.from_mapping({"USER_SERVICE_URL": "http://user:3003", "FREIGHTDESK_DATA_DIR": str(tmp_path)})
    remote = build_runtime(settings, ["auth"]).remote
    assert remote is not None
    assert [target.module for target in remote.modules] == ["user"]  # bound to a client of the user process
    without_url = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)})
    with pytest.raises(SettingsError, match=r"USER_SERVICE_URL: module 'auth' needs 'user'.*host it too"):
        build_runtime(without_url, ["auth"])


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(SettingsError, match="FREIGHTDESK_METRICS_TOKEN"):
        Settings.from_mapping({"FREIGHTDESK_METRICS_TOKEN": "short"})
