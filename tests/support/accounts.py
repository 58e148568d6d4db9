"""What the database holds about one person, counted in every table."""

from __future__ import annotations

from sqlalchemy import String, Text, func, select

from models import Base, Session


def rows_about(subscriber_id: int, address: str) -> dict[str, int]:
    """Count, in every table, the rows that reference the subscriber or hold the address."""
    found: dict[str, int] = {}
    with Session() as session:
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
                session.scalar(select(func.count()).select_from(table).where(condition)) or 0
                for condition in conditions
            )
            if count:
                found[table.name] = count
    return found
