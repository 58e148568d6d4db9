"""Real services for the tests: a private Redis db, a fresh PostgreSQL database, migrations."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from config import PROJECT_ROOT

REDIS_SERVER = os.environ.get("TEST_REDIS_SERVER", "redis://127.0.0.1:6379")
POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test")
POSTGRES_REQUIRED = os.environ.get("SCOUT_REQUIRE_POSTGRES", "") == "1"
LOCK_TTL = 4 * 3600  # seconds: longer than any test run


def _holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _gone(holder: bytes) -> bool:
    """Return True when holder names a process of this host that no longer runs."""
    host, _, pid = holder.decode(errors="replace").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host's, or an older run's: wait for its lock to expire
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def claim(admin: redis.Redis, key: str) -> bool:
    """Take key for this process, or over from a killed run; return False if it is held."""
    if admin.set(key, _holder(), nx=True, ex=LOCK_TTL):
        return True
    with admin.pipeline() as pipe:
        try:
            pipe.watch(key)  # two runs may find the same dead holder: one of them wins
            holder = pipe.get(key)
            if holder is None or not _gone(holder):
                return False
            pipe.multi()
            pipe.set(key, _holder(), ex=LOCK_TTL)
            pipe.execute()
            return True
        except redis.WatchError:
            return False


@contextmanager
def private_redis_db() -> Iterator[str]:
    """Claim a Redis db number no other test run holds; yield its URL, flushed before and after.

    A run killed before its end leaves its claim behind; the next run to find it takes it over
    rather than wait hours for it to expire, so the 15 numbers go round on a shared machine.
    """
    admin = redis.Redis.from_url(f"{REDIS_SERVER}/0")
    for number in range(1, 16):
        if claim(admin, f"scout-test-lock:{number}"):
            # A worker or beat left running by a killed test run holds no lock but still
            # takes tasks from its db: a db someone is connected to is not ours to use.
            if not any(int(client["db"]) == number for client in admin.client_list()):
                break
            admin.delete(f"scout-test-lock:{number}")
    else:
        raise RuntimeError("all Redis test databases 1-15 are claimed or in use by others")
    url = f"{REDIS_SERVER}/{number}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        admin.delete(f"scout-test-lock:{number}")


def require_postgres() -> None:
    """Skip the calling test when PostgreSQL is down, or fail it where CI makes it mandatory."""
    import pytest

    if postgres_available():
        return
    if POSTGRES_REQUIRED:
        pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_ADMIN_URL}")
    pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")


def postgres_available() -> bool:
    """Return True when the PostgreSQL test server answers."""
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database for this test run on the test server; drop it afterwards."""
    name = f"scout_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def alembic_config(url: str) -> AlembicConfig:
    """Return an Alembic config for this project pointed at url."""
    cfg = AlembicConfig(str(PROJECT_ROOT / "alembic.ini"))
    cfg.attributes["url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str) -> None:
    """Run every migration against url."""
    command.upgrade(alembic_config(url), "head")


def empty_all_tables(engine: Engine) -> None:
    """Remove every row of every table the models know, on SQLite or PostgreSQL."""
    from models import Base

    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # DELETE would leave every row behind as a dead tuple; the test server does not
            # autovacuum, so later tests and benchmark runs would pay for skipping them.
            names = ", ".join(f'"{table.name}"' for table in tables)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.execute(table.delete())
