"""The edit form and `scout schedule set` are one check: for any value typed into a field, both
apply it or both refuse it with the same line (the CLI names the flag --args, the form args)."""

from __future__ import annotations

import html
import json
import re

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from models import Session, utcnow
from scheduler.beat import entries as store
from scheduler.cli import main
from tests.support.admin import ADMIN, signed_in, token, with_admins

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SPEC = {"task": "celery.backend_cleanup", "schedule": {"every": 30}}
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=8,
)
option_texts = st.dictionaries(
    st.sampled_from(["queue", "expires", "countdown", "priority", "retry", "time_limit"]),
    st.sampled_from(["celery", "mail", "nosuchqueue", ""]) | scalars,
    max_size=3,
).map(json.dumps)
crons = st.sampled_from(["*/5 * * * *", "0 2 * * mon", "0 0 31 2 *", "60 * * * *", "* * *"])
texts = (
    crons
    | st.sampled_from(["30s", "0s", "5x", "367d", "[]", "[1]", "{}", "null", "[NaN]", "{x"])
    | json_values.map(json.dumps)
    | option_texts
    | st.text(max_size=30)
)


def show(name: str) -> dict:
    with Session() as session:
        return store.as_spec(store.get_entry(session, name))


@FUZZ
@given(field=st.sampled_from(["cron", "every", "args", "kwargs", "options"]), value=texts)
def test_the_form_and_the_cli_accept_and_refuse_the_same_edits_with_the_same_line(
    sqlite_db, scout_app, capsys, field, value
):
    assume(value.encode("utf-8", "surrogatepass") == value.encode("utf-8", "ignore"))
    for name in ("by-cli", "by-web"):
        store.in_transaction(
            lambda s, n=name: (
                n in {e.name for e in store.all_entries(s)}
                or store.add_entry(s, n, SPEC, "test", utcnow(), None)
            )
        )
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    capsys.readouterr()
    status = main(["schedule", "set", "by-cli", f"--{field}={value}", "--by=fuzz"])
    err = capsys.readouterr().err.strip().removeprefix("scout: error: ")
    page = "/admin/schedule/by-web"
    answer = client.post(page, data={"csrf_token": token(client, page), "do": "save", field: value})

    event("applied" if status == 0 else "refused")
    if status == 0:
        assert answer.status_code == 302, (field, value, answer.text[-2000:])
        assert show("by-cli") == show("by-web")
    else:
        assert answer.status_code == 400, (field, value, err)
        lines = re.findall(r'<p class="error" role="alert"[^>]*>([^<]*)</p>', answer.text)
        assert [html.unescape(line) for line in lines] == [err.replace("bad --", "bad ")]
        assert show("by-cli") == show("by-web")
