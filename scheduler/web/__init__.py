"""The web front end: one-click unsubscribe and the health check."""
