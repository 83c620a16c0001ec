"""Sign-in throttling and request rate limits (docs/api.md §3.3, §3.8), counted in the shared store.

**Sign-in throttling** (`LoginThrottle`) counts failed password checks per email and per client IP.

Shared by every place that checks a password: login (auth), change-password (auth) and a user changing
their own password through PATCH /users/{id} (user), so a stolen access token is no unthrottled oracle.

Only failures count. Once an email has 5 failures within 15 minutes, every attempt for it gets 429 with
`Retry-After` until the window passes, whether or not the account exists.

When the store is down the limits cannot be applied, so the attempt is refused: `StoreUnavailable` reaches
the HTTP layer as 503 with `Retry-After`. Letting it through would switch the throttle off for as long as the
outage lasts (every guess answered 401, none counted), and the tokens a sign-in issued could not be used
anyway, since every authenticated request checks revocations in the same store and fails closed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kernel.contracts.errors import TooManyRequests
from kernel.store import SharedStore


@dataclass(frozen=True)
class Limits:
    per_email: int = 5
    per_ip: int = 50
    window_seconds: int = 15 * 60


class LoginThrottle:
    def __init__(self, store: SharedStore, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits()

    @staticmethod
    def _email_key(email: str) -> str:
        return f"auth:login-failures:email:{email}"

    @staticmethod
    def _ip_key(ip: str) -> str:
        return f"auth:login-failures:ip:{ip}"

    async def check(self, email: str, ip: str | None) -> None:
        """Raise TooManyRequests when either limit is reached (StoreUnavailable when it cannot be known)."""
        checks = [(self._email_key(email), self.limits.per_email)]
        if ip:
            checks.append((self._ip_key(ip), self.limits.per_ip))
        for key, limit in checks:
            raw = await self.store.get(key)
            if raw is not None and int(raw) >= limit:
                retry_after = await seconds_left(self.store, key, self.limits.window_seconds)
                raise TooManyRequests(retry_after, "Too many login attempts; try again later")

    async def failed(self, email: str, ip: str | None) -> None:
        """Count a failure; StoreUnavailable when it cannot be counted (the caller must not answer 401 then)."""
        await self.store.increment(self._email_key(email), self.limits.window_seconds)
        if ip:
            await self.store.increment(self._ip_key(ip), self.limits.window_seconds)

    async def succeeded(self, email: str) -> None:
        await self.store.delete(self._email_key(email))


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` requests per client IP in a fixed window of `window_seconds` that starts with the
    first request; past it, 429 until the window ends. `name` keys the counters (one set per route)."""

    name: str
    limit: int
    window_seconds: int


class RateLimiter:
    """**Request rate limits** (`RateLimit`): every request counts, answered or refused, valid or not.

    Like the sign-in throttle it fails closed: when the store cannot count, `StoreUnavailable` (503)."""

    def __init__(self, store: SharedStore) -> None:
        self.store = store

    @staticmethod
    def key(limit: RateLimit, client: str) -> str:
        return f"rate:{limit.name}:ip:{client}"

    async def hit(self, limit: RateLimit, client: str) -> None:
        """Count one request of `client`; raise TooManyRequests once it is over the limit."""
        key = self.key(limit, client)
        if await self.store.increment(key, limit.window_seconds) > limit.limit:
            retry_after = await seconds_left(self.store, key, limit.window_seconds)
            raise TooManyRequests(retry_after, "Too many requests; try again later")


async def seconds_left(store: SharedStore, key: str, window_seconds: int) -> int:
    """Whole seconds until the counter `key` expires: the `Retry-After` of a 429."""
    remaining = await store.ttl(key)
    return math.ceil(remaining) if remaining else window_seconds
