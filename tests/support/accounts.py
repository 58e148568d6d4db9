"""What the database holds about one person, counted in every table."""

from __future__ import annotations

from sqlalchemy import Connection, String, Text, func, select

from models import Base, get_engine


def rows_about(subscriber_id: int, address: str, conn: Connection | None = None) -> dict[str, int]:
    """Count, in every table, the rows that reference the subscriber or hold the address.

    On conn, or on the database the tests' Session is bound to.
    """
    if conn is None:
        with get_engine().connect() as own:
            return rows_about(subscriber_id, address, own)
    found: dict[str, int] = {}
    for table in Base.metadata.sorted_tables:
        conditions = [
            column == subscriber_id
            for column in table.columns
            if any(fk.column.table.name == "subscribers" for fk in column.foreign_keys)
            or (table.name == "subscribers" and column.name == "id")
        ]
        conditions += [
            func.lower(column).contains(address)
            for column in table.columns
            if isinstance(column.type, String | Text)
        ]
        count = sum(
            conn.scalar(select(func.count()).select_from(table).where(condition)) or 0
            for condition in conditions
        )
        if count:
            found[table.name] = count
    return found
