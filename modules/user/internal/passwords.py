"""Password hashing: argon2id for every new hash, legacy bcrypt accepted (imported from the old system).

Hashing and verifying take about 20 ms of CPU (and 19 MiB) on purpose, so they run on two low-priority worker
threads: the event loop keeps serving other requests at full speed during a burst of sign-ins, a burst can use
both cores, and memory stays bounded (benchmarks/login_load.py measures this). Nothing here logs or returns a
password or a hash to a caller outside this module.
"""

from __future__ import annotations

from functools import cache

import bcrypt
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.low_level import ARGON2_VERSION

from kernel.background import BackgroundCpu

# argon2id at OWASP's recommended minimum (19 MiB, t=2, one lane; the Password Storage Cheat Sheet): about 18 ms
# per hash here, so two threads verify ~100 sign-ins a second. One lane keeps a hash on its worker thread
# instead of starting threads of its own. Hashes made with stronger parameters (the 64 MiB, t=3 of earlier
# versions) stay as they are; weaker ones are replaced at the next sign-in.
MEMORY_COST_KIB = 19_456
TIME_COST = 2
_hasher = PasswordHasher(memory_cost=MEMORY_COST_KIB, time_cost=TIME_COST, parallelism=1)
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
    """True for legacy bcrypt hashes and for argon2 hashes weaker than today's parameters (another variant, less
    memory, fewer passes); a stronger argon2id hash is kept."""
    if is_legacy(password_hash):
        return True
    try:
        parameters = extract_parameters(password_hash)
    except InvalidHashError:
        return True
    return (
        parameters.type is not Type.ID
        or parameters.memory_cost < MEMORY_COST_KIB
        or parameters.time_cost < TIME_COST
        or parameters.version < ARGON2_VERSION
    )
