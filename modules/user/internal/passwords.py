"""Password hashing: argon2id for every new hash, legacy bcrypt accepted (imported from the old system).

Hashing and verifying take tens of milliseconds of CPU (and 7 MiB) on purpose, so they run on two low-priority
worker threads: the event loop keeps serving other requests at full speed during a burst of sign-ins, a burst can
use both cores, and memory stays bounded (benchmarks/login_load.py measures this). Nothing here logs or returns a
password or a hash to a caller outside this module.
"""

from __future__ import annotations

from functools import cache

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kernel.background import BackgroundCpu

# argon2id at one of OWASP's minimum configurations (7 MiB, t=5, one lane; the Password Storage Cheat Sheet
# lists it beside 12 MiB, t=3 and 19 MiB, t=2 as equivalent): the same work as those, in the least memory, so
# a sign-in holds 7 MiB and touches fewer fresh pages (with `freightdesk run`'s huge-page allocations, about
# 30 % less CPU per hash than 12 MiB, t=3 on 4 KiB pages, measured on the same machine). One lane keeps a hash
# on its worker thread instead of starting threads of its own. A hash made with other parameters (12 MiB, t=3
# or the 64 MiB, t=3 of earlier versions) is replaced at its next successful sign-in. Nice 19: the loop wins
# the CPU, so a burst of sign-ins costs the other routes little; sign-ins pay when the loop is saturated
# (benchmarks/login_load.py; figures in docs/operations.md).
_hasher = PasswordHasher(memory_cost=7_168, time_cost=5, parallelism=1)
_LEGACY_PREFIXES = ("$2a$", "$2b$", "$2y$")
_worker = BackgroundCpu("password-hash", workers=2, nice=19, max_waiting=32)


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a miss costs what a wrong password costs."""
    return _hasher.hash("freightdesk-timing-equaliser")


def is_legacy(password_hash: str) -> bool:
    return password_hash.startswith(_LEGACY_PREFIXES)


def _verify_sync(password_hash: str, password: str) -> bool:
    if is_legacy(password_hash):
        try:
            # bcrypt 4+ does not know the `$2y$` (PHP) spelling; it is the same algorithm.
            normalized = "$2b$" + password_hash[4:] if password_hash.startswith("$2y$") else password_hash
            return bcrypt.checkpw(password.encode()[:72], normalized.encode())
        except ValueError:
            return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await _worker.run(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await _worker.run(_verify_sync, password_hash, password)


async def verify_dummy(password: str) -> None:
    """Spend the time a real verification would, for an email that matches no user."""
    await _worker.run(lambda: _verify_sync(_dummy_hash(), password))


def needs_rehash(password_hash: str) -> bool:
    """True for legacy bcrypt hashes and for argon2 hashes made with other parameters than today's."""
    if is_legacy(password_hash):
        return True
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
