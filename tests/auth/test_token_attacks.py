"""Forged, stale and revoked tokens are refused with 401."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar import Litestar

from tests.auth.conftest import login, register
from tests.helpers import bearer, runtime_of, token_for

PROFILE = "/api/v1/auth/profile"
CARRIERS = "/api/v1/carriers"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def valid_claims(app: Litestar, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": runtime_of(app).settings.jwt_issuer,
        "sub": "1",
        "email": "admin@example.com",
        "roles": ["admin"],
        "permissions": ["carriers.list"],
        "sid": "attack-session",
        "jti": "attack",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def signed(app: Litestar, claims: dict[str, Any]) -> str:
    keys = runtime_of(app).security.keys
    assert keys.signing_key is not None
    return jwt.encode(claims, keys.signing_key, algorithm="EdDSA", headers={"kid": keys.signing_kid})


async def assert_refused(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(CARRIERS, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "Unauthorized"


async def test_a_valid_token_is_accepted(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    """The control: the same construction, unmodified, passes — so the refusals below are the attacks'."""
    assert (await anonymous.get(CARRIERS, headers=bearer(signed(app, valid_claims(app))))).status_code == 200


async def test_alg_none_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    kid = runtime_of(app).security.keys.signing_kid
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64(valid_claims(app))}."
    await assert_refused(anonymous, token)


async def test_tampered_payload_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    header, _, signature = signed(app, valid_claims(app)).split(".")
    forged = b64(valid_claims(app, permissions=["carriers.list", "users.delete"], sub="2"))
    await assert_refused(anonymous, f"{header}.{forged}.{signature}")


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 5},
        {"nbf": int(time.time()) + 3600},
        {"iat": int(time.time()) + 3600, "nbf": int(time.time()) + 3600},
        {"iss": "someone-else"},
    ],
    ids=["expired", "not-yet-valid", "issued-in-the-future", "wrong-issuer"],
)
async def test_claims_out_of_bounds_are_refused(
    anonymous: httpx.AsyncClient, app: Litestar, overrides: dict[str, Any]
) -> None:
    await assert_refused(anonymous, signed(app, valid_claims(app, **overrides)))


async def test_missing_session_claim_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    claims = valid_claims(app)
    del claims["sid"]
    await assert_refused(anonymous, signed(app, claims))


async def test_hs256_signed_with_the_public_key_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    keys = runtime_of(app).security.keys
    assert keys.signing_key is not None
    public_pem = keys.signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.signing_kid}
    signing_input = f"{b64(header)}.{b64(valid_claims(app))}"
    import hashlib
    import hmac

    signature = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())
    await assert_refused(anonymous, f"{signing_input}.{signature.rstrip(b'=').decode()}")


async def test_token_signed_by_an_unknown_key_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    stranger = Ed25519PrivateKey.generate()
    kid = runtime_of(app).security.keys.signing_kid
    await assert_refused(anonymous, jwt.encode(valid_claims(app), stranger, algorithm="EdDSA", headers={"kid": kid}))


@pytest.mark.parametrize("header", ["Bearer", "Basic abc", "bearer ", "Token x.y.z"])
async def test_malformed_authorization_headers_are_401(anonymous: httpx.AsyncClient, header: str) -> None:
    assert (await anonymous.get(CARRIERS, headers={"Authorization": header})).status_code == 401


async def test_token_of_a_deleted_user_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    user = await register(anonymous, "leaving@example.com")
    token = str(user["access_token"])
    assert (await anonymous.get(PROFILE, headers=bearer(token))).status_code == 200
    admin = await login(anonymous)
    user_id = user["user"]["id"]  # type: ignore[index]
    deleted = await anonymous.delete(f"/api/v1/users/{user_id}", headers=bearer(str(admin["access_token"])))
    assert deleted.status_code == 204
    assert (await anonymous.get(PROFILE, headers=bearer(token))).status_code == 401


async def test_token_of_a_deactivated_user_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    user = await register(anonymous, "paused@example.com")
    token = str(user["access_token"])
    admin = await login(anonymous)
    user_id = user["user"]["id"]  # type: ignore[index]
    response = await anonymous.patch(
        f"/api/v1/users/{user_id}", json={"isActive": False}, headers=bearer(str(admin["access_token"]))
    )
    assert response.status_code == 200, response.text
    assert (await anonymous.get(PROFILE, headers=bearer(token))).status_code == 401
    refresh = await anonymous.post("/api/v1/auth/refresh", json={"refreshToken": user["refresh_token"]})
    assert refresh.status_code == 401


async def test_token_of_a_revoked_session_is_refused(anonymous: httpx.AsyncClient, app: Litestar) -> None:
    token = token_for(app, permissions=["carriers.list"], session_id="soon-revoked")
    assert (await anonymous.get(CARRIERS, headers=bearer(token))).status_code == 200
    await runtime_of(app).security.revocations.revoke_session("soon-revoked")
    await assert_refused(anonymous, token)
