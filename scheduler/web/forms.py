"""The web's forms (Flask-WTF: each carries a CSRF token); checks beyond shape live in the
step functions the CLI calls too, so a bad value gets the same one line on both."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs: 3.2
from wtforms.validators import DataRequired, Length

from scheduler.wishlist.profile import MAX_PROFILE

# RFC 5321 caps a path at 256 octets with its brackets: an address of 254 characters.
MAX_EMAIL = 254


class SignInForm(FlaskForm):
    """One field both signs up and signs in."""

    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=MAX_EMAIL, message=f"An email address has at most {MAX_EMAIL} characters."),
        ],
    )
    next = HiddenField()


class ButtonForm(FlaskForm):
    """A form that is only a button (sign in with a link, sign out): its CSRF token."""


RULE_CHOICES = [
    SelectChoice("below", "a price at or below"),
    SelectChoice("discount", "a discount of at least (%)"),
    SelectChoice("new_low", "a new lowest price"),
]
MAX_ITEM = 500
MAX_VALUE = 40


class RuleForm(FlaskForm):
    """A watch's rule: its name and the price or percentage typed for it."""

    rule = SelectField("Alert me at", choices=RULE_CHOICES, default="below")
    value = StringField(
        "Price or percent",
        validators=[
            Length(
                max=MAX_VALUE, message=f"A price or percentage has at most {MAX_VALUE} characters."
            )
        ],
    )


class WatchForm(RuleForm):
    """Watch a game: the store item as the CLI takes it (App_440, 440, a store URL), its rule."""

    item = StringField(
        "Game (store link, App_440 or 440)",
        validators=[
            DataRequired("Enter a store link or an id such as App_440."),
            Length(max=MAX_ITEM, message=f"A store item has at most {MAX_ITEM} characters."),
        ],
    )
    next = HiddenField()


class EmailsForm(FlaskForm):
    """When the emails come: as soon as a drop is found, or one digest a day at a local hour."""

    frequency = StringField("frequency")
    hour = StringField("hour")
    timezone = StringField(
        "Time zone",
        validators=[Length(max=64, message="A time zone name has at most 64 characters.")],
    )


class WishlistForm(RuleForm):
    """Import a Steam wishlist: the profile (a SteamID64 or a profile address), one rule for all."""

    profile = StringField(
        "Your Steam profile (address or SteamID64)",
        validators=[
            DataRequired("Enter your SteamID64 or your Steam profile's address."),
            Length(
                max=MAX_PROFILE,
                message=f"A Steam profile's address has at most {MAX_PROFILE} characters.",
            ),
        ],
    )
