"""Per-app claims in Redis: an overlapping refresh skips what another holds, for a while."""

from __future__ import annotations

import time

from scheduler.catalogue.claims import Claims


def test_a_second_claimant_gets_only_what_the_first_does_not_hold(redis_client) -> None:
    first, second = Claims(redis_client, "a", ttl=60), Claims(redis_client, "b", ttl=60)
    assert first.take([1, 2, 3]) == [1, 2, 3]
    assert second.take([3, 4, 2, 5]) == [4, 5]
    assert first.take([1, 4]) == [1]  # ours already count; theirs do not
    assert second.release([1, 4, 5]) == 2  # 1 is not theirs to release
    assert second.take([1]) == []
    first.release([1, 2, 3])
    assert second.take([1, 2, 3]) == [1, 2, 3]
    second.release([1, 2, 3])


def test_a_claim_lapses_after_its_ttl_so_a_killed_worker_holds_nothing_for_long(redis_client):
    Claims(redis_client, "dead", ttl=1).take([7])
    other = Claims(redis_client, "alive", ttl=60)
    assert other.take([7]) == []
    time.sleep(1.2)
    assert other.take([7]) == [7]
    other.release([7])
