"""Body guards: size cap (413) and JSON nesting cap (422) before any parser runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from aggregator.service.limits import BodyGuardMiddleware, json_depth_exceeds


class Echo(BaseModel):
    value: object = None


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    def echo(body: Echo) -> dict[str, object]:
        return {"value": body.value}

    app.add_middleware(BodyGuardMiddleware, max_body_bytes=2048, max_json_depth=8)
    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(_app()) as c:
        yield c


@pytest.mark.parametrize(("body", "limit", "exceeds"), [
    (b"[[[]]]", 3, False),
    (b"[[[[]]]]", 3, True),
    (b'{"a": "[[[[[[[["}', 1, False),        # brackets inside strings do not count
    (b'{"a": "\\"[[[[[["}', 1, False),        # nor after an escaped quote
    (b'[{"a": [{"b": []}]}]', 5, False),
    (b'[{"a": [{"b": []}]}]', 4, True),
    (b"]]]]][[", 1, True),                    # stray closers do not offset later openers
])
def test_depth_scan(body: bytes, limit: int, exceeds: bool) -> None:
    # Execute / Assert
    assert json_depth_exceeds(body, limit) is exceeds


def test_a_normal_body_reaches_the_route(client: TestClient) -> None:
    # Execute
    response = client.post("/echo", json={"value": [[1, 2], {"k": "v"}]})

    # Assert
    assert response.status_code == 200
    assert response.json() == {"value": [[1, 2], {"k": "v"}]}


def test_an_announced_oversize_body_gets_413(client: TestClient) -> None:
    # Execute
    response = client.post("/echo", content=b"x" * 2049,
                           headers={"content-type": "application/json"})

    # Assert
    assert response.status_code == 413
    assert response.json() == {"detail": "request body exceeds 2048 bytes: send a smaller body "
                                         "(admin actions take a few fields at most)"}


def test_an_unannounced_streamed_oversize_body_gets_413(client: TestClient) -> None:
    # Prepare: a generator body is sent chunked, without Content-Length
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b'{"value": "' + b"y" * 300 + b'"}'

    # Execute
    response = client.post("/echo", content=chunks(), headers={"content-type": "application/json"})

    # Assert
    assert response.status_code == 413


def test_deep_nesting_gets_422_and_the_process_survives(client: TestClient) -> None:
    # Prepare: 2000 levels fit the size cap and would recurse deep in a JSON parser
    deep = b"[" * 1000 + b"]" * 1000

    # Execute
    response = client.post("/echo", content=deep, headers={"content-type": "application/json"})
    after = client.post("/echo", json={"value": 1})

    # Assert
    assert response.status_code == 422
    assert response.json() == {"detail": "JSON body nests deeper than 8 levels"}
    assert after.json() == {"value": 1}


def test_malformed_json_within_limits_gets_fastapis_422(client: TestClient) -> None:
    # Execute
    response = client.post("/echo", content=b'{"value": ', headers={"content-type": "application/json"})

    # Assert
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
