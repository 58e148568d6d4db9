"""Subscriber data on request: `scout subscribers export|delete ADDRESS`.

For an admin acting on a person's request by email: export prints everything held about the
address as JSON; delete removes it all (asks for --yes, and says what it would delete without).
"""

from __future__ import annotations

import argparse

from scheduler.cli.output import print_json
from scheduler.cli.services import transaction
from scheduler.cli.watch import EMAIL


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the subscribers command to the scout parser."""
    parser = subparsers.add_parser("subscribers", help="export or delete a subscriber's data")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="print everything held about ADDRESS as JSON")
    export.add_argument("email", metavar="ADDRESS", type=EMAIL)
    export.set_defaults(func=cmd_export)
    delete = actions.add_parser("delete", help="delete ADDRESS and everything about it")
    delete.add_argument("email", metavar="ADDRESS", type=EMAIL)
    delete.add_argument("--yes", action="store_true", help="really delete (without: only say)")
    delete.set_defaults(func=cmd_delete)


def cmd_export(args: argparse.Namespace) -> int:
    """Print the subscriber's data as JSON."""
    from scheduler.accounts import data

    with transaction() as session:
        exported = data.export_account(session, data.find(session, args.email).id)
    print_json(exported)
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    """Delete the subscriber and everything about them (with --yes)."""
    from scheduler.accounts import data

    with transaction() as session:
        subscriber = data.find(session, args.email)
        address = subscriber.email
        exported = data.export_account(session, subscriber.id)
        if not args.yes:
            print(
                f"would delete {address}: {len(exported['watches'])} watches, "
                f"{len(exported['alerts'])} alerts; add --yes to delete"
            )
            return 1
        counts = data.delete_account(session, subscriber.id)
    print(f"deleted {address}: {counts['watches']} watches, {counts['alerts']} alerts")
    return 0
