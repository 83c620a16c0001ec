"""Password hashing: argon2id for every new hash, legacy bcrypt accepted (imported from the old system).

Hashing and verifying take tens of milliseconds of CPU on purpose, so they run in a worker thread and the
event loop keeps serving other requests. Nothing here logs or returns a password or a hash to a caller
outside this module.
"""

from __future__ import annotations

import asyncio
from functools import cache

import bcrypt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with argon2-cffi's recommended parameters
_LEGACY_PREFIXES = ("$2a$", "$2b$", "$2y$")


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
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(_verify_sync, password_hash, password)


async def verify_dummy(password: str) -> None:
    """Spend the time a real verification would, for an email that matches no user."""
    await asyncio.to_thread(lambda: _verify_sync(_dummy_hash(), password))


def needs_rehash(password_hash: str) -> bool:
    """True for legacy bcrypt hashes and for argon2 hashes made with weaker parameters than today's."""
    if is_legacy(password_hash):
        return True
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
