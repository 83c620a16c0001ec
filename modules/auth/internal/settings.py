"""Auth's own settings, read from the process environment when the module is assembled.

Token verification (issuer, public keys, access-token lifetime) is the kernel's: every process verifies.
"""

from __future__ import annotations

from dataclasses import dataclass

from kernel.settings import Settings, parse_bool, parse_positive_int

REFRESH_TOKEN_TTL = "FREIGHTDESK_REFRESH_TOKEN_TTL"  # noqa: S105 - a setting name
REGISTRATION_ENABLED = "FREIGHTDESK_REGISTRATION_ENABLED"


@dataclass(frozen=True)
class AuthSettings:
    refresh_token_ttl: int = 7 * 24 * 3600
    """Seconds a refresh token (and so a sign-in) lasts without being used."""
    registration_enabled: bool = True

    @classmethod
    def read(cls, settings: Settings) -> AuthSettings:
        ttl, registration = settings.value(REFRESH_TOKEN_TTL), settings.value(REGISTRATION_ENABLED)
        return cls(
            refresh_token_ttl=parse_positive_int(REFRESH_TOKEN_TTL, ttl) if ttl else cls.refresh_token_ttl,
            registration_enabled=parse_bool(REGISTRATION_ENABLED, registration) if registration else True,
        )
