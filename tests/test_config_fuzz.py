"""Any value of any setting either loads or fails with one line naming the variable."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import PROJECT_ROOT, ConfigError, load_config

SETTINGS = sorted(
    set(re.findall(r'"([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)"', (PROJECT_ROOT / "config.py").read_text()))
)
VALUES = st.one_of(
    st.text(max_size=80),
    st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{0,5})?", fullmatch=True),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0", "-1", "true", " ", "\x00", "ü" * 5]),
    st.from_regex(r"(postgres|redis|rediss|sqlite|mysql)://[a-z:@/0-9.%]{0,40}", fullmatch=True),
)


def test_the_fuzzed_settings_are_the_ones_config_reads() -> None:
    assert {"DATABASE_URL", "REDIS_URL", "STORE_RATE_LIMIT", "MAIL_PORT"} <= set(SETTINGS)


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(SETTINGS), value=VALUES, password=st.sampled_from(["", "hunter2"]))
def test_any_value_loads_or_fails_with_one_line_naming_the_variable(name, value, password):
    if password and "://" in value:
        value = value.replace("://", f"://user:{password}@", 1)
    try:
        load_config({name: value})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith(f"{name}=") or message.startswith("STORE_COUNTRY=")
        assert "\n" not in message and len(message) < 400
        assert "hunter2" not in message
    except Exception as exc:  # anything else would reach an admin as a traceback
        pytest.fail(f"{name}={value!r} raised {type(exc).__name__}: {exc}")
