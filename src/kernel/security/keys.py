"""The Ed25519 key ring that signs and verifies access tokens, and its JWKS.

Development: a key pair is generated once into `<data dir>/keys/`. Production: the private key comes from
`FREIGHTDESK_JWT_PRIVATE_KEY_FILE`; older public keys listed in `FREIGHTDESK_JWT_PUBLIC_KEY_FILES` stay
valid for verification (rotation), and every public key is published in the JWKS with its `kid`.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kernel.settings import Settings, SettingsError

ALGORITHM = "EdDSA"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return _b64url(hashlib.sha256(raw).digest()[:12])


def jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(raw),
        "kid": key_id(public_key),
        "alg": ALGORITHM,
        "use": "sig",
    }


def _load_private(path: Path, setting: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{setting}: cannot read an Ed25519 private key from {path} ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SettingsError(f"{setting}: {path} is not an Ed25519 private key")
    return key


def _load_public(path: Path, setting: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{setting}: cannot read an Ed25519 public key from {path} ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SettingsError(f"{setting}: {path} is not an Ed25519 public key")
    return key


def _generate_development_key(path: Path) -> Ed25519PrivateKey:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class KeyRing:
    signing_key: Ed25519PrivateKey | None
    verification_keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)

    @property
    def signing_kid(self) -> str:
        if self.signing_key is None:
            raise RuntimeError("this process holds no signing key")
        return key_id(self.signing_key.public_key())

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk(key) for _, key in sorted(self.verification_keys.items())]}

    @classmethod
    def from_keys(cls, signing_key: Ed25519PrivateKey | None, *others: Ed25519PublicKey) -> KeyRing:
        publics = [*(k for k in others), *([signing_key.public_key()] if signing_key else [])]
        return cls(signing_key, {key_id(k): k for k in publics})

    @classmethod
    def load(cls, settings: Settings, signs_tokens: bool = True) -> KeyRing:
        """The keys of this process. Only a process hosting a module that `signs_tokens` (auth) needs the
        private key; in production the others verify with its public key(s) alone and never hold it."""
        private_file = settings.value("FREIGHTDESK_JWT_PRIVATE_KEY_FILE")
        public_files = [
            p.strip() for p in (settings.value("FREIGHTDESK_JWT_PUBLIC_KEY_FILES") or "").split(",") if p.strip()
        ]
        others = [_load_public(Path(p), "FREIGHTDESK_JWT_PUBLIC_KEY_FILES") for p in public_files]
        if private_file is not None:
            return cls.from_keys(_load_private(Path(private_file), "FREIGHTDESK_JWT_PRIVATE_KEY_FILE"), *others)
        if settings.production and not signs_tokens:
            if not others:
                raise SettingsError(
                    "FREIGHTDESK_JWT_PUBLIC_KEY_FILES: a production process without the auth module verifies "
                    "tokens with the auth process's public key(s); name them here"
                )
            return cls.from_keys(None, *others)
        if settings.production:
            raise SettingsError(
                "FREIGHTDESK_JWT_PRIVATE_KEY_FILE: production needs a signing key of its own "
                "(generated development keys are refused)"
            )
        path = settings.data_dir / "keys" / "jwt-signing-ed25519.pem"
        key = _load_private(path, "development signing key") if path.exists() else _generate_development_key(path)
        return cls.from_keys(key, *others)
