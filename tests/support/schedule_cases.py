"""Schedule edits every front end must refuse, with the words of the one line each gets.

`scout schedule add/set` (tests/cli/test_schedule.py) and the admin console's edit form
(tests/web/test_admin_schedule.py) both run these: the same checks, the same line.
"""

from __future__ import annotations

import json

REFUSED_CALLS = [
    (["--options", '{"args": [1]}'], "bad option 'args'"),
    (["--options", '{"retry": false}'], "bad option 'retry'"),
    (["--options", '{"producer": 1}'], "bad option 'producer'"),
    (["--options", '{"headers": "x"}'], "bad option 'headers'"),
    (["--options", '{"countdown": "abc"}'], "bad countdown 'abc'"),
    (["--options", '{"countdown": 1e999}'], "NaN and Infinity"),
    (["--options", '{"countdown": 7200}'], "bad countdown 7200"),
    (["--options", '{"priority": 10}'], "bad priority 10"),
    (["--options", '{"priority": true}'], "must be a whole number"),
    (["--options", '{"expires": 0}'], "bad expires 0"),
    (["--options", '{"soft_time_limit": 60, "time_limit": 30}'], "shorter than time_limit"),
    (["--options", '{"queue": "nosuchqueue"}'], "no worker consumes it"),
    (["--queue", "nosuchqueue"], "no worker consumes it"),
    (["--queue", ""], "bad queue ''"),
    (["--options", "[1]"], "must be a JSON object"),
    (["--args", "[NaN]"], "NaN is not a JSON number"),
    (["--args", "[Infinity]"], "Infinity is not a JSON number"),
    (["--args", "{x"], "not valid JSON"),
    (["--args", "[" * 5000], "not valid JSON"),
    (["--args", "[" * 20 + "]" * 20], "nested deeper"),
    (["--args", json.dumps(["x" * 20_000])], "at most 10000"),
    (["--args", r'["\ud800"]'], "not valid Unicode"),
    (["--args", "[1]"], "does not take these arguments"),
    (["--kwargs", '{"x": 1}'], "does not take these arguments"),
    (["--expires", "soon"], "bad interval 'soon'"),
]
