"""Subscriber and watchlist commands: subscribe, unsubscribe, watch add|list|remove, alerts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from models.alert import ALERT_STATUSES
from scheduler.cli.arguments import MAX_LIMIT, read_whole, text_at_most
from scheduler.cli.output import CLIError, format_price, print_json, print_table, terminal_safe
from scheduler.cli.services import transaction

# RFC 5321 caps a path at 256 octets with its brackets: an address of 254 characters.
EMAIL = text_at_most(254, "an email address")
ITEM = text_at_most(500, "a store item or URL")
FIGURE = text_at_most(40, "a price or percentage")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the subscriber, watch and alerts commands to the scout parser."""
    sub = subparsers.add_parser("subscribe", help="subscribe an email address to alerts")
    sub.add_argument("email", metavar="EMAIL", type=EMAIL)
    sub.set_defaults(func=cmd_subscribe)
    unsub = subparsers.add_parser("unsubscribe", help="unsubscribe an address; skip its alerts")
    unsub.add_argument("email", metavar="EMAIL", type=EMAIL)
    unsub.set_defaults(func=cmd_unsubscribe)
    watch = subparsers.add_parser("watch", help="add, list or remove watched games")
    actions = watch.add_subparsers(dest="action", metavar="ACTION", required=True)
    _register_watch(actions)
    alerts = subparsers.add_parser("alerts", help="list recent alerts, newest first")
    alerts.add_argument("--status", metavar="STATUS", help=f"only {'|'.join(ALERT_STATUSES)}")
    alerts.add_argument("--limit", metavar="N", default="100", help="at most N alerts (100)")
    alerts.add_argument("--json", action="store_true", help="print JSON for scripts")
    alerts.set_defaults(func=cmd_alerts)


def _register_watch(actions: argparse._SubParsersAction) -> None:
    add = actions.add_parser("add", help="watch a game with one rule")
    add.add_argument("email", metavar="EMAIL", type=EMAIL)
    add.add_argument("item", metavar="ITEM", type=ITEM, help="App_440, app/440, 440 or a URL")
    rule = add.add_mutually_exclusive_group(required=True)
    rule.add_argument(
        "--below", metavar="PRICE", type=FIGURE, help="alert when the price is at most PRICE"
    )
    rule.add_argument(
        "--discount", metavar="PCT", type=FIGURE, help="alert at a discount of PCT%% (1-100)"
    )
    rule.add_argument("--new-low", action="store_true", help="alert at a new lowest price")
    add.set_defaults(func=cmd_watch_add)
    listing = actions.add_parser("list", help="list watches (of one address)")
    listing.add_argument("email", metavar="EMAIL", nargs="?", type=EMAIL)
    listing.add_argument("--json", action="store_true", help="print JSON for scripts")
    listing.set_defaults(func=cmd_watch_list)
    remove = actions.add_parser("remove", help="stop watching a game")
    remove.add_argument("email", metavar="EMAIL", type=EMAIL)
    remove.add_argument("item", metavar="ITEM", type=ITEM)
    remove.set_defaults(func=cmd_watch_remove)


def _whole(text: str, name: str) -> int:
    value = read_whole(text.strip().rstrip("%"))
    if value is None:
        raise CLIError(f"{name} must be a whole number, not {text[:24]!r}")
    return value


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Subscribe EMAIL (again, with a new unsubscribe link, if it had unsubscribed)."""
    from scheduler.alerts import watchlist
    from scheduler.cli.services import cli_config

    smtputf8 = cli_config().mail_smtputf8
    with transaction() as session:
        email = watchlist.subscribe(session, args.email, smtputf8=smtputf8).email
    print(f"subscribed {email}")
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    """Unsubscribe EMAIL and skip its pending alerts."""
    from scheduler.alerts import watchlist

    with transaction() as session:
        subscriber = watchlist.find_subscriber(session, args.email)
        if subscriber is None:
            raise CLIError(f"no subscriber {watchlist.normalize_email(args.email)}")
        watchlist.unsubscribe(session, subscriber.unsubscribe_token)
    print(f"unsubscribed {subscriber.email}")
    return 0


def cmd_watch_add(args: argparse.Namespace) -> int:
    """Watch ITEM for EMAIL with the rule given."""
    from scheduler.alerts import watchlist
    from scheduler.alerts.inputs import read_rule
    from scheduler.cli.services import cli_config

    if args.below is not None:
        rule_name, value = "below", args.below
    elif args.discount is not None:
        rule_name, value = "discount", args.discount
    else:
        rule_name, value = "new_low", ""
    with transaction() as session:
        rule, target, discount = read_rule(rule_name, value, cli_config().store_currency)
        entry = watchlist.add_watch(
            session,
            args.email,
            args.item,
            below_cents=target,
            min_discount=discount,
            new_low=rule == "new_low",
        )
        game = watchlist.find_game(session, args.item)
        row = {
            "rule": entry.rule,
            "target_cents": entry.target_cents,
            "min_discount_pct": entry.min_discount_pct,
            "currency": game.currency,
        }
        line = (
            f"{watchlist.normalize_email(args.email)} watches {game.itemkey} "
            f"({game.title}): {_rule_text(row)}"
        )
    print(terminal_safe(line))
    return 0


def cmd_watch_list(args: argparse.Namespace) -> int:
    """Print the watches, of EMAIL or of everyone."""
    from scheduler.alerts import watchlist

    with transaction() as session:
        rows = watchlist.list_watches(session, args.email)
    if args.json:
        print_json(rows)
        return 0
    print_table(
        [
            {
                **row,
                "email": row["email"] + (" (unsubscribed)" if row["unsubscribed_at"] else ""),
                "rule": _rule_text(row),
                "price": _price(row),
                "alerted": _alerted(row),
            }
            for row in rows
        ],
        ["email", "item", "title", "rule", "price", "alerted"],
        empty="no watches",
    )
    return 0


def cmd_watch_remove(args: argparse.Namespace) -> int:
    """Stop watching ITEM for EMAIL."""
    from scheduler.alerts import watchlist

    with transaction() as session:
        if not watchlist.remove_watch(session, args.email, args.item):
            raise CLIError(f"{args.email} does not watch {args.item}")
    print(f"removed {args.item} from {args.email}'s watches")
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Print recent alerts, newest first."""
    from scheduler.alerts import watchlist

    limit = _whole(args.limit, "--limit")
    if limit < 1:
        raise CLIError(f"--limit must be 1 or more, not {limit}")
    if limit > MAX_LIMIT:
        raise CLIError(f"--limit must be at most {MAX_LIMIT:,}, not {limit}")
    with transaction() as session:
        rows = watchlist.list_alerts(session, args.status, limit)
    if args.json:
        print_json(rows)
        return 0
    shown = [
        {
            **row,
            "price": format_price(row["trigger_cents"], row["currency"]),
            "was": format_price(row["previous_cents"], row["currency"]),
        }
        for row in rows
    ]
    print_table(
        shown,
        [
            "id",
            "created_at",
            "email",
            "item",
            "title",
            "price",
            "was",
            "status",
            "attempts",
            "last_error",
        ],
        empty="no alerts",
    )
    return 0


def _rule_text(row: dict[str, Any]) -> str:
    texts: dict[str, Callable[[], str]] = {
        "below": lambda: f"at or below {format_price(row['target_cents'], row['currency'])}",
        "discount": lambda: f"discount of {row['min_discount_pct']}% or more",
        "new_low": lambda: "new lowest price",
    }
    return texts[row["rule"]]()


def _price(row: dict[str, Any]) -> str:
    price = format_price(row["final_cents"], row["currency"], row["is_free"])
    return f"{price} (-{row['discount_pct']}%)" if row["discount_pct"] else price


def _alerted(row: dict[str, Any]) -> str | None:
    if row["last_alert_cents"] is None:
        return None
    return format_price(row["last_alert_cents"], row["currency"])
