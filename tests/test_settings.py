"""Configuration: a missing or malformed setting stops start-up with one message naming the variable."""

from __future__ import annotations

import os

import pytest

from core.settings import ConfigError, load_settings
from tests.support import make_settings_env, trede


def test_complete_environment_loads(tmp_path):
    settings = load_settings(make_settings_env(tmp_path))
    assert settings.embedded_broker
    assert not settings.is_production
    assert settings.forwarded_allow_ips == ()  # no proxy believed unless configured
    behind = load_settings(make_settings_env(tmp_path, FORWARDED_ALLOW_IPS="10.0.0.0/8, 172.18.0.5"))
    assert behind.forwarded_allow_ips == ("10.0.0.0/8", "172.18.0.5")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DATABASE_URL", "", "Configuration error: DATABASE_URL is not set"),
        ("DATABASE_URL", "mysql://x/y", "Configuration error: DATABASE_URL must start with sqlite:/// or postgres://"),
        ("BROKER_URL", "kafka://x", "Configuration error: BROKER_URL must start with stub://, redis:// or amqp://"),
        ("STORAGE_URL", "s3+https://minio:9000/bucket", "Configuration error: STORAGE_URL has no access key"),
        ("STORAGE_URL", "s3+https://k:s@minio:9000/", "Configuration error: STORAGE_URL has no bucket"),
        ("SMTP_URL", "smtp://mail:notaport", "Configuration error: SMTP_URL has a malformed port"),
        ("SECRET_KEY", "short", "Configuration error: SECRET_KEY must be at least 32 characters"),
        ("OIDC_PROVIDERS", "[{", "Configuration error: OIDC_PROVIDERS is not valid JSON"),
        ("OIDC_PROVIDERS", '[{"name": "x"}]', "Configuration error: OIDC_PROVIDERS item 0 lacks issuer, client_id"),
        ("TREDE_ENV", "staging", "Configuration error: TREDE_ENV must be development or production"),
        ("UPLOAD_MAX_BYTES", "lots", "Configuration error: UPLOAD_MAX_BYTES must be a whole number"),
        ("METRICS_TOKEN", "geheim", "Configuration error: METRICS_TOKEN must be at least 24 characters"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.0/8,caddy", "Configuration error: FORWARDED_ALLOW_IPS must be a comma-"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, variable, value, expected):
    env = make_settings_env(tmp_path, **{variable: value})
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert str(error.value).startswith(expected)
    assert error.value.variable == variable


def test_secrets_do_not_leak_into_messages(tmp_path):
    env = make_settings_env(tmp_path, BROKER_URL="kafka://user:hunter2-secret@host")
    with pytest.raises(ConfigError) as error:
        load_settings(env)
    assert "hunter2-secret" not in str(error.value)


def test_serve_without_configuration_stops_with_one_clear_line(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    result = trede("serve", env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: Configuration error: SECRET_KEY is not set"
    assert "Traceback" not in result.stderr


def test_every_command_has_help():
    for command in [
        [], ["serve"], ["worker"], ["scheduler"], ["migrate"], ["tenants"], ["tenants", "validate"],
        ["tenants", "sync"], ["tenants", "list"], ["calendar", "add"],
    ]:  # fmt: skip
        result = trede(*command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert "Usage: trede" in result.stdout
