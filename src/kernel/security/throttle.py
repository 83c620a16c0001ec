"""Sign-in throttling (docs/api.md §3): per email and per client IP, counted in the shared store.

Shared by every place that checks a password: login (auth), change-password (auth) and a user changing
their own password through PATCH /users/{id} (user), so a stolen access token is no unthrottled oracle.

Only failures count. Once an email has 5 failures within 15 minutes, every attempt for it gets 429 with
`Retry-After` until the window passes, whether or not the account exists. When the store is down the
limits cannot be applied; logins go on (logged once per failure) rather than locking everyone out.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from kernel.http.errors import TooManyRequests
from kernel.store import SharedStore, StoreUnavailable

log = logging.getLogger("freightdesk.security")


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
        """Raise TooManyRequests when either limit is reached."""
        checks = [(self._email_key(email), self.limits.per_email)]
        if ip:
            checks.append((self._ip_key(ip), self.limits.per_ip))
        try:
            for key, limit in checks:
                raw = await self.store.get(key)
                if raw is not None and int(raw) >= limit:
                    remaining = await self.store.ttl(key)
                    retry_after = math.ceil(remaining) if remaining else self.limits.window_seconds
                    raise TooManyRequests(retry_after, "Too many login attempts; try again later")
        except StoreUnavailable:
            log.warning("login throttling skipped: shared store unavailable")

    async def failed(self, email: str, ip: str | None) -> None:
        try:
            await self.store.increment(self._email_key(email), self.limits.window_seconds)
            if ip:
                await self.store.increment(self._ip_key(ip), self.limits.window_seconds)
        except StoreUnavailable:
            log.warning("login failure not counted: shared store unavailable")

    async def succeeded(self, email: str) -> None:
        try:
            await self.store.delete(self._email_key(email))
        except StoreUnavailable:
            log.warning("login failure counter not reset: shared store unavailable")
