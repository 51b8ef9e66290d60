"""``api/settings.py``: every ``VIVRES_*`` variable read and checked in one place."""

from __future__ import annotations

import pytest

from api.settings import Settings
from core.errors import InputError


def test_defaults_without_any_variable():
    s = Settings.from_env({})
    assert s == Settings()
    assert s.max_uncompressed_mb == 2 * s.max_body_mb and s.worker_pidfile is None


def test_values_are_read_and_postgres_urls_get_the_psycopg_driver():
    s = Settings.from_env(
        {
            "VIVRES_DATABASE_URL": "postgres://u@h/db",
            "VIVRES_MAX_BODY_MB": "8",
            "VIVRES_MAX_UPLOAD_ROWS": "10",
            "VIVRES_RATE_LIMIT_PER_MIN": "0",
        }
    )
    assert s.database_url == "postgresql+psycopg://u@h/db"
    assert (s.max_body_mb, s.max_uncompressed_mb, s.max_upload_rows) == (8.0, 16.0, 10)
    assert s.rate_limit_per_min == 0  # 0 turns the limit off


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VIVRES_MAX_BODY_MB", "lots"),
        ("VIVRES_MAX_BODY_MB", "0"),
        ("VIVRES_MAX_BODY_MB", "nan"),
        ("VIVRES_MAX_UPLOAD_ROWS", "1.5"),
        ("VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY", "0"),
        ("VIVRES_RATE_LIMIT_BURST", "-1"),
        ("VIVRES_MAX_UNCOMPRESSED_MB", "inf"),
    ],
)
def test_a_bad_value_is_an_input_error_naming_the_variable(name, value):
    with pytest.raises(InputError, match=name):
        Settings.from_env({name: value})
