"""Catalogue: fetch store pages, parse them into listings, persist prices, record scrape runs."""
