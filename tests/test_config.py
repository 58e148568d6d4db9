from __future__ import annotations

import os

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
        ({"STORE_APPDETAILS_RATE_LIMIT": "lots"}, "STORE_APPDETAILS_RATE_LIMIT='lots'"),
        ({"STORE_APPDETAILS_BATCH": "0"}, "STORE_APPDETAILS_BATCH='0': must be between 1"),
        ({"PRICE_REFRESH_REQUESTS": "x"}, "PRICE_REFRESH_REQUESTS='x': must be a whole number"),
        ({"PRICE_STALE_AFTER": "5"}, "PRICE_STALE_AFTER='5': must be between 60"),
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


SECRET = "SECRET99"
HOSTILE_URLS = [
    f"postgresql://u:p@{SECRET}@127.0.0.1:1/x",  # an unencoded @ in the password
    f"postgresql://u@127.0.0.1:1/x?password={SECRET}",  # libpq takes it in the query
    f"postgresql+psycopg://u@127.0.0.1/x?sslmode=require&sslpassword={SECRET}",
    f"postgres://u:{SECRET}@127.0.0.1:/x",
    f"redis://127.0.0.1:6379/9?password={SECRET}",  # redis-py takes it in the query
    f"redis://:p@{SECRET}@127.0.0.1:6379/0",
    f"rediss://:{SECRET}@127.0.0.1:6380/0?ssl_cert_reqs=none",
    f"redis://u:{SECRET}@[::1/0",  # not even a URL urllib reads
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_redact_url_hides_every_password_and_keeps_the_host(url):
    from config import redact_url

    shown = redact_url(url)
    assert SECRET not in shown
    assert "127.0.0.1" in shown or "::1" in shown


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": f"postgresql://u:p@{SECRET}@127.0.0.1:1/x"},
        {"DATABASE_URL": f"postgresql://u@127.0.0.1:x/x?password={SECRET}"},
        {"REDIS_URL": f"redis://127.0.0.1:6379/9?password={SECRET}&db=2"},
        {"REDIS_URL": f"redis://:{SECRET}@127.0.0.1:6379/9?password={SECRET}"},
        {"REDIS_URL": f"redis://127.0.0.1:6379/9?token={SECRET}"},
    ],
    ids=["at-in-password", "db-query", "redis-query", "redis-twice", "redis-token"],
)
def test_a_refused_url_is_named_without_any_of_its_passwords(env):
    with pytest.raises(ConfigError) as info:
        load_config(env)
    message = str(info.value)
    assert message.startswith(next(iter(env)))
    assert SECRET not in message and "127.0.0.1" in message and "\n" not in message


def test_an_unencoded_at_sign_in_a_database_password_is_refused_with_how_to_write_it():
    # SQLAlchemy and libpq read "SECRET@127.0.0.1" as the host: it would go into every
    # connection error, and the database is never reached anyway.
    with pytest.raises(ConfigError) as info:
        load_config({"DATABASE_URL": f"postgresql://u:p@{SECRET}@127.0.0.1:1/x"})
    assert "%40" in str(info.value)
    cfg = load_config({"DATABASE_URL": "postgresql://u:p%40w@127.0.0.1:1/x"})
    assert cfg.database_url == "postgresql+psycopg://u:p%40w@127.0.0.1:1/x"


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": "postgresql://u:pw@127.0.0.1:/x"},
        {"DATABASE_URL": "postgresql://u:pw@127.0.0.1:0/x"},
        {"DATABASE_URL": "postgresql://u:pw@127.0.0.1:65536/x"},
        {"DATABASE_URL": "postgresql://u:pw@[::1]:/x"},
        {"REDIS_URL": "redis://127.0.0.1:/0"},
        {"REDIS_URL": "redis://127.0.0.1:0/0"},
        {"REDIS_URL": "redis://127.0.0.1:65536/0"},
    ],
    ids=["db-empty", "db-0", "db-65536", "db-ipv6-empty", "redis-empty", "redis-0", "redis-65536"],
)
def test_an_empty_or_zero_port_is_refused_like_any_bad_port(env):
    # An empty port was a ValueError traceback in every process; port 0 silently meant 5432.
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert "bad port (a whole number from 1 to 65535)" in str(info.value)


def test_ports_one_to_65535_are_accepted():
    cfg = load_config({"DATABASE_URL": "postgresql://u@h:1/x", "REDIS_URL": "redis://h:65535/0"})
    assert (cfg.database_url, cfg.redis_url) == (
        "postgresql+psycopg://u@h:1/x",
        "redis://h:65535/0",
    )


def test_a_password_in_a_redis_urls_query_is_moved_where_celery_and_redis_py_both_read_it():
    # kombu passes query options to its Connection beside the password it reads before the
    # host: ?password= made the worker and beat fail with a TypeError at start.
    import redis
    from celery import Celery

    url = load_config({"REDIS_URL": "redis://127.0.0.1:6379/9?password=p%40ss:w&username=bob"})
    assert url.redis_url == "redis://bob:p%40ss%3Aw@127.0.0.1:6379/9"
    app = Celery(broker=url.redis_url, backend=url.redis_url)
    broker = app.connection_for_write()
    assert (broker.userid, broker.password, broker.virtual_host) == ("bob", "p@ss:w", "9")
    assert app.backend.connparams["password"] == "p@ss:w"
    assert app.backend.connparams["username"] == "bob"
    read = redis.connection.parse_url(url.redis_url)
    assert (read["username"], read["password"], read["db"]) == ("bob", "p@ss:w", 9)


@pytest.mark.parametrize(
    "query",
    [
        *(f"{key}=3" for key in ("db", "port", "host", "hostname", "userid", "virtual_host")),
        "socket_timeout=5",  # redis-py takes it; kombu: "unexpected keyword argument"
        "foo=bar",
        "ssl_cert_reqs=none",  # Celery's backend refuses ssl options on redis://
    ],
)
def test_a_redis_query_option_celery_cannot_take_is_refused_in_one_line(query):
    # Every one of these passed the check, then the worker and beat ended in a TypeError.
    with pytest.raises(ConfigError) as info:
        load_config({"REDIS_URL": f"redis://127.0.0.1:6379/9?{query}"})
    message = str(info.value)
    assert message.startswith("REDIS_URL=") and f"?{query.split('=')[0]}=" in message
    assert "which Celery cannot take" in message


def test_the_ssl_options_of_a_rediss_url_are_read_alike_by_redis_py_kombu_and_celery(tmp_path):
    import redis
    from celery import Celery

    ca = tmp_path / "ca.pem"
    url = load_config({"REDIS_URL": f"rediss://:pw@127.0.0.1:6380/2?ssl_ca_certs={ca}"}).redis_url
    read = redis.connection.parse_url(url)
    assert (read["ssl_ca_certs"], read["ssl_cert_reqs"], read["password"]) == (
        str(ca),
        "none",
        "pw",
    )
    app = Celery(broker=url, backend=url)
    assert app.connection_for_write().ssl["ssl_ca_certs"] == str(ca)
    assert app.backend.connparams["ssl_ca_certs"] == str(ca)


@pytest.mark.parametrize("rate", ["5/1000000000000days", "1/2years", "1/367days"])
def test_a_rate_whose_period_is_over_a_year_is_refused(rate):
    # 5/10**12 days passed the check, then every scrape failed in the limiter's Redis script.
    for name in ("STORE_RATE_LIMIT", "STORE_APPDETAILS_RATE_LIMIT"):
        with pytest.raises(ConfigError) as info:
            load_config({name: rate})
        assert str(info.value).startswith(f"{name}={rate!r}: ") and "a year" in str(info.value)


def test_the_longest_rate_the_check_accepts_works_in_the_limiters_redis_script(redis_url):
    from scheduler.catalogue.limiter import SharedRateLimit

    for rate in ("1/366days", "2/year", "100000000000000000000/second"):
        cfg = load_config({"STORE_RATE_LIMIT": rate})
        limit = SharedRateLimit(cfg.store_rate_limit, redis_url, key=f"config-probe-{rate}")
        limit.acquire().done()  # a window too long for the script raised ResponseError here


@pytest.mark.parametrize("value", ["admin:", ":", "admin", "bob:"])
def test_flower_basic_auth_with_an_empty_user_or_password_is_refused(value):
    # Flower started with "admin:" and let anyone in who sent an empty password.
    with pytest.raises(ConfigError) as info:
        load_config({"FLOWER_BASIC_AUTH": value})
    assert str(info.value).startswith(f"FLOWER_BASIC_AUTH={value!r}: must be user:password")


def test_flower_basic_auth_pairs_are_accepted_and_a_refused_one_shows_no_password():
    load_config({"FLOWER_BASIC_AUTH": "admin:s3cret,ops:an0ther"})
    refused = [(":s3cret", "':***'"), ("admin:s3cret,ops:", "'admin:***,ops:'"), (" : ", "' :***'")]
    for value, shown in refused:
        with pytest.raises(ConfigError) as info:
            load_config({"FLOWER_BASIC_AUTH": value})
        assert str(info.value).startswith(f"FLOWER_BASIC_AUTH={shown}: must be user:password")


def test_a_short_secret_key_is_refused_in_one_line_that_never_shows_it():
    with pytest.raises(ConfigError) as refused:
        load_config({"SECRET_KEY": "hunter2-hunter2"})

    message = str(refused.value)
    assert message.startswith("SECRET_KEY=(hidden, 15 characters): too short")
    assert "hunter2" not in message and len(message.splitlines()) == 1


def test_the_web_process_refuses_to_start_without_a_secret_key():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    done = subprocess.run(
        [sys.executable, "-c", "import scheduler.web.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "web: configuration error: SECRET_KEY is not set: the web process signs sessions and "
        "sign-in links with it (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
    ]
