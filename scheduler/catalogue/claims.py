"""Claims on watched apps in Redis, so refreshes that overlap never ask for the same app twice.

A claim is SET NX with a TTL, one key per app, holding the claimant's token: a refresh that
runs long or overlaps the next tick skips what another one holds, and a killed worker's claims
lapse after the TTL. Release deletes only keys still holding our token.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis

PREFIX = "scout:price-claim:"
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    released = released + redis.call('del', key)
  end
end
return released
"""


class Claims:
    """Take and release per-app claims for one claimant (its token, e.g. the task id)."""

    def __init__(self, client: redis.Redis, token: str, ttl: int) -> None:
        self.client, self.token, self.ttl = client, token, ttl
        self._release = client.register_script(_RELEASE)

    def take(self, steam_ids: Sequence[int]) -> list[int]:
        """Return the ids claimed now (ours already count), in the order given."""
        pipe = self.client.pipeline(transaction=False)
        for steam_id in steam_ids:
            pipe.set(f"{PREFIX}{steam_id}", self.token, nx=True, ex=self.ttl)
        for steam_id in steam_ids:
            pipe.get(f"{PREFIX}{steam_id}")
        replies = pipe.execute()
        holders = replies[len(steam_ids) :]
        mine = self.token.encode()
        pairs = zip(steam_ids, holders, strict=True)
        return [steam_id for steam_id, holder in pairs if holder == mine]

    def release(self, steam_ids: Sequence[int]) -> int:
        """Drop our claims on these ids; return how many were still ours."""
        if not steam_ids:
            return 0
        keys = [f"{PREFIX}{steam_id}" for steam_id in steam_ids]
        return int(self._release(keys=keys, args=[self.token]))
