"""SQLAlchemy models; importing this package registers every table on Base.metadata."""

from models.alert import Alert, AlertRun, Subscriber, WatchEntry
from models.audit import AdminAction
from models.base import Base, ReadSession, Session, configure_engine, get_engine, utcnow
from models.game import Game, PriceChange
from models.schedule import ScheduleEdit, ScheduleEntry
from models.scrape import ScrapePage, ScrapeRun
from models.wishlist import WishlistImport

__all__ = [
    "AdminAction",
    "Base",
    "ReadSession",
    "Session",
    "configure_engine",
    "get_engine",
    "utcnow",
    "Game",
    "PriceChange",
    "ScrapePage",
    "ScrapeRun",
    "Alert",
    "AlertRun",
    "Subscriber",
    "WatchEntry",
    "ScheduleEdit",
    "ScheduleEntry",
    "WishlistImport",
]
