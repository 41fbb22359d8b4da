"""CDS Hooks client authentication: the bearer JWT a CDS client signs, verified with PyJWT.

Takes the trusted issuers (`--trusted-issuers FILE`: each issuer with its keys, a JWKS file or
a JWKS URL) and, per request, the Authorization header and the endpoint's URL; returns the
token's claims or raises `AuthError` with the reason (the service answers 401). Checked, as
the CDS Hooks 2.0 specification asks: an asymmetric signature by a key of a trusted issuer,
`iss`, `aud` (the service's endpoint URL), `exp`, `iat`, and `jti` never seen before while the
token lives (a replay is refused). It does no HTTP of its own beyond fetching a JWKS URL.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384"]
LEEWAY = 30  # seconds of clock difference tolerated on exp and iat


class AuthError(Exception):
    """Why a request's token is refused (said in the 401's body)."""


class TrustError(Exception):
    """The trusted-issuers file cannot be used (said at start)."""


@dataclass
class _Issuer:
    iss: str
    keys: jwt.PyJWKSet | None = None       # from a JWKS file or inline
    client: jwt.PyJWKClient | None = None  # from a JWKS URL, cached by PyJWT

    def key(self, kid: str | None) -> Any:
        if self.client is not None:
            try:
                if kid is None:
                    keys = self.client.get_signing_keys()
                    if len(keys) != 1:
                        raise AuthError("the token names no key ('kid') and the issuer has several")
                    return keys[0].key
                return self.client.get_signing_key(kid).key
            except jwt.PyJWKClientError as exc:
                raise AuthError(f"no key '{kid}' for issuer '{self.iss}': {exc}") from None
        keys = self.keys.keys if self.keys else []
        for key in keys:
            if kid is None and len(keys) == 1 or key.key_id == kid:
                return key.key
        raise AuthError(f"no key '{kid}' in the JWKS of issuer '{self.iss}'")


def read_trusted_issuers(path: str | Path) -> dict[str, _Issuer]:
    """The issuers a trusted-issuers file names, each with its keys.

    The file is JSON: {"issuers": [{"iss": "https://ehr.example.org", "jwks_url": "https://.../jwks.json"},
    {"iss": "...", "jwks_file": "keys.json"}, {"iss": "...", "jwks": {"keys": [...]}}]}; a
    jwks_file is relative to the trusted-issuers file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrustError(f"cannot read the trusted issuers '{path}': {exc.strerror or exc}") from None
    except ValueError as exc:  # not JSON, or not UTF-8
        raise TrustError(f"cannot read the trusted issuers '{path}': not JSON text ({exc})") from None
    entries = data.get("issuers") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise TrustError(f"'{path}': expected {{\"issuers\": [{{\"iss\": ..., \"jwks_url\" or \"jwks_file\": ...}}]}}")
    issuers = {}
    for number, entry in enumerate(entries):
        where = f"'{path}' issuers[{number}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("iss"), str):
            raise TrustError(f"{where}: an issuer needs its 'iss'")
        issuer = _Issuer(entry["iss"])
        try:
            if isinstance(entry.get("jwks_url"), str):
                issuer.client = jwt.PyJWKClient(entry["jwks_url"], cache_keys=True, lifespan=300, timeout=5)
            elif isinstance(entry.get("jwks_file"), str):
                issuer.keys = jwt.PyJWKSet.from_json((path.parent / entry["jwks_file"]).read_text(encoding="utf-8"))
            elif isinstance(entry.get("jwks"), dict):
                issuer.keys = jwt.PyJWKSet.from_dict(entry["jwks"])
            else:
                raise TrustError(f"{where}: give the issuer's keys as 'jwks_url', 'jwks_file' or 'jwks'")
        except OSError as exc:
            raise TrustError(f"{where}: cannot read its keys '{exc.filename}': {exc.strerror or exc}") from None
        except (ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            raise TrustError(f"{where}: cannot read its keys: {exc}") from None
        issuers[issuer.iss] = issuer
    return issuers


class Verifier:
    """Verifies CDS Hooks client JWTs; remembers each jti until its token expires."""

    def __init__(self, issuers: dict[str, _Issuer], audiences: tuple[str, ...] = ()):
        self.issuers = issuers
        self.audiences = audiences  # accepted besides the endpoint's own URL
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def verify(self, authorization: str | None, endpoint: str) -> dict:
        if not authorization:
            raise AuthError("no Authorization header: a CDS client sends 'Authorization: Bearer <JWT>'")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("the Authorization header is not 'Bearer <JWT>'")
        token = token.strip()
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not a JWT: {exc}") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError(f"the token's algorithm {header.get('alg')!r} is not an asymmetric one CDS Hooks allows")
        issuer = self.issuers.get(str(unverified.get("iss")))
        if issuer is None:
            raise AuthError(f"the issuer {unverified.get('iss')!r} is not trusted")
        key = issuer.key(header.get("kid"))
        try:
            claims = jwt.decode(token, key, algorithms=ALGORITHMS, audience=[endpoint, *self.audiences],
                                issuer=issuer.iss, leeway=LEEWAY,
                                options={"require": ["iss", "aud", "exp", "iat", "jti"]})
        except jwt.ExpiredSignatureError:
            raise AuthError("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"the token's audience is not this service ({endpoint})") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"the token is not valid: {exc}") from None
        self._remember(issuer.iss, str(claims["jti"]), float(claims["exp"]))
        return claims

    def _remember(self, iss: str, jti: str, exp: float) -> None:
        now = time.time()
        with self._lock:
            if len(self._seen) > 10_000:  # forget the tokens that have expired
                self._seen = {k: v for k, v in self._seen.items() if v + LEEWAY > now}
            if (iss, jti) in self._seen:
                raise AuthError(f"the token's jti '{jti}' was used before: a replay")
            self._seen[(iss, jti)] = exp
