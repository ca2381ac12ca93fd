"""WeCom sending state in Redis (企业微信发送状态·Redis), when `DAIBAN_REDIS_URL` is set.

The same `SendState` as the store's, for deployments whose replicas send a lot: a rate
window is a sorted set per key (one member per send, scored by its time), admitted by one
Lua script so that every replica's admission is atomic on the Redis server; the token and
multi-part progress are plain keys with an expiry. Cards stay in the database: the
callback that closes them reads the store.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.transports.base import PermanentError, TransientError
from bot.transports.wecom_state import PROGRESS_TTL, Limit, StoreState

PREFIX = "daiban:wecom:"  # then the app (corp id and agent id), so deployments never mix

# KEYS[1] the window; ARGV: now, count, member prefix, then limit/period pairs. Returns
# 0 (slots taken) or the seconds to wait, as a string (Lua numbers lose the fraction).
ADMIT = """
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local longest = 0
for i = 4, #ARGV, 2 do
  local period = tonumber(ARGV[i + 1])
  if period > longest then longest = period end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - longest)
local wait = 0
for i = 4, #ARGV, 2 do
  local limit = tonumber(ARGV[i])
  local period = tonumber(ARGV[i + 1])
  local recent = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - period), '+inf', 'WITHSCORES')
  local n = #recent / 2
  local excess = n + count - limit
  if excess > 0 then
    local frees = tonumber(recent[2 * excess]) + period - now
    if frees < 0.001 then frees = 0.001 end
    if frees > wait then wait = frees end
  end
end
if wait > 0 then return tostring(wait) end
for j = 1, count do
  redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. j)
end
redis.call('PEXPIRE', KEYS[1], math.ceil(longest * 1000))
return '0'
"""


class RedisState:
    """`SendState` in Redis; cards through the database (`store`)."""

    def __init__(
        self,
        redis: Redis,
        store: StoreState,
        app: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.store = store
        self.clock = clock
        self.prefix = f"{PREFIX}{app}:"
        self._admit = redis.register_script(ADMIT)

    @classmethod
    def from_url(cls, url: str, store: StoreState, app: str) -> RedisState:
        return cls(Redis.from_url(url), store, app)

    async def close(self) -> None:
        await self.redis.aclose()

    async def admit(self, key: str, limits: Sequence[Limit], count: int) -> float:
        if any(count > limit for limit, _ in limits):
            raise PermanentError(f"{count} sends can never fit a limit of {min(limits)[0]}")
        pairs: list[Any] = [v for limit, period in limits for v in (limit, period)]
        member = secrets.token_hex(8)  # unique per admission: two replicas never collide
        try:
            answer = await self._admit(
                keys=[f"{self.prefix}window:{key}"], args=[self.clock(), count, member, *pairs]
            )
        except (RedisError, OSError) as exc:  # Redis away: wait, as for a store outage
            raise TransientError(f"Redis unavailable: {type(exc).__name__}") from None
        return float(answer)

    async def progress(self, key: str) -> int:
        found = await self.redis.get(f"{self.prefix}progress:{key}")
        return int(found) if found else 0

    async def advance(self, key: str, done: int | None) -> None:
        name = f"{self.prefix}progress:{key}"
        if done is None:
            await self.redis.delete(name)
        else:
            await self.redis.set(name, done, ex=int(PROGRESS_TTL.total_seconds()))

    async def token(self) -> str | None:
        found = await self.redis.get(f"{self.prefix}access_token")
        return found.decode() if isinstance(found, bytes) else found

    async def keep_token(self, token: str, lifetime: float) -> None:
        await self.redis.set(f"{self.prefix}access_token", token, px=max(1, int(lifetime * 1000)))

    async def card_sent(self, task_id: str, chat: str, buttons: list[dict[str, Any]]) -> None:
        await self.store.card_sent(task_id, chat, buttons)


__all__ = ["RedisState"]
