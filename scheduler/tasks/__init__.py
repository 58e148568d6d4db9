"""Celery tasks: orchestration only. Importing this package registers every task on the app."""

from scheduler.tasks import accounts, alerts, catalogue, prices, wishlist  # noqa: F401
