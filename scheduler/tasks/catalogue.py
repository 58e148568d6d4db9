"""Catalogue tasks: scrape the store's search pages into the database, fanned out in a chord."""

from __future__ import annotations
