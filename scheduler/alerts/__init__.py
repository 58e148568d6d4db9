"""Alerts: watch rules, watchlist admin, the outbox, rendering and sending price-drop emails."""
