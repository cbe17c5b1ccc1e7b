"""Mint an RSA key, its JWKS and test tokens; print them as JSON.

Runs with the service tool venv's Python (PyJWT and cryptography live there, not in
the test venv): python jwt_tokens.py ISSUER AUDIENCE
"""

from __future__ import annotations

import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


def main(issuer: str, audience: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    now = int(time.time())

    def token(sub: str, *, signer=key, exp: int = 3600, **claims: object) -> str:
        payload = {"sub": sub, "iss": issuer, "aud": audience, "iat": now, "exp": now + exp}
        return jwt.encode({**payload, **claims}, signer, algorithm="RS256", headers={"kid": "ci"})

    print(
        json.dumps(
            {
                "jwks": {"keys": [{**jwk, "kid": "ci", "use": "sig", "alg": "RS256"}]},
                "tokens": {
                    "business_a": token("business-a"),
                    "business_b": token("business-b"),
                    "staff": token("reviewer", **{"cognito:groups": ["staff"]}),
                    "expired": token("business-a", exp=-600),
                    "forged": token("business-a", signer=forged),
                },
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
