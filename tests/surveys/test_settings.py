"""The ``surveys`` settings: environment overrides, per-channel delays, the link secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.settings import SettingsError, load_settings
from core.surveys.settings import SECRET_FILE, link_secret, load_survey_settings


def test_environment_overrides_and_channel_delays() -> None:
    settings = load_settings(
        {
            "HELPLINE_SURVEYS__DELAY_SECONDS": "5",
            "HELPLINE_SURVEYS__CHANNELS__EMAIL__DELAY_SECONDS": "86400",
            "HELPLINE_SURVEYS__EXPIRE_HOURS": "24",
        }
    )
    surveys = load_survey_settings(settings.section("surveys"))
    assert surveys.delay("webchat") == timedelta(seconds=5)
    assert surveys.delay("email") == timedelta(days=1)
    assert surveys.expires_after == timedelta(hours=24)
    assert surveys.reminder_after == timedelta(hours=48) and surveys.auto_solve_after == timedelta(hours=72)


def test_a_bad_value_names_the_variable() -> None:
    settings = load_settings({"HELPLINE_SURVEYS__DELAY_SECONDS": "soon"})
    with pytest.raises(SettingsError, match=r"HELPLINE_SURVEYS__DELAY_SECONDS"):
        load_survey_settings(settings.section("surveys"))
    with pytest.raises(SettingsError, match=r"surveys.colour"):
        load_survey_settings({"colour": "blue"})


def test_secret_from_the_environment(tmp_path: Path) -> None:
    settings = load_settings({"HELPLINE_SURVEYS__SECRET": "s3cret", "HELPLINE_DATA_DIR": str(tmp_path)})
    assert link_secret(settings, load_survey_settings(settings.section("surveys"))) == b"s3cret"
    assert not (tmp_path / SECRET_FILE).exists()


def test_secret_kept_in_the_data_directory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings({"HELPLINE_DATA_DIR": str(tmp_path / "data")})
    surveys = load_survey_settings(settings.section("surveys"))
    with caplog.at_level("INFO"):
        first = link_secret(settings, surveys)
    assert len(first) == 64 and "HELPLINE_SURVEYS__SECRET" in caplog.text
    assert link_secret(settings, surveys) == first  # the same after a restart
    assert (tmp_path / "data" / SECRET_FILE).stat().st_mode & 0o777 == 0o600
