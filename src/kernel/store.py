"""One interface for shared, expiring state: revocation lists, throttling counters, caches.

Backed by Redis when `REDIS_URL` is set (shared by every process), else by process memory. Callers decide
what a failure means: revocation checks fail closed, caches and counters degrade.
"""

from __future__ import annotations

import time
from typing import Protocol

from redis.asyncio import Redis


class StoreUnavailable(Exception):
    """The shared store did not answer."""


class SharedStore(Protocol):
    name: str

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def increment(self, key: str, window_seconds: float) -> int:
        """Add one to a counter that expires `window_seconds` after its first increment; return the count."""

    async def ttl(self, key: str) -> float | None:
        """Seconds until `key` expires, or None when it does not exist or never expires."""

    async def ping(self) -> None: ...


class MemoryStore:
    """Process-local store for the single-process default. Expired keys are dropped on access."""

    name = "memory"

    def __init__(self) -> None:
        self._values: dict[str, tuple[bytes, float | None]] = {}

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    def _live(self, key: str) -> tuple[bytes, float | None] | None:
        entry = self._values.get(key)
        if entry is None:
            return None
        if entry[1] is not None and entry[1] <= self._now():
            del self._values[key]
            return None
        return entry

    async def get(self, key: str) -> bytes | None:
        entry = self._live(key)
        return entry[0] if entry else None

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        self._values[key] = (value, self._now() + ttl_seconds if ttl_seconds else None)

    async def delete(self, key: str) -> None:
        self._values.pop(key, None)

    async def increment(self, key: str, window_seconds: float) -> int:
        entry = self._live(key)
        if entry is None:
            self._values[key] = (b"1", self._now() + window_seconds)
            return 1
        count = int(entry[0]) + 1
        self._values[key] = (str(count).encode(), entry[1])
        return count

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None or entry[1] is None:
            return None
        return max(entry[1] - self._now(), 0.0)

    async def ping(self) -> None:
        return None


class RedisStore:
    """Redis-backed store; every key carries a prefix so one Redis can serve other applications too."""

    name = "redis"

    def __init__(self, client: Redis, prefix: str = "freightdesk:") -> None:
        self._client = client
        self._prefix = prefix

    def _key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._client.get(self._key(key))
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc
        return value if value is None or isinstance(value, bytes) else str(value).encode()

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        try:
            if ttl_seconds:
                await self._client.set(self._key(key), value, px=max(int(ttl_seconds * 1000), 1))
            else:
                await self._client.set(self._key(key), value)
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc

    async def delete(self, key: str) -> None:
        try:
            await self._client.delete(self._key(key))
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc

    async def increment(self, key: str, window_seconds: float) -> int:
        full_key = self._key(key)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(full_key)
                pipe.pexpire(full_key, max(int(window_seconds * 1000), 1), nx=True)
                count, _ = await pipe.execute()
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc
        return int(count)

    async def ttl(self, key: str) -> float | None:
        try:
            millis = await self._client.pttl(self._key(key))
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc
        return None if millis is None or millis < 0 else millis / 1000

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except Exception as exc:
            raise StoreUnavailable(str(type(exc).__name__)) from exc
