"""The HTTP API over a real network: round 0 finalized and claimed, round 1 open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils.crypto import keccak
from fastapi.testclient import TestClient

from aggregator.service.app import create_app
from aggregator.service.ledger_view import LedgerView
from ledger.errors import ChainError
from ledger.formats.report import parse_report
from ledger.store.errors import StoreUnavailable
from tests.aggregator.network_harness import REWARD, STAKE
from tests.aggregator.service.served import ADMIN_TOKEN, ServedNetwork

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def client(served: ServedNetwork) -> Iterator[TestClient]:
    with TestClient(create_app(served.context)) as c:
        yield c


def _report_0(served: ServedNetwork) -> tuple[str, bytes]:
    ev = served.harness.network.registry.events_round_finalized(round=0)[-1]
    return ev.report_cid, served.store.get_bytes(ev.report_cid)


def test_health_reports_chain_store_round_and_loop(client: TestClient,
                                                   served: ServedNetwork) -> None:
    # Execute
    response = client.get("/api/health")

    # Assert
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["chain"]["ok"] and body["chain"]["detail"].startswith("block ")
    assert body["store"] == {"ok": True, "detail": served.store.describe()}
    assert (body["current_round"], body["current_round_status"]) == (1, "open")
    assert body["registry"] == served.harness.network.registry.address
    assert body["aggregator"] == served.harness.aggregator.address
    assert body["loop"]["last_finalized"] == 0 and body["loop"]["last_opened"] == 1
    assert body["loop"]["running"] is False and body["loop"]["errors"] == 0


def test_rounds_list_carries_the_reports_metrics(client: TestClient, served: ServedNetwork) -> None:
    # Prepare
    cid, data = _report_0(served)
    report = parse_report(data)

    # Execute
    rounds = client.get("/api/rounds").json()

    # Assert
    assert [(r["round"], r["status"]) for r in rounds] == [(0, "finalized"), (1, "open")]
    first = rounds[0]
    assert first["report_cid"] == cid
    assert first["accuracy"] == report.validation_metrics["accuracy"] / 1e6
    assert first["loss"] == report.validation_metrics["loss"] / 1e6
    assert (first["accepted"], first["rejected"]) == (2, 1)
    assert first["total_reward"] == str(REWARD) and first["total_reward_tokens"] == 1000.0
    assert first["claimed_reward"] == str(REWARD)
    assert (first["commit_count"], first["reveal_count"]) == (3, 3)
    assert rounds[1]["report_cid"] is None and rounds[1]["accuracy"] is None


def test_one_round_serves_the_report_whose_hash_is_on_chain(client: TestClient,
                                                            served: ServedNetwork) -> None:
    # Prepare
    _, data = _report_0(served)
    info = served.harness.network.registry.round_info(0)

    # Execute
    body = client.get("/api/rounds/0").json()

    # Assert
    assert body["report_verified"] is True
    assert body["report_hash"] == "0x" + info.report_hash.hex() == "0x" + keccak(data).hex()
    assert body["report"] == parse_report(data).to_json_value()
    rejected = [s for s in body["submissions"] if not s["accepted"]]
    assert [(s["participant"], s["rejection_kind"], s["reason"], s["reward"]) for s in rejected] == [
        (served.harness.free_rider.address, "free_rider_zero",
         "zero update: nothing learnt (free-rider)", "0")]
    assert sum(int(s["reward"]) for s in body["submissions"]) == REWARD


def test_an_open_round_has_no_report_yet(client: TestClient) -> None:
    # Execute
    body = client.get("/api/rounds/1").json()

    # Assert
    assert (body["report_verified"], body["report"], body["submissions"]) == (False, None, [])
    assert body["summary"]["status"] == "open"


@pytest.mark.parametrize(("path", "status", "detail"), [
    ("/api/rounds/2", 404, "round 2 was never opened"),
    ("/api/rounds/99999", 404, "round 99999 was never opened"),
    ("/api/rounds/1/model", 409, "round 1 is open: it has produced no model yet"),
    ("/api/rounds/2/model?which=base", 404, "round 2 was never opened"),
])
def test_unknown_or_unfinished_rounds_are_named(client: TestClient, path: str, status: int,
                                                detail: str) -> None:
    # Execute
    response = client.get(path)

    # Assert
    assert response.status_code == status
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize("path", ["/api/rounds/-1", "/api/rounds/abc",
                                  f"/api/rounds/{2**64}", "/api/rounds/0/model?which=latest"])
def test_malformed_round_numbers_get_422(client: TestClient, path: str) -> None:
    # Execute
    response = client.get(path)

    # Assert
    assert response.status_code == 422


def test_model_download_is_the_bytes_the_chain_hashed(client: TestClient,
                                                      served: ServedNetwork) -> None:
    # Prepare
    registry = served.harness.network.registry
    info0, info1 = registry.round_info(0), registry.round_info(1)

    # Execute
    new = client.get("/api/rounds/0/model")
    base = client.get("/api/rounds/0/model?which=base")

    # Assert
    assert new.status_code == 200 and new.headers["content-type"] == "application/octet-stream"
    assert keccak(new.content) == info0.new_model_hash == info1.model_hash
    assert new.headers["x-model-cid"] == info1.model_cid
    assert new.headers["x-model-keccak256"] == "0x" + info0.new_model_hash.hex()
    assert 'filename="round-0-new.safetensors"' in new.headers["content-disposition"]
    assert keccak(base.content) == info0.model_hash
    assert base.headers["x-model-cid"] == info0.model_cid


def test_participants_show_stake_status_and_earnings(client: TestClient,
                                                     served: ServedNetwork) -> None:
    # Execute
    body = client.get("/api/participants").json()

    # Assert
    assert [p["address"] for p in body] == [p.address for p in served.harness.participants]
    for p in body:
        assert (p["status"], p["stake"], p["stake_tokens"]) == ("active", str(STAKE), 10.0)
        assert p["earned"] == p["claimed"] == str(served.claims[p["address"]])
    rider = next(p for p in body if p["address"] == served.harness.free_rider.address)
    assert (rider["earned"], rider["accepted_updates"], rider["rejected_updates"]) == ("0", 0, 1)


def test_leaderboard_ranks_by_tokens_earned(client: TestClient, served: ServedNetwork) -> None:
    # Prepare
    expected = sorted(served.claims.items(), key=lambda kv: (-kv[1], kv[0].lower()))

    # Execute
    body = client.get("/api/leaderboard").json()

    # Assert
    assert [(e["rank"], e["address"], int(e["earned"])) for e in body] == [
        (i + 1, a, amount) for i, (a, amount) in enumerate(expected)]
    assert body[-1]["earned_tokens"] == 0.0
    assert sum(int(e["earned"]) for e in body) == REWARD


def test_rejections_list_names_the_participant_and_reason(client: TestClient,
                                                          served: ServedNetwork) -> None:
    # Execute
    body = client.get("/api/rejections").json()

    # Assert
    assert body == [{"round": 0, "participant": served.harness.free_rider.address,
                     "verification": "ok", "kind": "free_rider_zero",
                     "reason": "zero update: nothing learnt (free-rider)"}]


def test_metrics_count_what_the_loop_did(client: TestClient) -> None:
    # Execute
    response = client.get("/metrics")

    # Assert
    text = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "fedledger_rounds_finalized_total 1.0" in text
    assert "fedledger_rounds_opened_total 2.0" in text
    assert "fedledger_updates_accepted_total 2.0" in text
    assert 'fedledger_updates_rejected_total{reason="free_rider_zero"} 1.0' in text
    assert "fedledger_current_round 1.0" in text
    assert "fedledger_last_round_duration_seconds " in text
    assert "fedledger_last_finalize_duration_seconds " in text
    assert not [line for line in text.splitlines() if line.startswith("fedledger_loop_errors")]


def test_openapi_documents_every_route(client: TestClient) -> None:
    # Execute
    schema = client.get("/openapi.json").json()
    docs = client.get("/docs")

    # Assert
    assert docs.status_code == 200
    assert set(schema["paths"]) >= {
        "/api/health", "/api/rounds", "/api/rounds/{round}", "/api/rounds/{round}/model",
        "/api/participants", "/api/leaderboard", "/api/rejections", "/metrics",
        "/api/admin/pause", "/api/admin/resume", "/api/admin/open-round"}
    assert "RoundDetail" in schema["components"]["schemas"]


@pytest.mark.parametrize("path", ["/api/admin/pause", "/api/admin/resume",
                                  "/api/admin/open-round"])
def test_admin_routes_refuse_calls_without_the_token(client: TestClient, served: ServedNetwork,
                                                     path: str) -> None:
    # Prepare
    before = served.context.loop.status()

    # Execute
    missing = client.post(path)
    wrong = client.post(path, headers={"Authorization": "Bearer not-the-operator-token"})

    # Assert
    assert missing.status_code == wrong.status_code == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="fedledger-admin"'
    assert missing.json() == {"detail": "admin action: send the operator's token as "
                                        "'Authorization: Bearer <token>'"}
    assert wrong.json() == {"detail": "admin action: the bearer token is not the operator's token"}
    assert served.context.loop.status() == before
    assert served.harness.network.registry.next_round() == 2


def test_pause_and_resume_with_the_token(client: TestClient, served: ServedNetwork) -> None:
    # Execute
    paused = client.post("/api/admin/pause", headers=AUTH, json={"reason": "maintenance"})
    health = client.get("/api/health").json()
    resumed = client.post("/api/admin/resume", headers=AUTH)

    # Assert
    assert paused.status_code == 200
    assert paused.json()["detail"] == "maintenance"
    assert paused.json()["loop"]["paused"] is True
    assert (health["loop"]["state"], health["loop"]["paused"]) == ("paused", True)
    assert resumed.json()["loop"]["paused"] is False
    assert "fedledger_loop_paused 0.0" in client.get("/metrics").text


@pytest.mark.parametrize(("body", "status"), [
    ({"reason": "x" * 501}, 422),
    ({"reason": "ok", "extra": 1}, 422),
    ({"reason": 5}, 422),
])
def test_pause_refuses_malformed_bodies(client: TestClient, served: ServedNetwork,
                                        body: dict[str, object], status: int) -> None:
    # Execute
    response = client.post("/api/admin/pause", headers=AUTH, json=body)

    # Assert
    assert response.status_code == status
    assert served.context.loop.status().paused is False


def test_pause_refuses_deep_and_huge_bodies_before_parsing(client: TestClient,
                                                           served: ServedNetwork) -> None:
    # Execute
    deep = client.post("/api/admin/pause", headers={**AUTH, "content-type": "application/json"},
                       content=b'{"reason": ' + b"[" * 5000 + b"]" * 5000 + b"}")
    huge = client.post("/api/admin/pause", headers={**AUTH, "content-type": "application/json"},
                       content=b'{"reason": "' + b"x" * 70_000 + b'"}')

    # Assert
    assert deep.status_code == 422
    assert deep.json() == {"detail": "JSON body nests deeper than 32 levels"}
    assert huge.status_code == 413
    assert served.context.loop.status().paused is False
    assert client.get("/api/health").status_code == 200


def test_open_round_now_is_refused_while_a_round_is_open(client: TestClient,
                                                         served: ServedNetwork) -> None:
    # Execute
    response = client.post("/api/admin/open-round", headers=AUTH)

    # Assert
    assert response.status_code == 409
    assert response.json() == {
        "detail": "round 1 is still open: it must be finalized before round 2 opens"}
    assert served.harness.network.registry.next_round() == 2


def test_admin_calls_are_refused_when_no_token_is_configured(served: ServedNetwork) -> None:
    # Prepare
    context = served.new_context()

    # Execute
    with TestClient(create_app(context)) as c:
        response = c.post("/api/admin/pause", headers=AUTH)

    # Assert
    assert response.status_code == 403
    assert context.loop.status().paused is False


def test_a_report_that_does_not_match_reportHash_is_refused(served: ServedNetwork) -> None:
    # Prepare: inside a snapshot, the aggregator finalizes round 1 naming a report whose
    # bytes do not hash to the reportHash it records on chain
    chain, registry = served.chain, served.harness.network.registry
    snapshot = chain.snapshot()
    try:
        info = registry.round_info(1)
        chain.mine(info.reveal_deadline + 1)
        _, real = _report_0(served)
        stored_cid = served.store.put_bytes(real)
        forged_hash = keccak(b"a different report")
        registry.finalize_round(1, info.model_cid, info.model_hash, stored_cid, forged_hash,
                                bytes(32), 0, sender=served.harness.aggregator)
        context = served.new_context()

        # Execute
        with TestClient(create_app(context)) as c:
            response = c.get("/api/rounds/1")
            listing = c.get("/api/rounds")
    finally:
        chain.revert(snapshot)

    # Assert
    assert response.status_code == 502
    assert response.json() == {"detail": (
        f"content does not match the chain: the report of round 1 at {stored_cid} hashes to "
        f"0x{keccak(real).hex()}, the chain's reportHash is 0x{forged_hash.hex()}")}
    assert listing.status_code == 502
    assert isinstance(context.view, LedgerView) and 1 not in context.view._reports


def test_health_is_503_and_names_the_chain_when_it_is_unreachable(
        client: TestClient, served: ServedNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    def down() -> int:
        raise ChainError("connection refused by http://127.0.0.1:8545")

    monkeypatch.setattr(served.chain, "block_number", down)

    # Execute
    response = client.get("/api/health")

    # Assert
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "degraded"
    assert body["chain"] == {"ok": False,
                             "detail": "ChainError: connection refused by http://127.0.0.1:8545"}
    assert body["store"]["ok"] is False and body["store"]["detail"].startswith("not checked")
    assert body["current_round"] is None


def test_store_outages_are_503_in_health_and_on_downloads(
        client: TestClient, served: ServedNetwork, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    def down(*args: object, **kwargs: object) -> object:
        raise StoreUnavailable("IPFS daemon at http://127.0.0.1:5001 does not answer")

    monkeypatch.setattr(served.store, "has", down)
    monkeypatch.setattr(served.store, "get_bytes", down)

    # Execute
    health = client.get("/api/health")
    model = client.get("/api/rounds/0/model?which=base")

    # Assert
    assert health.status_code == 503
    assert health.json()["chain"]["ok"] is True
    assert health.json()["store"] == {
        "ok": False, "detail": "StoreUnavailable: IPFS daemon at http://127.0.0.1:5001 does not answer"}
    assert model.status_code == 503
    assert model.json() == {"detail": "content store unavailable: IPFS daemon at "
                                      "http://127.0.0.1:5001 does not answer"}
