"""ADMIN_EMAILS and FLOWER_URL: who may open /admin, and where Flower is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config import ConfigError, load_config
from scheduler.alerts.inputs import WatchError, normalize_email


def test_no_admin_and_no_flower_by_default():
    config = load_config({})
    assert config.admin_emails == frozenset() and config.flower_url is None


def test_admin_emails_are_stored_as_the_service_stores_addresses():
    config = load_config({"ADMIN_EMAILS": " Ann@Example.COM ,bob@Bücher.de,, ann@example.com ,"})
    assert config.admin_emails == {"ann@example.com", "bob@xn--bcher-kva.de"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ann@example.com,not-an-address", "ADMIN_EMAILS='not-an-address': entry 2 of 2 is not"),
        ("a@b@c.org", "ADMIN_EMAILS='a@b@c.org': entry 1 of 1 is not a valid email address"),
        ("x" * 60 + "@" + "y" * 60 + ".org", "is longer than 120 characters"),
    ],
)
def test_a_bad_admin_address_stops_start_up_naming_only_that_entry(value, message):
    with pytest.raises(ConfigError) as info:
        load_config({"ADMIN_EMAILS": value})
    line = str(info.value)
    assert line.startswith(message) or message in line
    assert "\n" not in line and "ann@example.com" not in line  # the good ones are not echoed


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.emails(),
        st.text(max_size=40),
        st.builds(lambda a, b: f"{a}@{b}", st.text(max_size=12), st.text(max_size=12)),
    )
)
def test_config_reads_an_address_exactly_as_normalize_email_does(address):
    # config.py imports nothing of ours, so it repeats normalize_email's rule: keep them equal.
    if "," in address:
        return
    try:
        expected = normalize_email(address)
    except WatchError:
        expected = None
    try:
        found = load_config({"ADMIN_EMAILS": address}).admin_emails
    except ConfigError:
        found = None
    if expected is None or len(expected) > 120:
        assert not found
    elif address.strip():
        assert found == {expected}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://flower.example.com/", True),
        ("http://127.0.0.1:5555", True),
        ("https://admin:secret@flower.example.com", False),
        ("ftp://flower.example.com", False),
        ("javascript:alert(1)", False),
        ("flower", False),
    ],
)
def test_flower_url_is_an_http_address_without_a_password(value, ok):
    if ok:
        assert load_config({"FLOWER_URL": value}).flower_url == value.rstrip("/")
        return
    with pytest.raises(ConfigError) as info:
        load_config({"FLOWER_URL": value})
    assert str(info.value).startswith("FLOWER_URL=") and "secret" not in str(info.value)
