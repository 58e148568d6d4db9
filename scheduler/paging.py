"""One page of a longer list: the rows of page `number` and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")
MAX_PAGE = 1_000_000  # a page number past this is a typo or a probe, not a list this long


@dataclass(frozen=True)
class Page(Generic[T]):
    """Rows number of a list cut into pages of size; number is 1-based."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the list has (at least 1, so an empty list shows one empty page)."""
        return max(1, -(-self.total // self.size))

    @property
    def first_index(self) -> int:
        """The 1-based position of the first item on this page (0 when there is none)."""
        return (self.number - 1) * self.size + 1 if self.items else 0


def page_number(text: str | None) -> int:
    """Return the page number a query string asks for: 1 for anything that is not one."""
    if text is None or not text.isdigit() or len(text) > 7:
        return 1
    return min(MAX_PAGE, max(1, int(text)))


def page_of(session: Session, query: Select[*tuple[Any, ...]], number: int, size: int) -> Page[Any]:
    """Return page `number` (past the last: the last) of query's rows, scalars if one column."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, number), max(1, -(-total // size)))
    cut = query.limit(size).offset((number - 1) * size)
    result = session.execute(cut)
    items = list(result.scalars()) if len(query.column_descriptions) == 1 else list(result)
    return Page(items, number, size, total)
