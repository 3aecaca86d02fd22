"""Settings: defaults from config/, overridden by HELPLINE_* variables, errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings


def test_defaults_come_from_the_config_file() -> None:
    settings = load_settings({})
    assert settings.http.port == 8080
    assert settings.database.url.startswith("sqlite+aiosqlite:///")
    assert settings.webchat.max_text_chars == 4000


def test_environment_overrides_nested_with_double_underscores() -> None:
    settings = load_settings(
        {
            "HELPLINE_HTTP__PORT": "9001",
            "HELPLINE_DATABASE__URL": "postgresql+asyncpg://u@db/helpline",
            "HELPLINE_BRAND__OFFICIAL_HANDLES": '["@A", "@B"]',
            "HELPLINE_LOGGING__JSON": "true",
            "HELPLINE_TELEGRAM__TOKEN": "0123:secret",
            "OTHER_VARIABLE": "ignored",
        }
    )
    assert settings.http.port == 9001
    assert settings.database.url == "postgresql+asyncpg://u@db/helpline"
    assert settings.brand.official_handles == ("@A", "@B")
    assert settings.logging.json_format is True
    # Channel sections stay raw for their channel; secrets keep their exact text.
    assert settings.section("telegram") == {"token": "0123:secret"}
    assert settings.section("discord") == {}


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"HELPLINE_HTTP__PORT": "eighty"}, "http.port (HELPLINE_HTTP__PORT)"),
        ({"HELPLINE_HTTP__PORT": "70000"}, "http.port (HELPLINE_HTTP__PORT)"),
        ({"HELPLINE_HTTP__COLOUR": "red"}, "http.colour (HELPLINE_HTTP__COLOUR)"),
        ({"HELPLINE_ENGINE__DEFAULT_LANGUAGE": "fr"}, "engine.default_language"),
        ({"HELPLINE_DISPATCHER__MAX_ATTEMPTS": "0"}, "dispatcher.max_attempts"),
    ],
)
def test_bad_values_fail_with_the_setting_named(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(environ)
    assert named in str(raised.value)


def test_a_broken_config_file_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "settings.yaml"
    broken.write_text("http: [unclosed\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings({}, broken)
