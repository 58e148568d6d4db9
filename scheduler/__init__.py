"""SteamScout: the Celery app and everything that runs in a worker, beat, the web app or the CLI."""
