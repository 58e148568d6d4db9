"""scheduler.beat.admin's edit for any front end: read from texts, applied, unchanged parts left
out when a form sends every field."""

from __future__ import annotations

import pytest

from models import Session, utcnow
from scheduler.beat import admin
from scheduler.beat import entries as store
from scheduler.beat.timing import Timing

SPEC = {
    "task": "scheduler.tasks.alerts.send_digests",
    "schedule": {"every": 3600},
    "args": [1],
    "kwargs": {"subscriber_ids": [2]},
    "options": {"queue": "mail", "expires": 60},
}


@pytest.fixture
def entry(db):
    store.in_transaction(lambda s: store.add_entry(s, "send", SPEC, "test", utcnow(), None))
    with Session() as session:
        return store.get_entry(session, "send")


@pytest.mark.parametrize(
    ("texts", "field", "message"),
    [
        ({"args": "[1"}, "args", "bad --args: not valid JSON"),
        ({"kwargs": "null"}, "kwargs", "bad --kwargs: null is not a JSON list or object"),
        ({"options": "[NaN]"}, "options", "NaN is not a JSON number"),
        ({"expires": "soon"}, "expires", "bad interval 'soon'"),
        ({"cron": "0 2 * *"}, "cron", "five fields"),
        ({"every": "0s"}, "every", "must be positive"),
    ],
)
def test_a_bad_text_is_refused_naming_its_field(texts, field, message):
    with pytest.raises(admin.FieldError) as info:
        admin.read_change(**texts)
    assert info.value.field == field and message in str(info.value)


def test_the_form_s_prefix_names_the_field_without_dashes():
    with pytest.raises(admin.FieldError, match=r"^bad args: not valid JSON"):
        admin.read_change(args="[1", prefix="")


def test_what_equals_the_entry_is_left_out_by_json_equality_not_python_s(entry):
    same = admin.read_change(
        every="1h", args="[1]", kwargs='{"subscriber_ids": [2]}', options=entry_options()
    )
    assert admin.without_unchanged(same, entry).empty
    true_for_one = admin.read_change(args="[true]", options='{"queue": "mail", "expires": 60.0}')
    kept = admin.without_unchanged(true_for_one, entry)  # True == 1 and 60.0 == 60 in Python
    assert kept.call == {"args": [True]}
    assert kept.options == {"queue": "mail", "expires": 60.0}


def entry_options() -> str:
    return '{"expires": 60, "queue": "mail"}'  # another key order, the same object


def test_an_edit_with_nothing_new_re_anchors_nothing_and_logs_nothing(entry):
    change = admin.Change(timing=Timing(every=3600), enabled=True)

    _, done = store.in_transaction(
        lambda s: admin.apply_change(s, "send", change, "ann", utcnow(), None, keep_unchanged=False)
    )

    assert done.empty
    with Session() as session:
        again = store.get_entry(session, "send")
        assert again.anchored_at == entry.anchored_at
        assert len(store.edit_history(session, "send")) == 1  # the add only


def test_the_change_says_what_it_changed_in_words():
    change = admin.read_change(cron="0 3 * * *", args="[2]", queue="mail", enabled=False)
    assert change.described() == "schedule cron 0 3 * * *, args, options, disabled"
    assert admin.Change().empty and not admin.Change(enabled=True).empty
