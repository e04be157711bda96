"""The admin guard: a bearer token, compared in constant time, on every mutating route.

Reading the network is public (everything served is on chain or content-addressed
anyway); steering the round loop is the operator's alone. A missing or wrong token is
a 401 with `WWW-Authenticate: Bearer` and a message saying how to authenticate; a
service started without any admin token refuses admin calls with 403, since no token
could ever be right. `hmac.compare_digest` keeps the comparison time independent of
how many leading characters a guess got right.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request, status

from aggregator.service.settings import ENV_ADMIN_TOKEN, AdminToken

_SCHEME = "bearer"


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": 'Bearer realm="fedledger-admin"'},
    )


def check_admin(token: AdminToken | None, authorization: str | None) -> None:
    """Raise the HTTP error an admin call with this `Authorization` header deserves, if any."""
    if token is None:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail=(
                "admin actions are disabled: the service was started without an admin token "
                f"(set {ENV_ADMIN_TOKEN} or admin_token_file in the config file)"
            ),
        )
    if not authorization:
        raise _unauthorized(
            "admin action: send the operator's token as 'Authorization: Bearer <token>'"
        )
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != _SCHEME or not presented.strip():
        raise _unauthorized("admin action: the Authorization header must be 'Bearer <token>'")
    candidate = presented.strip().encode("utf-8", errors="replace")
    if not hmac.compare_digest(candidate, token.secret):
        raise _unauthorized("admin action: the bearer token is not the operator's token")


def require_admin(request: Request) -> None:
    """FastAPI dependency: let the request through only with the operator's token."""
    check_admin(request.app.state.context.settings.admin_token,
                request.headers.get("authorization"))
