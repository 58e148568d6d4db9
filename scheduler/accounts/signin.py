"""Sign-in by email link: ask for a link, issue it once, redeem it once; sweep unconfirmed sign-ups.

One email address both signs up and signs in. A link carries a random nonce signed with the
sign-in salt (unsubscribe links are another kind of token altogether); only the nonce's SHA-256
is stored, with its expiry, and a newer link overwrites it, so an older link stops working. A
link is redeemed by one conditional UPDATE that clears the hash: used once, whatever races it.

Helpers take the session as first argument and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.alert import Subscriber
from models.base import rows_changed
from scheduler.alerts.inputs import normalize_email
from scheduler.alerts.watchlist import add_subscriber

LINK_LIFETIME = timedelta(hours=1)
UNCONFIRMED_KEPT = timedelta(days=7)
SALT = "steamscout.sign-in"
TOKEN_MAX_LENGTH = 300  # a signed nonce is about 100 characters; anything longer is not ours
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


class SignInError(Exception):
    """A sign-in link that does not sign anyone in; str() is one line for the visitor."""


@dataclass(frozen=True)
class SignInRequest:
    """What the sign-in email task needs: whom to write to, and which request it answers."""

    subscriber_id: int
    request_id: str


@dataclass(frozen=True)
class Account:
    """The signed-in person, as a page needs it."""

    id: int
    email: str
    session_key: str
    unsubscribed: bool


def signer(secret_key: str) -> URLSafeTimedSerializer:
    """Return the serializer of sign-in links (its salt is theirs alone)."""
    return URLSafeTimedSerializer(secret_key, salt=SALT)


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def request_sign_in(
    session: Session, email: str, *, now: datetime, smtputf8: bool
) -> SignInRequest:
    """Record a request for a link to email (a new, unconfirmed subscriber if unknown).

    Raises WatchError (one line) for an address that is not valid or the relay cannot reach.
    """
    address = normalize_email(email, smtputf8=smtputf8)
    subscriber = add_subscriber(session, address, now=now, confirmed=False)
    subscriber.sign_in_request = secrets.token_hex(16)
    session.flush()
    return SignInRequest(subscriber.id, subscriber.sign_in_request)


def issue_link(
    session: Session, request: SignInRequest, *, now: datetime, secret_key: str
) -> tuple[str, str] | None:
    """Return (address, signed token) for the request, storing the nonce's hash.

    None when there is nothing to send: the subscriber is gone, a newer request superseded this
    one (its own task sends the newer link), or this request's email was already accepted.
    """
    subscriber = session.get(Subscriber, request.subscriber_id, with_for_update=True)
    if subscriber is None or subscriber.sign_in_request != request.request_id:
        return None
    if subscriber.sign_in_sent == request.request_id:
        return None
    nonce = secrets.token_urlsafe(32)
    subscriber.sign_in_hash = _digest(nonce)
    subscriber.sign_in_expires_at = now + LINK_LIFETIME
    session.flush()
    return subscriber.email, str(signer(secret_key).dumps(nonce))


def mark_sent(session: Session, request: SignInRequest) -> None:
    """Remember that the server accepted the email of this request, so it is never sent again."""
    session.execute(
        update(Subscriber)
        .where(Subscriber.id == request.subscriber_id)
        .values(sign_in_sent=request.request_id)
    )


def _nonce(token: str, secret_key: str) -> str:
    if len(token) > TOKEN_MAX_LENGTH or not set(token) <= _TOKEN_CHARS:
        raise SignInError("This is not a sign-in link of ours. Ask for a new one below.")
    try:
        nonce = signer(secret_key).loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise SignInError("This sign-in link has expired. Ask for a new one below.") from None
    except BadSignature:
        raise SignInError("This is not a sign-in link of ours. Ask for a new one below.") from None
    if not isinstance(nonce, str):
        raise SignInError("This is not a sign-in link of ours. Ask for a new one below.")
    return nonce


USED = "This sign-in link was already used or a newer one replaced it. Ask for a new one below."


def peek(session: Session, token: str, *, now: datetime, secret_key: str) -> Account:
    """Return whom a link would sign in, changing nothing (mail scanners open links)."""
    digest = _digest(_nonce(token, secret_key))
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.sign_in_hash == digest)
    ).first()
    if subscriber is None:
        raise SignInError(USED)
    if subscriber.sign_in_expires_at is None or subscriber.sign_in_expires_at <= now:
        raise SignInError("This sign-in link has expired. Ask for a new one below.")
    return account_of(subscriber)


def redeem(session: Session, token: str, *, now: datetime, secret_key: str) -> Account:
    """Use a link: clear its hash, confirm the address the first time; return the account.

    Raises SignInError when the link is forged, expired, used, or replaced by a newer one.
    """
    digest = _digest(_nonce(token, secret_key))
    subscriber_id = session.scalar(
        update(Subscriber)
        .where(Subscriber.sign_in_hash == digest, Subscriber.sign_in_expires_at > now)
        .values(sign_in_hash=None, sign_in_expires_at=None)
        .returning(Subscriber.id)
    )
    if subscriber_id is None:
        peek(session, token, now=now, secret_key=secret_key)  # raises the precise reason
        raise SignInError(USED)
    subscriber = session.get_one(Subscriber, subscriber_id, populate_existing=True)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now
    session.flush()
    return account_of(subscriber)


def account_of(subscriber: Subscriber) -> Account:
    """Return the Account of a subscriber row."""
    return Account(
        id=subscriber.id,
        email=subscriber.email,
        session_key=subscriber.session_key,
        unsubscribed=subscriber.unsubscribed_at is not None,
    )


def signed_in(session: Session, subscriber_id: object, session_key: object) -> Account | None:
    """Return the account a session cookie names, or None when it names no one (any more)."""
    if not isinstance(subscriber_id, int) or not isinstance(session_key, str):
        return None
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None or not secrets.compare_digest(subscriber.session_key, session_key):
        return None
    return account_of(subscriber)


def sweep_unconfirmed(session: Session, *, now: datetime) -> int:
    """Delete sign-ups never confirmed within UNCONFIRMED_KEPT; return how many."""
    result = session.execute(
        delete(Subscriber).where(
            Subscriber.confirmed_at.is_(None), Subscriber.created_at < now - UNCONFIRMED_KEPT
        )
    )
    return rows_changed(result)
