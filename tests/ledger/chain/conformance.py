"""One conformance suite every chain backend must pass (subclassed per backend).

`ChainBackendConformance` covers the production interface (`ChainBackend`);
`ChainPowersConformance` adds the clock/mining/snapshot powers of `TestChainBackend`.
A subclass provides a `backend` fixture (isolated per test) and `expected_chain_id`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.contract import Contract

from ledger.chain.base import ChainBackend, TestChainBackend, TxRequest
from ledger.contracts.artifacts import ContractArtifact
from ledger.errors import ChainError, ContractRevert

FIXED_GAS = 200_000


@dataclass(frozen=True)
class Deployed:
    """The fixture contract and its callee, deployed by `admin`."""

    fixture: Contract
    callee: Contract
    admin: LocalAccount
    others: list[LocalAccount]


class ChainBackendConformance:
    """Behaviour every `ChainBackend` shares, whatever node it talks to."""

    expected_chain_id: int

    @pytest.fixture
    def backend(self) -> ChainBackend:
        raise NotImplementedError("subclasses provide the backend under test")

    @pytest.fixture
    def deployed(
        self, backend: ChainBackend, fixture_artifacts: dict[str, ContractArtifact]
    ) -> Deployed:
        accounts = backend.dev_accounts()
        admin = accounts[0]
        fixture = backend.deploy(fixture_artifacts["ChainFixture"], 5, sender=admin)
        callee = backend.deploy(fixture_artifacts["ChainFixtureCallee"], sender=admin)
        return Deployed(fixture, callee, admin, accounts[1:])

    # -- identity and accounts -----------------------------------------------------------------

    def test_chain_id_is_the_nodes(self, backend: ChainBackend) -> None:
        # Execute
        chain_id = backend.chain_id

        # Assert
        assert chain_id == self.expected_chain_id
        assert backend.w3.eth.chain_id == self.expected_chain_id

    def test_dev_accounts_are_distinct_and_funded(self, backend: ChainBackend) -> None:
        # Execute
        accounts = backend.dev_accounts()

        # Assert
        assert len(accounts) >= 10
        assert len({a.address for a in accounts}) == len(accounts)
        assert all(backend.w3.eth.get_balance(a.address) >= 10**21 for a in accounts)

    # -- deploy, transact, call -----------------------------------------------------------------

    def test_deploy_runs_the_constructor(self, backend: ChainBackend, deployed: Deployed) -> None:
        # Execute
        value = backend.call(deployed.fixture.functions.current())
        code = backend.w3.eth.get_code(deployed.fixture.address)

        # Assert
        assert value == 5
        assert len(code) > 100

    def test_transact_changes_state_and_returns_a_successful_receipt(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        sender = deployed.others[0]
        before = backend.block_number()

        # Execute
        receipt = backend.transact(deployed.fixture.functions.set(42, "first"), sender)

        # Assert
        assert receipt["status"] == 1
        assert receipt["blockNumber"] == before + 1
        assert backend.call(deployed.fixture.functions.current()) == 42
        (event,) = deployed.fixture.events.ValueSet().process_receipt(receipt)
        assert dict(event["args"]) == {"setter": sender.address, "value": 42, "note": "first"}

    def test_explicit_gas_is_used_as_the_limit(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Execute
        receipt = backend.transact(
            deployed.fixture.functions.set(7, "x"), deployed.admin, gas=FIXED_GAS
        )

        # Assert
        tx = backend.w3.eth.get_transaction(receipt["transactionHash"])
        assert tx["gas"] == FIXED_GAS
        assert receipt["gasUsed"] < FIXED_GAS

    def test_call_reads_a_past_block(self, backend: ChainBackend, deployed: Deployed) -> None:
        # Prepare
        before = backend.block_number()
        backend.transact(deployed.fixture.functions.set(9, "x"), deployed.admin)

        # Execute
        past = backend.call(deployed.fixture.functions.current(), block=before)
        latest = backend.call(deployed.fixture.functions.current())

        # Assert
        assert (past, latest) == (5, 9)

    def test_send_value_moves_exactly_the_amount(self, backend: ChainBackend) -> None:
        # Prepare
        fresh = Account.create()

        # Execute
        receipt = backend.send_value(backend.dev_accounts()[0], fresh.address, 123_456_789)

        # Assert
        assert receipt["status"] == 1
        assert backend.w3.eth.get_balance(fresh.address) == 123_456_789

    def test_send_value_refuses_a_negative_amount(self, backend: ChainBackend) -> None:
        # Execute / Assert
        with pytest.raises(ChainError, match="negative amount"):
            backend.send_value(backend.dev_accounts()[0], Account.create().address, -1)

    def test_now_is_the_latest_block_timestamp(self, backend: ChainBackend) -> None:
        # Execute
        now = backend.now()

        # Assert
        assert now == backend.w3.eth.get_block("latest")["timestamp"]

    # -- reverts --------------------------------------------------------------------------------

    @pytest.mark.parametrize("gas", [None, FIXED_GAS], ids=["estimated", "mined"])
    def test_custom_error_decodes_to_name_and_args_and_changes_nothing(
        self, backend: ChainBackend, deployed: Deployed, gas: int | None
    ) -> None:
        # Prepare
        sender = deployed.others[1]

        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.transact(deployed.fixture.functions.set(2000, "too big"), sender, gas=gas)

        # Assert
        assert caught.value.error_name == "FixtureValueTooLarge"
        assert caught.value.error_args == (2000, 1000)
        assert str(caught.value) == "contract reverted: FixtureValueTooLarge(2000, 1000)"
        assert backend.call(deployed.fixture.functions.current()) == 5
        follow_up = backend.transact(deployed.fixture.functions.set(3, "ok"), sender)
        assert follow_up["status"] == 1

    @pytest.mark.parametrize("gas", [None, FIXED_GAS], ids=["estimated", "mined"])
    @pytest.mark.parametrize(
        ("function", "args", "name", "expected"),
        [
            ("failWithReason", (), "Error", ("plain reason",)),
            ("failWithPanic", (0,), "Panic", (0x12,)),
            ("failEmpty", (), "Revert", ()),
        ],
    )
    def test_builtin_reverts_decode(
        self,
        backend: ChainBackend,
        deployed: Deployed,
        gas: int | None,
        function: str,
        args: tuple[Any, ...],
        name: str,
        expected: tuple[Any, ...],
    ) -> None:
        # Prepare
        fn = deployed.fixture.get_function_by_name(function)(*args)

        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.transact(fn, deployed.admin, gas=gas)

        # Assert
        assert (caught.value.error_name, caught.value.error_args) == (name, expected)

    def test_call_revert_decodes_with_checksummed_addresses(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        a, b = deployed.others[0].address, deployed.others[1].address
        tag = bytes(range(32))

        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.call(deployed.fixture.functions.failWithPair(tag, a, b))

        # Assert
        assert caught.value.error_name == "FixturePair"
        assert caught.value.error_args == (tag, (a, b))

    @pytest.mark.parametrize("gas", [None, FIXED_GAS], ids=["estimated", "mined"])
    def test_error_raised_by_another_contract_decodes(
        self, backend: ChainBackend, deployed: Deployed, gas: int | None
    ) -> None:
        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.transact(
                deployed.fixture.functions.forward(deployed.callee.address, 77),
                deployed.admin,
                gas=gas,
            )

        # Assert
        assert caught.value.error_name == "CalleeRefused"
        assert caught.value.error_args == (77, deployed.fixture.address)

    def test_out_of_gas_is_a_chain_error_not_a_revert(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Execute
        with pytest.raises(ChainError, match="ran out of gas") as caught:
            backend.transact(deployed.fixture.functions.burn(500), deployed.admin, gas=60_000)

        # Assert
        assert not isinstance(caught.value, ContractRevert)
        assert backend.call(deployed.fixture.functions.current()) == 5

    def test_unfunded_sender_is_a_clear_chain_error(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        pauper = Account.create()

        # Execute
        with pytest.raises(ChainError, match=r"(?i)afford|insufficient funds") as caught:
            backend.transact(deployed.fixture.functions.set(1, "x"), pauper, gas=FIXED_GAS)

        # Assert
        assert not isinstance(caught.value, ContractRevert)
        assert backend.w3.eth.get_transaction_count(pauper.address) == 0

    def test_nonce_used_behind_the_backends_back_is_recovered(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare: the backend caches the sender's nonce, then a raw transaction uses it
        sender = deployed.others[2]
        backend.transact(deployed.fixture.functions.set(1, "cached"), sender)
        w3 = backend.w3
        raw = deployed.fixture.functions.set(2, "raw").build_transaction(
            {
                "from": sender.address,
                "nonce": w3.eth.get_transaction_count(sender.address),
                "gas": FIXED_GAS,
                "chainId": backend.chain_id,
            }
        )
        w3.eth.wait_for_transaction_receipt(
            w3.eth.send_raw_transaction(sender.sign_transaction(raw).raw_transaction)
        )

        # Execute
        receipt = backend.transact(deployed.fixture.functions.set(3, "after"), sender)

        # Assert
        assert receipt["status"] == 1
        assert backend.call(deployed.fixture.functions.current()) == 3

    # -- bulk and concurrency -------------------------------------------------------------------

    def test_transact_many_reports_each_outcome_in_order(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        senders = deployed.others[:4]
        values = [11, 12, 2000, 14, 15, 16]
        requests = [
            TxRequest(deployed.fixture.functions.set(v, f"bulk{v}"), senders[i % 4], gas=FIXED_GAS)
            for i, v in enumerate(values)
        ]

        # Execute
        outcomes = backend.transact_many(requests)

        # Assert
        assert [o.ok for o in outcomes] == [True, True, False, True, True, True]
        failed = outcomes[2].error
        assert isinstance(failed, ContractRevert)
        assert (failed.error_name, failed.error_args) == ("FixtureValueTooLarge", (2000, 1000))
        blocks = [o.receipt["blockNumber"] for o in outcomes if o.receipt is not None]
        assert blocks == sorted(blocks)
        assert [o.request for o in outcomes] == requests
        assert backend.call(deployed.fixture.functions.current()) == 16

    def test_transact_many_reports_a_rejected_send_without_losing_the_rest(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        pauper = Account.create()
        requests = [
            TxRequest(deployed.fixture.functions.set(31, "ok"), deployed.others[0], gas=FIXED_GAS),
            TxRequest(deployed.fixture.functions.set(32, "poor"), pauper, gas=FIXED_GAS),
            TxRequest(deployed.fixture.functions.set(33, "ok"), deployed.others[1], gas=FIXED_GAS),
        ]

        # Execute
        outcomes = backend.transact_many(requests)

        # Assert
        assert [o.ok for o in outcomes] == [True, False, True]
        rejected = outcomes[1]
        assert rejected.receipt is None and rejected.tx_hash is None
        assert isinstance(rejected.error, ChainError)
        assert not isinstance(rejected.error, ContractRevert)
        assert re.search(r"(?i)afford|insufficient funds", str(rejected.error))
        assert backend.call(deployed.fixture.functions.current()) == 33
        assert (
            backend.transact(deployed.fixture.functions.set(34, "after"), deployed.others[0])[
                "status"
            ]
            == 1
        )

    def test_transact_many_estimates_when_no_gas_is_given(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        requests = [
            TxRequest(deployed.fixture.functions.set(v, "est"), deployed.others[v % 3])
            for v in (21, 22, 23)
        ]

        # Execute
        outcomes = backend.transact_many(requests)

        # Assert
        assert all(o.ok for o in outcomes)
        assert backend.call(deployed.fixture.functions.current()) == 23

    def test_threads_send_concurrently_without_nonce_clashes(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Prepare: four accounts, two threads each (so one account is shared by two threads)
        senders = deployed.others[:4]
        errors: list[Exception] = []
        per_thread = 3

        def work(sender: LocalAccount, offset: int) -> None:
            try:
                for i in range(per_thread):
                    backend.transact(
                        deployed.fixture.functions.set(offset + i, "thread"), sender, gas=FIXED_GAS
                    )
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(senders[t % 4], 100 + 10 * t)) for t in range(8)
        ]
        start = backend.block_number()

        # Execute
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Assert
        assert errors == []
        events = backend.get_events(deployed.fixture.events.ValueSet, from_block=start + 1)
        assert len(events) == 8 * per_thread
        for sender in senders:
            mine = [e for e in events if e["args"]["setter"] == sender.address]
            assert len(mine) == 2 * per_thread

    # -- events ---------------------------------------------------------------------------------

    def test_get_events_filters_by_range_and_arguments(
        self,
        backend: ChainBackend,
        deployed: Deployed,
        fixture_artifacts: dict[str, ContractArtifact],
    ) -> None:
        # Prepare
        alice, bob = deployed.others[0], deployed.others[1]
        fn = deployed.fixture.functions
        first = backend.transact(fn.set(1, "a1"), alice)["blockNumber"]
        backend.transact(fn.set(2, "b2"), bob)
        last = backend.transact(fn.set(3, "a3"), alice)["blockNumber"]
        other = backend.deploy(fixture_artifacts["ChainFixture"], 0, sender=alice)
        backend.transact(other.functions.set(1, "elsewhere"), alice)
        event = deployed.fixture.events.ValueSet

        # Execute
        everything = backend.get_events(event, from_block=first)
        by_alice = backend.get_events(event, first, argument_filters={"setter": alice.address})
        by_values = backend.get_events(event, first, argument_filters={"value": [2, 3]})
        by_note = backend.get_events(event, first, argument_filters={"note": "b2"})
        middle = backend.get_events(event, first + 1, last - 1)
        empty_range = backend.get_events(event, last + 10, last + 5)

        # Assert
        assert [e["args"]["note"] for e in everything] == ["a1", "b2", "a3"]
        assert all(e["address"] == deployed.fixture.address for e in everything)
        assert [e["args"]["value"] for e in by_alice] == [1, 3]
        assert [e["args"]["value"] for e in by_values] == [2, 3]
        assert [e["args"]["setter"] for e in by_note] == [bob.address]
        assert [e["args"]["note"] for e in middle] == ["b2"]
        assert empty_range == []
        assert everything[0]["blockNumber"] == first
        assert everything[0]["event"] == "ValueSet"

    def test_get_events_rejects_an_unknown_argument(
        self, backend: ChainBackend, deployed: Deployed
    ) -> None:
        # Execute / Assert
        with pytest.raises(ChainError, match=r"no argument\(s\) \['colour'\]"):
            backend.get_events(
                deployed.fixture.events.ValueSet, 0, argument_filters={"colour": "red"}
            )

    def test_events_match_receipt_decoding(self, backend: ChainBackend, deployed: Deployed) -> None:
        # Prepare
        receipt = backend.transact(deployed.fixture.functions.set(8, "same"), deployed.admin)

        # Execute
        (from_scan,) = backend.get_events(
            deployed.fixture.events.ValueSet, receipt["blockNumber"], receipt["blockNumber"]
        )
        (from_receipt,) = deployed.fixture.events.ValueSet().process_receipt(receipt)

        # Assert
        for key in ("args", "event", "logIndex", "transactionHash", "blockNumber", "address"):
            assert from_scan[key] == from_receipt[key], key


class ChainPowersConformance(ChainBackendConformance):
    """Behaviour every `TestChainBackend` adds: time, mining, snapshots."""

    @pytest.fixture
    def backend(self) -> TestChainBackend:
        raise NotImplementedError("subclasses provide the backend under test")

    def test_next_block_gets_exactly_the_timestamp(
        self, backend: TestChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        target = backend.now() + 500

        # Execute
        backend.set_next_block_timestamp(target)
        receipt = backend.transact(deployed.fixture.functions.set(1, "t"), deployed.admin)

        # Assert
        assert backend.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == target
        assert backend.now() == target

    def test_timestamp_in_the_past_is_refused(self, backend: TestChainBackend) -> None:
        # Execute / Assert
        with pytest.raises(ChainError, match="must be after the latest block"):
            backend.set_next_block_timestamp(backend.now())

    def test_mine_adds_one_block_at_the_timestamp(self, backend: TestChainBackend) -> None:
        # Prepare
        number = backend.block_number()
        target = backend.now() + 77

        # Execute
        mined = backend.mine(target)

        # Assert
        assert mined == number + 1
        assert backend.now() == target
        assert backend.mine() == number + 2

    def test_advance_time_moves_the_clock(self, backend: TestChainBackend) -> None:
        # Prepare
        start = backend.now()

        # Execute
        new_now = backend.advance_time(3600)

        # Assert
        assert new_now == start + 3600 == backend.now()
        with pytest.raises(ChainError, match="at least 1 second"):
            backend.advance_time(0)

    def test_time_dependent_revert_in_a_mined_block_reports_that_blocks_time(
        self, backend: TestChainBackend, deployed: Deployed
    ) -> None:
        # Prepare: the estimate passes on the latest block, the mined block is too early
        until = backend.now() + 1000
        backend.set_next_block_timestamp(until - 1)

        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.transact(
                deployed.fixture.functions.setAfter(until, 9), deployed.admin, gas=FIXED_GAS
            )

        # Assert
        assert caught.value.error_name == "FixtureLocked"
        assert caught.value.error_args == (until - 1, until)

    def test_time_dependent_revert_at_estimation(
        self, backend: TestChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        until = backend.now() + 1000

        # Execute
        with pytest.raises(ContractRevert) as caught:
            backend.transact(deployed.fixture.functions.setAfter(until, 9), deployed.admin)
        backend.advance_time(1000)
        receipt = backend.transact(deployed.fixture.functions.setAfter(until, 9), deployed.admin)

        # Assert
        assert caught.value.error_name == "FixtureLocked"
        assert caught.value.error_args[1] == until
        assert receipt["status"] == 1
        assert backend.call(deployed.fixture.functions.current()) == 9

    def test_revert_restores_state_and_sending_still_works(
        self, backend: TestChainBackend, deployed: Deployed
    ) -> None:
        # Prepare
        sender = deployed.others[3]
        snapshot = backend.snapshot()
        backend.transact(deployed.fixture.functions.set(500, "lost"), sender)
        backend.transact(deployed.fixture.functions.set(501, "lost"), sender)

        # Execute
        backend.revert(snapshot)
        receipt = backend.transact(deployed.fixture.functions.set(6, "kept"), sender)

        # Assert
        assert receipt["status"] == 1
        assert backend.call(deployed.fixture.functions.current()) == 6
        assert (
            backend.get_events(
                deployed.fixture.events.ValueSet, 0, argument_filters={"note": "lost"}
            )
            == []
        )

    def test_revert_to_an_unknown_snapshot_is_a_chain_error(
        self, backend: TestChainBackend
    ) -> None:
        # Execute / Assert
        with pytest.raises(ChainError, match="snapshot 987654"):
            backend.revert(987654)
