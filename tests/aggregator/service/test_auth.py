"""The admin guard: 403 without a configured token, 401 for a missing or wrong one."""

from __future__ import annotations

import pytest
from fastapi import HTTPException

from aggregator.service.auth import check_admin
from aggregator.service.settings import AdminToken

TOKEN = AdminToken("right-token-0123456789")


def test_the_right_bearer_token_passes() -> None:
    # Execute / Assert: no exception
    check_admin(TOKEN, "Bearer right-token-0123456789")
    check_admin(TOKEN, "bearer   right-token-0123456789  ")


@pytest.mark.parametrize(("header", "message"), [
    (None, "send the operator's token as 'Authorization: Bearer <token>'"),
    ("", "send the operator's token as 'Authorization: Bearer <token>'"),
    ("Basic dXNlcjpwYXNz", "the Authorization header must be 'Bearer <token>'"),
    ("Bearer ", "the Authorization header must be 'Bearer <token>'"),
    ("Bearer right-token-012345678", "the bearer token is not the operator's token"),
    ("Bearer right-token-01234567890", "the bearer token is not the operator's token"),
    ("Bearer rïght-token-0123456789", "the bearer token is not the operator's token"),
])
def test_missing_malformed_or_wrong_tokens_get_401_with_a_challenge(header: str | None,
                                                                    message: str) -> None:
    # Execute
    with pytest.raises(HTTPException) as caught:
        check_admin(TOKEN, header)

    # Assert
    assert caught.value.status_code == 401
    assert caught.value.detail == f"admin action: {message}"
    assert caught.value.headers == {"WWW-Authenticate": 'Bearer realm="fedledger-admin"'}


def test_a_service_without_a_token_refuses_every_admin_call_with_403() -> None:
    # Execute
    with pytest.raises(HTTPException) as caught:
        check_admin(None, "Bearer anything-at-all-really")

    # Assert
    assert caught.value.status_code == 403
    assert "started without an admin token (set FEDLEDGER_ADMIN_TOKEN" in caught.value.detail
