"""Steam's answers read safely: a profile page's steamID64, GetWishlist's app ids, and garbage."""

from __future__ import annotations

import json

import pytest

from scheduler.wishlist.answers import (
    GarbageAnswer,
    ProfileAnswer,
    ProfileNotFound,
    parse_profile,
    parse_wishlist,
)
from storesim.steam import NOT_FOUND, PRESETS, profile_xml

GABEN = 76561197960287930
PUBLIC = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?><profile>
\t<steamID64>{GABEN}</steamID64>
\t<steamID><![CDATA[Rabscuttle <b>&amp;</b>]]></steamID>
\t<onlineState>offline</onlineState>
\t<privacyState>public</privacyState>
\t<visibilityState>3</visibilityState>
</profile>"""


def test_a_profile_page_gives_its_steamid64_and_whether_it_is_private():
    assert parse_profile(PUBLIC) == ProfileAnswer(GABEN, private=False)
    private = PUBLIC.replace("public", "private")
    assert parse_profile(private) == ProfileAnswer(GABEN, private=True)


def test_the_simulated_stores_pages_read_like_steams():
    for profile in PRESETS:
        assert parse_profile(profile_xml(profile)) == ProfileAnswer(
            profile.steamid, profile.private
        )


def test_a_name_nobody_has_is_profile_not_found_with_steams_line():
    with pytest.raises(ProfileNotFound) as missing:
        parse_profile(NOT_FOUND)

    assert str(missing.value) == "The specified profile could not be found."


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<html><body>Access Denied</body></html>",
        "<html><head><title>Access Denied</title></head><body>\ufffd\ufffd Reference #18</body>",
        "<profile><steamID64>not-an-id</steamID64></profile>",
        "<profile><steamID64>12345678901234567</steamID64></profile>",
        "<profile></profile>",
        "<profile><steamID64>7656119796028793",
        '{"response": {}}',
        # An entity that expands to an id, an external entity, and a billion laughs: none
        # is expanded or fetched; the declaration alone makes it not Steam's page.
        '<!DOCTYPE p [<!ENTITY id "76561197960287930">]><profile><steamID64>&id;</steamID64>'
        "</profile>",
        '<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><profile><steamID64>&x;'
        "</steamID64></profile>",
        '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><profile><steamID64>&c;</steamID64>'
        "</profile>",
        "<a>" * 300 + "</a>" * 300,
    ],
)
def test_anything_else_is_a_garbage_answer_with_one_line(body):
    with pytest.raises(GarbageAnswer) as garbage:
        parse_profile(body)

    assert "\n" not in str(garbage.value)


def test_a_wishlist_gives_each_app_id_once_in_the_answers_order():
    items = [
        {"appid": a, "priority": n, "date_added": 1700000000}
        for n, a in enumerate([620, 70, 620, 400])
    ]
    body = json.dumps({"response": {"items": items}})

    assert parse_wishlist(body) == [620, 70, 400]


@pytest.mark.parametrize("body", ['{"response": {}}', '{"response": {"items": []}}'])
def test_a_private_or_empty_wishlist_is_no_app_ids(body):
    assert parse_wishlist(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "",
        "null",
        "[]",
        "{}",
        '{"response": null}',
        '{"response": {"items": {}}}',
        '{"response": {"items": [{"priority": 0}]}}',
        '{"response": {"items": [{"appid": "440"}]}}',
        '{"response": {"items": [{"appid": true}]}}',
        '{"response": {"items": [{"appid": -5}]}}',
        '{"response": {"items": [{"appid": 4294967296}]}}',
        '{"response": {"items": [{"appid": 1.5}]}}',
        '{"response": {"items": [440]}}',
        '{"response": {"items": [{"appid": 440}',
        "<html><head><title>Access Denied</title></head></html>",
        "[" * 100_000,
    ],
)
def test_a_wishlist_answer_that_is_not_getwishlists_is_garbage_never_a_shorter_list(body):
    with pytest.raises(GarbageAnswer) as garbage:
        parse_wishlist(body)

    assert "\n" not in str(garbage.value) and len(str(garbage.value)) < 200
