"""The Ed25519 key pair that signs access tokens, made once for a compose stack (the `keys` one-shot service).

    python make-signing-key.py PRIVATE_KEY_FILE PUBLIC_KEY_FILE

Runs in the Freightdesk image as its own user. When PRIVATE_KEY_FILE does not exist it is created (PEM,
PKCS#8, mode 0600); PUBLIC_KEY_FILE is then (re)written from it (PEM, SubjectPublicKeyInfo, mode 0644). An
existing private key is kept, so running it again changes nothing: the stack's tokens stay valid across
restarts and upgrades. The process hosting auth reads the private key (FREIGHTDESK_JWT_PRIVATE_KEY_FILE), every
other process only the public one (FREIGHTDESK_JWT_PUBLIC_KEY_FILES); compose keeps them in two volumes so
that only auth's container holds the private key.

To rotate: put the old public key aside where the processes can read it and list it in
FREIGHTDESK_JWT_PUBLIC_KEY_FILES after the new one, delete the private key, run the service again, restart.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.security.keys import key_id


def load_or_create(private_file: Path) -> tuple[Ed25519PrivateKey, bool]:
    if private_file.exists():
        key = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SystemExit(f"{private_file} holds a key that is not Ed25519")
        return key, False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    private_file.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two runs at once cannot both write one.
    descriptor = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    return key, True


def write_public(key: Ed25519PrivateKey, public_file: Path) -> None:
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if public_file.exists() and public_file.read_bytes() == pem:
        return
    public_file.parent.mkdir(parents=True, exist_ok=True)
    partial = public_file.with_name(public_file.name + ".tmp")
    partial.write_bytes(pem)
    partial.chmod(0o644)
    partial.replace(public_file)


def main(arguments: list[str]) -> int:
    if len(arguments) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    private_file, public_file = Path(arguments[0]), Path(arguments[1])
    key, created = load_or_create(private_file)
    write_public(key, public_file)
    state = "created" if created else "kept"
    print(f"signing key {key_id(key.public_key())} {state}: {private_file}; public key: {public_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
