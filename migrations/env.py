"""Alembic environment: the URL comes from config.py, the target metadata from models."""

from __future__ import annotations

from logging.config import fileConfig

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
    """Leave the search index (made by hand in migration 0010) out of autogenerate."""
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
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    except OperationalError as exc:
        first = str(exc.orig or exc).strip().splitlines()[0]
        raise CommandError(f"cannot reach the database at {redact_url(url)}: {first}") from None
    finally:
        engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
