"""What a person types to name their Steam profile: ids, profile addresses, custom names, and
everything else refused with one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.wishlist.profile import ProfileError, ProfileRef, is_individual, read_profile

GABEN = 76561197960287930  # an individual account: universe 1, type 1, instance 1


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("76561197960287930", ProfileRef(steamid=GABEN)),
        ("  76561197960287930\n", ProfileRef(steamid=GABEN)),
        ("https://steamcommunity.com/profiles/76561197960287930", ProfileRef(steamid=GABEN)),
        ("https://steamcommunity.com/profiles/76561197960287930/", ProfileRef(steamid=GABEN)),
        ("http://www.steamcommunity.com/profiles/76561197960287930/", ProfileRef(steamid=GABEN)),
        ("steamcommunity.com/profiles/76561197960287930", ProfileRef(steamid=GABEN)),
        ("https://steamcommunity.com/id/gabelogannewell", ProfileRef(name="gabelogannewell")),
        ("https://steamcommunity.com/id/Gabe_N-1/?l=english#x", ProfileRef(name="Gabe_N-1")),
        ("https://store.steampowered.com/wishlist/id/gaben/", ProfileRef(name="gaben")),
        (f"https://store.steampowered.com/wishlist/profiles/{GABEN}/", ProfileRef(steamid=GABEN)),
        ("gaben", ProfileRef(name="gaben")),
        ("a_b", ProfileRef(name="a_b")),
        ("x" * 32, ProfileRef(name="x" * 32)),
    ],
)  # fmt: skip
def test_ids_profile_addresses_and_custom_names_are_read(typed, expected):
    assert read_profile(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("7656119796028793", "not a SteamID64: '7656119796028793' has 16 digits"),
        ("1234567890123456", "has 16 digits, a SteamID64 has 17"),
        ("12345678901234567", "not the SteamID64 of a Steam account"),
        ("76561197960265728", "not the SteamID64 of a Steam account"),  # account number 0
        ("103582791429521412", "has 18 digits"),  # a Steam group's id
        ("https://evil.example/id/gaben", "not a Steam profile address"),
        ("https://steamcommunity.com.evil.example/id/gaben", "not a Steam profile address"),
        ("https://steamcommunity.com@evil.example/id/gaben", "not a Steam profile address"),
        ("ftp://steamcommunity.com/id/gaben", "not a Steam profile address"),
        ("javascript:alert(1)", "not a Steam profile address"),
        (":[", "not a Steam profile address"),  # urlsplit refuses it with ValueError
        ("https://steamcommunity.com/groups/valve", "not a Steam profile address"),
        ("https://steamcommunity.com/id/gaben/games", "not a Steam profile address"),
        ("https://steamcommunity.com/wishlist/id/gaben", "not a Steam profile address"),
        ("https://steamcommunity.com/profiles/gaben", "not a SteamID64 in"),
        ("https://steamcommunity.com/profiles/7656119796028793", "has 16 digits"),
        ("https://steamcommunity.com/id/ga%20ben", "not a Steam custom URL name"),
        ("gabe newell", "not a Steam custom URL name 'gabe newell'"),
        ("ab", "not a Steam custom URL name"),
        ("x" * 33, "not a Steam custom URL name"),
        ("gab\x00en", "not a Steam custom URL name"),
        ("<script>", "not a Steam custom URL name"),
        ("ｇａｂｅｎ", "not a Steam custom URL name"),
        ("７６５６１１９７９６０２８７９３０", "not a Steam custom URL name"),
        ("x" * 5000, "at most 200 characters"),
        ("   ", "enter your SteamID64"),
    ],
)
def test_anything_else_is_refused_with_one_line(typed, message):
    with pytest.raises(ProfileError) as refused:
        read_profile(typed)

    line = str(refused.value)
    assert message in line
    assert "\n" not in line and len(line) < 200


def test_only_individual_accounts_pass_the_universe_type_and_instance_check():
    assert is_individual(GABEN)
    assert not is_individual(GABEN - 0x0010000000000000)  # type 0: invalid
    assert not is_individual(GABEN + 0x0010000000000000)  # type 2: multiseat
    assert not is_individual(GABEN + 0x0100000000000000)  # universe 2: beta
    assert not is_individual(103582791429521412)  # a clan (group)
    assert not is_individual(0) and not is_individual(-GABEN) and not is_individual(1 << 64)


@given(st.text(max_size=300))
def test_any_text_is_a_profile_or_one_line_of_refusal(typed):
    try:
        profile = read_profile(typed)
    except ProfileError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 200
        return
    assert (profile.steamid is None) != (profile.name is None)
    if profile.steamid is not None:
        assert is_individual(profile.steamid)
    else:
        assert profile.name is not None and profile.name.isascii() and 3 <= len(profile.name) <= 32
