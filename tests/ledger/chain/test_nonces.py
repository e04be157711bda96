"""NonceManager counts locally, keeps one account's sends ordered, and resyncs after failure."""

from __future__ import annotations

import threading

import pytest

from ledger.chain.nonces import NonceManager

ALICE = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
BOB = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"


def test_nonce_is_fetched_once_then_counted() -> None:
    # Prepare
    fetches: list[str] = []

    def fetch(address: str) -> int:
        fetches.append(address)
        return 5

    manager = NonceManager(fetch)

    # Execute
    issued = []
    for _ in range(3):
        with manager.reserve(ALICE) as nonce:
            issued.append(nonce)

    # Assert
    assert issued == [5, 6, 7]
    assert fetches == [ALICE]


def test_failure_inside_a_reservation_forgets_the_count() -> None:
    # Prepare
    chain_nonce = {ALICE: 0}
    manager = NonceManager(lambda address: chain_nonce[address])
    with manager.reserve(ALICE):
        chain_nonce[ALICE] = 1

    # Execute
    with pytest.raises(RuntimeError), manager.reserve(ALICE) as failed:
        raise RuntimeError("node rejected it")
    chain_nonce[ALICE] = 4  # meanwhile another process used the account
    with manager.reserve(ALICE) as after:
        pass

    # Assert
    assert (failed, after) == (1, 4)


def test_forget_all_refetches_every_account() -> None:
    # Prepare
    manager = NonceManager(lambda address: 10 if address == ALICE else 20)
    with manager.reserve(ALICE), manager.reserve(BOB):
        pass

    # Execute
    manager.forget()
    with manager.reserve(ALICE) as alice, manager.reserve(BOB) as bob:
        pass

    # Assert
    assert (alice, bob) == (10, 20)


def test_threads_never_share_a_nonce() -> None:
    # Prepare
    manager = NonceManager(lambda address: 0)
    issued: list[int] = []
    guard = threading.Lock()

    def work() -> None:
        for _ in range(50):
            with manager.reserve(ALICE) as nonce, guard:
                issued.append(nonce)

    threads = [threading.Thread(target=work) for _ in range(8)]

    # Execute
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Assert
    assert sorted(issued) == list(range(400))
