"""Forged, stale and malformed tokens: every one is a 401, each its own case.

Tokens are built by hand (base64url JSON + an HMAC or RSA signature) so a case can be anything an
attacker can send, not only what PyJWT agrees to encode. The baseline test proves the hand-made
token is accepted when nothing is wrong with it, so each refusal is for the one thing changed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import delete

from clipmill.accounts.tokens import derive_key
from clipmill.jobs.models import User
from tests.accounts.conftest import PASSWORD, AuthApp, bearer

KEY = derive_key("test-secret")  # tests/support/containers.py sets secret_key="test-secret"
HEADER = {"alg": "HS256", "typ": "JWT"}


def b64(data: bytes | str) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def forge(
    header: dict[str, Any] | str,
    payload: dict[str, Any] | str,
    *,
    key: bytes = KEY,
    digest: Callable[..., Any] = hashlib.sha256,
    signature: str | None = None,
) -> str:
    head = b64(header if isinstance(header, str) else json.dumps(header))
    body = b64(payload if isinstance(payload, str) else json.dumps(payload))
    signing_input = f"{head}.{body}".encode()
    if signature is None:
        signature = b64(hmac.new(key, signing_input, digest).digest())
    return f"{head}.{body}.{signature}"


@dataclass
class Scene:
    app: AuthApp
    name: str
    user_id: str
    other_id: str
    now: int

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims = {
            "sub": self.user_id,
            "iat": self.now,
            "nbf": self.now,
            "exp": self.now + 600,
            "jti": uuid.uuid4().hex,
            "aud": "clipmill",
            "iss": "clipmill",
            "typ": "access",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not None}

    def without(self, name: str) -> dict[str, Any]:
        claims = self.claims()
        del claims[name]
        return claims


def _rsa_signed(scene: Scene) -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}))
    body = b64(json.dumps(scene.claims()))
    sig = private.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{b64(sig)}"


def _rsa_public_pem_as_secret(scene: Scene) -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return forge(HEADER, scene.claims(), key=pem)


def _login(scene: Scene) -> dict[str, Any]:
    return scene.app.login(scene.name)


def _after_logout(scene: Scene) -> str:
    token: str = _login(scene)["access_token"]
    scene.app.client.post("/api/v1/auth/logout", headers=bearer(token))
    return token


def _after_disabled(scene: Scene) -> str:
    token: str = _login(scene)["access_token"]
    scene.app.container.accounts.set_disabled(scene.user_id, True)
    return token


def _after_deleted(scene: Scene) -> str:
    token: str = _login(scene)["access_token"]
    with scene.app.container.sessions() as session, session.begin():
        session.execute(delete(User).where(User.id == scene.user_id))
    return token


def _other_sub_with_old_signature(scene: Scene) -> str:
    real: str = _login(scene)["access_token"]
    head, body, sig = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["sub"] = scene.other_id
    return f"{head}.{b64(json.dumps(claims))}.{sig}"


def _flip_signature(scene: Scene) -> str:
    token = forge(HEADER, scene.claims())
    head, body, sig = token.split(".")
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    return f"{head}.{body}.{flipped}"


def _ticket(scene: Scene) -> str:
    return scene.app.container.accounts.issue_ticket(
        scene.app.container.accounts.principal_for(scene.user_id)
    )


#: name -> (how to make the Authorization value, the codes that may answer)
BAD = "invalid_token"
CASES: dict[str, tuple[Callable[[Scene], str], set[str]]] = {
    "alg-none-no-signature": (
        lambda s: forge({"alg": "none", "typ": "JWT"}, s.claims(), signature=""),
        {BAD},
    ),
    "alg-none-with-signature": (lambda s: forge({"alg": "none"}, s.claims()), {BAD}),
    "alg-None-capitalised": (lambda s: forge({"alg": "None"}, s.claims(), signature=""), {BAD}),
    "alg-HS512-right-key": (
        lambda s: forge({"alg": "HS512"}, s.claims(), digest=hashlib.sha512),
        {BAD},
    ),
    "alg-HS384-right-key": (
        lambda s: forge({"alg": "HS384"}, s.claims(), digest=hashlib.sha384),
        {BAD},
    ),
    "alg-RS256-fresh-rsa-key": (_rsa_signed, {BAD}),
    "hs256-with-rsa-public-pem-as-secret": (_rsa_public_pem_as_secret, {BAD}),
    "bad-signature": (_flip_signature, {BAD}),
    "truncated": (lambda s: forge(HEADER, s.claims())[:-6], {BAD}),
    "no-signature-part": (lambda s: forge(HEADER, s.claims()).rsplit(".", 1)[0], {BAD}),
    "wrong-key": (lambda s: forge(HEADER, s.claims(), key=b"k" * 32), {BAD}),
    "expired": (lambda s: forge(HEADER, s.claims(exp=s.now - 3600)), {"token_expired"}),
    "nbf-in-future": (lambda s: forge(HEADER, s.claims(nbf=s.now + 3600)), {BAD}),
    "iat-far-in-future": (lambda s: forge(HEADER, s.claims(iat=s.now + 365 * 86400)), {BAD}),
    "missing-exp": (lambda s: forge(HEADER, s.without("exp")), {BAD}),
    "missing-jti": (lambda s: forge(HEADER, s.without("jti")), {BAD}),
    "missing-sub": (lambda s: forge(HEADER, s.without("sub")), {BAD}),
    "missing-aud": (lambda s: forge(HEADER, s.without("aud")), {BAD}),
    "missing-iss": (lambda s: forge(HEADER, s.without("iss")), {BAD}),
    "missing-typ": (lambda s: forge(HEADER, s.without("typ")), {BAD}),
    "missing-iat": (lambda s: forge(HEADER, s.without("iat")), {BAD}),
    "missing-nbf": (lambda s: forge(HEADER, s.without("nbf")), {BAD}),
    "wrong-aud": (lambda s: forge(HEADER, s.claims(aud="someone-else")), {BAD}),
    "aud-list-with-ours": (lambda s: forge(HEADER, s.claims(aud=["clipmill", "x"])), {BAD}),
    "wrong-iss": (lambda s: forge(HEADER, s.claims(iss="evil")), {BAD}),
    "exp-as-string": (lambda s: forge(HEADER, s.claims(exp=str(s.now + 600))), {BAD}),
    "exp-as-bool": (lambda s: forge(HEADER, s.claims(exp=True)), {BAD}),
    "sub-as-number": (lambda s: forge(HEADER, s.claims(sub=12345)), {BAD}),
    "typ-unknown": (lambda s: forge(HEADER, s.claims(typ="admin")), {BAD}),
    "refresh-token-as-access": (lambda s: _login(s)["refresh_token"], {BAD}),
    "ticket-as-access": (_ticket, {BAD}),
    "after-logout": (_after_logout, {"token_revoked"}),
    "after-user-disabled": (_after_disabled, {"account_disabled"}),
    "after-user-deleted": (_after_deleted, {BAD}),
    "unknown-sub": (lambda s: forge(HEADER, s.claims(sub=str(uuid.uuid4()))), {BAD}),
    "other-users-sub-old-signature": (_other_sub_with_old_signature, {BAD}),
    "kid-header": (lambda s: forge({**HEADER, "kid": "../../etc/passwd"}, s.claims()), {BAD}),
    "jku-header": (
        lambda s: forge({**HEADER, "jku": "https://evil.example/jwks.json"}, s.claims()),
        {BAD},
    ),
    "x5u-header": (
        lambda s: forge({**HEADER, "x5u": "https://evil.example/cert.pem"}, s.claims()),
        {BAD},
    ),
    "jwk-header": (
        lambda s: forge({**HEADER, "jwk": {"kty": "oct", "k": b64(b"k" * 32)}}, s.claims()),
        {BAD},
    ),
    "crit-header": (lambda s: forge({**HEADER, "crit": ["exp"]}, s.claims()), {BAD}),
    "header-not-json": (lambda s: forge("{not json", s.claims()), {BAD}),
    "payload-json-garbage": (lambda s: forge(HEADER, '{"sub": "x", garbage'), {BAD}),
    "payload-json-array": (lambda s: forge(HEADER, json.dumps([s.claims()])), {BAD}),
    "random-text": (lambda s: "hello.world.again", {BAD}),
    "huge-token": (lambda s: forge(HEADER, s.claims(pad="x" * 10_000)), {BAD}),
}

#: raw Authorization values (and header lists) that are no credential at all
RAW_CASES: dict[str, list[tuple[str, str]]] = {
    "empty-authorization": [("Authorization", "")],
    "bearer-without-token": [("Authorization", "Bearer")],
    "bearer-space-only": [("Authorization", "Bearer  ")],
    "basic-scheme": [("Authorization", "Basic dXNlcjpwYXNz")],
    "two-tokens-one-header": [("Authorization", "Bearer a.b.c d.e.f")],
    "two-authorization-headers": [("Authorization", "Bearer a.b.c"), ("Authorization", "Bearer x")],
    "key-and-token": [("Authorization", "Bearer a.b.c"), ("X-API-Key", "cm_" + "A" * 43)],
}


@pytest.fixture
def scene(shared_app: AuthApp) -> Scene:
    accounts = shared_app.container.accounts
    tag = uuid.uuid4().hex[:8]
    victim = accounts.create_user(f"victim-{tag}", PASSWORD)
    other = accounts.create_user(f"other-{tag}", None)
    return Scene(shared_app, victim.name, victim.id, other.id, int(shared_app.clock.time()))


def test_the_hand_made_token_is_accepted_when_nothing_is_wrong(scene: Scene) -> None:
    response = scene.app.client.get(
        "/api/v1/auth/me", headers=bearer(forge(HEADER, scene.claims()))
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == scene.name


@pytest.mark.parametrize("case", list(CASES))
def test_forged_or_stale_token_is_refused(scene: Scene, case: str) -> None:
    make, codes = CASES[case]
    token = make(scene)
    for path in ("/api/v1/auth/me", "/api/v1/jobs"):
        response = scene.app.client.get(path, headers=bearer(token))
        assert response.status_code == 401, (case, response.text)
        assert response.json()["error"]["code"] in codes, case
        assert response.headers["www-authenticate"].startswith("Bearer")
    cookie = scene.app.client.get("/api/v1/jobs", headers={"Cookie": f"clipmill_session={token}"})
    assert cookie.status_code == 401, case


@pytest.mark.parametrize("case", list(RAW_CASES))
def test_malformed_authorization_is_refused(scene: Scene, case: str) -> None:
    response = scene.app.client.get("/api/v1/jobs", headers=RAW_CASES[case])
    assert response.status_code == 401, (case, response.text)
    assert response.json()["error"]["code"] in {"invalid_token", "invalid_api_key"}


@pytest.mark.parametrize(
    "case", ["access-token", "ticket", "forged-refresh-wrong-key", "expired-refresh", "empty"]
)
def test_refresh_route_takes_only_a_live_refresh_token(scene: Scene, case: str) -> None:
    token = {
        "access-token": lambda: _login(scene)["access_token"],
        "ticket": lambda: _ticket(scene),
        "forged-refresh-wrong-key": lambda: forge(
            HEADER, scene.claims(typ="refresh"), key=b"k" * 32
        ),
        "expired-refresh": lambda: forge(HEADER, scene.claims(typ="refresh", exp=scene.now - 60)),
        "empty": lambda: "",
    }[case]()
    response = scene.app.client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code in (401, 422), response.text
    if response.status_code == 401:
        assert response.json()["error"]["code"] in {"invalid_token", "token_expired"}
