"""The one password policy (docs/api.md §3), applied wherever a password is set: register, create, PATCH and
change-password. Only the seeded development administrator bypasses it (see `seed.py`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from kernel.contracts.errors import FieldErrors
from modules.user.api import MAX_PASSWORD_LENGTH

MIN_LENGTH = 8
MAX_LENGTH = MAX_PASSWORD_LENGTH
_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The refused passwords, lower-cased (compared ignoring case)."""
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def password_problems(password: str, email: str | None) -> list[str]:
    """Every rule `password` breaks, as the messages a person reads; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    elif len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    if not password.strip():
        problems.append("must not be only spaces")
    elif password.strip().lower() in common_passwords():
        problems.append("is too common")
    if email and password.strip().lower() == email.strip().lower():
        problems.append("must not be the same as the email")
    return problems


def check_password(errors: FieldErrors, field: str, password: str, email: str | None) -> None:
    for problem in password_problems(password, email):
        errors.add(field, problem)
