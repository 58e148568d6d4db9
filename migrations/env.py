"""Alembic environment: the URL comes from config.py, the target metadata from models.

An upgrade that reaches head also seeds the default schedule (beat_schedule.py), so that
`scout schedule list` and `scout schedule run` know every entry before any beat has started;
seeding adds only the defaults no one has seen (never re-adds an entry an admin removed).
"""

from __future__ import annotations

import logging
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.util import CommandError
from sqlalchemy.exc import OperationalError

import models
from config import ConfigError, get_config, redact_url
from models.base import make_engine
from models.game import is_search_object

alembic_config = context.config
if alembic_config.config_file_name and alembic_config.attributes.get("configure_logger", True):
    fileConfig(alembic_config.config_file_name, disable_existing_loggers=False)

target_metadata = models.Base.metadata


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the search index (made by hand in migration 0013) out of autogenerate."""
    return not is_search_object(name)


def _url() -> str:
    # Alembic prints a CommandError as one "FAILED: ..." line, where anything else is a traceback.
    try:
        return alembic_config.attributes.get("url") or get_config().database_url
    except ConfigError as exc:
        raise CommandError(f"configuration error: {exc}") from None


def run_migrations_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = alembic_config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _url()
    engine = make_engine(url, create=True)  # the release step makes a new SQLite file
    try:
        with engine.connect() as connection:
            _run(connection)
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise CommandError(f"cannot reach the database at {redact_url(url)}: {first}") from None
    finally:
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()
    _seed_schedule(connection)


def _seed_schedule(connection: Any) -> None:
    """Add the default schedule entries no one has seen yet, when the schema is at head."""
    from sqlalchemy.orm import Session

    from beat_schedule import DEFAULT_SCHEDULE
    from models.base import utcnow
    from scheduler.beat.entries import seed_defaults

    migration = context.get_context()
    # Only `upgrade` writes data: current, check, stamp and autogenerate run this file too
    # (Alembic's upgrade command hands its step function, named upgrade, to the context).
    if getattr(migration.opts.get("fn"), "__name__", None) != "upgrade":
        return
    if set(migration.get_current_heads()) != set(context.script.get_heads()):
        return  # an upgrade to an older revision: the models do not fit that schema yet
    with Session(bind=connection) as session:
        added = seed_defaults(session, DEFAULT_SCHEDULE, "release", utcnow())
        session.commit()
    if connection.in_transaction() and not alembic_config.attributes.get("connection"):
        connection.commit()  # the session joined a transaction the migrations left open
    if added:
        logging.getLogger("alembic.runtime.migration").info(
            "Seeded schedule entries %s", ", ".join(added)
        )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
