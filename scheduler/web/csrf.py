"""The app's CSRF protection (Flask-WTF): every POST carries a token, unless a view is exempt."""

from __future__ import annotations

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
