from __future__ import annotations

import pytest

from config import ConfigError, load_config


def test_it_turns_herokus_postgres_url_into_one_sqlalchemy_accepts():
    cfg = load_config({"DATABASE_URL": "postgres://u:p@db.example.com:5432/d1"})
    assert cfg.database_url == "postgresql+psycopg://u:p@db.example.com:5432/d1"


def test_it_adds_ssl_cert_reqs_to_a_rediss_url():
    cfg = load_config({"REDIS_URL": "rediss://:pw@ec2.example.com:6380"})
    assert cfg.redis_url == "rediss://:pw@ec2.example.com:6380?ssl_cert_reqs=none"
    strict = load_config({"REDIS_URL": "rediss://h:6380/0", "REDIS_SSL_CERT_REQS": "required"})
    assert strict.redis_url.endswith("ssl_cert_reqs=required")


def test_a_rediss_url_is_accepted_by_redis_py_celery_and_kombu_alike():
    import redis
    from celery import Celery

    url = load_config({"REDIS_URL": "rediss://:pw@redis.example.com:6380/0"}).redis_url
    redis.Redis.from_url(url)  # raises on a cert flag redis-py does not know
    app = Celery(broker=url, backend=url)
    assert app.connection_for_write().transport_options is not None
    assert app.backend.connparams["ssl_cert_reqs"] is not None


def test_it_keeps_an_explicit_ssl_cert_reqs():
    cfg = load_config({"REDIS_URL": "rediss://h:6380/0?ssl_cert_reqs=CERT_REQUIRED"})
    assert cfg.redis_url == "rediss://h:6380/0?ssl_cert_reqs=CERT_REQUIRED"


def test_defaults_are_local():
    cfg = load_config({})
    assert cfg.database_url.startswith("sqlite:///") and cfg.database_url.endswith("scout.db")
    assert cfg.redis_url == "redis://localhost:6379/0"
    assert cfg.store_url == "https://store.steampowered.com"
    assert (cfg.store_country, cfg.store_currency, cfg.store_page_size) == ("us", "USD", 100)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL='mysql://x/y': unsupported database"),
        ({"DATABASE_URL": "nonsense"}, "DATABASE_URL='nonsense'"),
        ({"REDIS_URL": "http://h"}, "REDIS_URL='http://h'"),
        ({"REDIS_URL": "redis://h/abc"}, "REDIS_URL='redis://h/abc'"),
        ({"STORE_PAGE_SIZE": "0"}, "STORE_PAGE_SIZE='0': must be between 1 and 100"),
        ({"STORE_PAGE_SIZE": "ten"}, "STORE_PAGE_SIZE='ten': must be a whole number"),
        ({"STORE_RATE_LIMIT": "fast"}, "STORE_RATE_LIMIT='fast'"),
        ({"STORE_READ_TIMEOUT": "-1"}, "STORE_READ_TIMEOUT='-1'"),
        ({"STORE_COUNTRY": "xx"}, "STORE_COUNTRY='xx': has no known currency"),
        ({"STORE_URL": "ftp://x"}, "STORE_URL='ftp://x'"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE='Mars/Olympus'"),
        ({"MAIL_USE_TLS": "maybe"}, "MAIL_USE_TLS='maybe': must be true or false"),
        ({"MAIL_PORT": "70000"}, "MAIL_PORT='70000'"),
    ],
)
def test_a_bad_value_fails_with_one_line_naming_the_variable(env, message):
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_the_mail_password_never_shows_in_the_config_repr():
    assert "s3cret" not in repr(load_config({"MAIL_PASSWORD": "s3cret"}))


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "mysql://postgres:dbpass999@db.example.com/x"},
        {"DATABASE_URL": "postgresql://postgres:dbpass999@db.example.com:abc/x"},
        {"REDIS_URL": "http://:dbpass999@redis.example.com"},
        {"REDIS_URL": "redis://:dbpass999@redis.example.com:port/0"},
    ],
)
def test_a_bad_url_is_named_without_its_password(env):
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert "dbpass999" not in str(info.value) and "***" in str(info.value)


def test_a_database_port_that_is_not_a_number_is_one_clear_line():
    with pytest.raises(ConfigError) as info:
        load_config({"DATABASE_URL": "postgresql://u@db.example.com:five/x"})
    assert str(info.value).startswith("DATABASE_URL='postgresql://u@db.example.com:five/x'")
    assert "bad port" in str(info.value)


@pytest.mark.parametrize("rate", ["0/second", "0/5minutes", "-1/second"])
def test_a_store_rate_that_would_never_let_a_request_through_is_refused(rate):
    with pytest.raises(ConfigError) as info:
        load_config({"STORE_RATE_LIMIT": rate})
    assert str(info.value).startswith(f"STORE_RATE_LIMIT={rate!r}")


def test_a_huge_pasted_value_still_fails_in_one_short_line():
    with pytest.raises(ConfigError) as info:
        load_config({"STORE_URL": "x" * 100_000})
    assert len(str(info.value)) < 400 and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAIL_SERVER", "smtp.example.com\r\nRCPT TO:<x@y>"),
        ("MAIL_DEFAULT_SENDER", "a@b\r\nBcc: x"),
    ],
)
def test_mail_settings_with_line_breaks_are_refused(name, value):
    with pytest.raises(ConfigError) as info:
        load_config({name: value})
    assert str(info.value).startswith(name)
