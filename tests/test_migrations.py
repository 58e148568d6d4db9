"""The migrations build exactly the schema the models describe, and undo it cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session as OrmSession

import models
from models.base import make_engine
from models.game import is_search_object
from scheduler.catalogue.search import search_games
from tests.support import services
from tests.support.catalogue import T0


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A brand-new database with no tables at all; yields its URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    services.require_postgres()
    with services.fresh_postgres_database() as url:
        yield url


def outside_search_index(name: str | None, *_: object) -> bool:
    """Compare all but the search index of migration 0013, as migrations/env.py does."""
    return not is_search_object(name)


def schema_differences(url: str) -> list[object]:
    """Return alembic's autogenerate diff between the database at url and the models."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            options = {"compare_type": True, "include_name": outside_search_index}
            context = MigrationContext.configure(conn, opts=options)
            return compare_metadata(context, models.Base.metadata)
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrading_an_empty_database_to_head_gives_exactly_the_models_schema(empty_database):
    command.upgrade(services.alembic_config(empty_database), "head")

    assert schema_differences(empty_database) == []


def test_downgrading_to_base_removes_every_table_and_upgrading_again_restores_them(empty_database):
    cfg = services.alembic_config(empty_database)
    command.upgrade(cfg, "head")

    command.downgrade(cfg, "base")

    assert table_names(empty_database) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    assert table_names(empty_database) >= set(models.Base.metadata.tables)
    assert schema_differences(empty_database) == []


def test_the_migrations_form_one_line_of_history():
    script = ScriptDirectory.from_config(services.alembic_config("sqlite://"))

    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
def test_on_postgresql_games_pages_keep_half_their_room_for_the_next_scrapes_updates(
    empty_database,
):
    cfg = services.alembic_config(empty_database)
    command.upgrade(cfg, "head")
    engine = make_engine(empty_database)
    try:
        with engine.connect() as conn:
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'games'"))
            assert options.scalar_one() == ["fillfactor=50"]
            command.downgrade(cfg, "0003")
            options = conn.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'games'"))
            assert options.scalar_one() is None
    finally:
        engine.dispose()


def test_the_search_migration_indexes_a_catalogue_stored_before_it_and_undoes_cleanly(
    empty_database,
):
    cfg = services.alembic_config(empty_database)
    command.upgrade(cfg, "0008")
    titles = [f"Old Game {n}" for n in range(12_000)] + ["Pokémon Café", "Half-Life 2"]
    engine = make_engine(empty_database)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO games (kind, steam_id, title, discount_pct, currency, is_free,"
                    " first_seen, last_seen) VALUES ('app', :steam_id, :title, 0, 'USD', false,"
                    " :now, :now)"
                ),
                [{"steam_id": n, "title": t, "now": T0} for n, t in enumerate(titles)],
            )

        command.upgrade(cfg, "head")

        with OrmSession(engine) as session:
            assert [g.title for g in search_games(session, "pokemon")] == ["Pokémon Café"]
            assert [g.title for g in search_games(session, "half life")] == ["Half-Life 2"]
            assert [g.steam_id for g in search_games(session, "old game 11999")] == [11_999]
        command.downgrade(cfg, "0008")
        assert "search_title" not in {c["name"] for c in inspect(engine).get_columns("games")}
        assert not {name for name in table_names(empty_database) if is_search_object(name)}
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM games")).scalar_one() == len(titles)
        command.upgrade(cfg, "head")
        assert schema_differences(empty_database) == []
    finally:
        engine.dispose()
