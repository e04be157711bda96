"""ledger.merkle must agree with @openzeppelin/merkle-tree 1.0.8 on roots, proofs and dumps.

The JavaScript library runs as an oracle process (tests/ledger/js/merkle_oracle.js); the
tests that need it skip with the reason when node or the npm package is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.merkle import (
    MerkleTreeError,
    MultiProof,
    StandardMerkleTree,
    process_proof,
    standard_leaf_hash,
    verify,
    verify_multi_proof,
)

REPO = Path(__file__).resolve().parents[2]
ORACLE = REPO / "tests" / "ledger" / "js" / "merkle_oracle.js"
REWARD_TYPES = ["address", "uint64", "uint256"]


class Oracle:
    """One long-lived node process answering JSON requests line by line."""

    def __init__(self) -> None:
        self._proc = subprocess.Popen(
            ["node", str(ORACLE)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, encoding="utf-8",
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        reply: dict[str, Any] = json.loads(self._proc.stdout.readline())
        return reply

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=10)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: cannot cross-check against @openzeppelin/merkle-tree")
    if not (REPO / "node_modules" / "@openzeppelin" / "merkle-tree").is_dir():
        pytest.skip("node_modules/@openzeppelin/merkle-tree is missing: run `npm install`")
    process = Oracle()
    yield process
    process.close()


def to_js(value: Any) -> Any:
    """Write a Python leaf value the way JS callers pass it (big ints as strings)."""
    if isinstance(value, (list, tuple)):
        return [to_js(v) for v in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def address(n: int) -> str:
    return to_checksum_address(n.to_bytes(20, "big"))


def reward_values(count: int) -> list[list[Any]]:
    return [[address(i + 1), 7, (i + 1) * 10**18 + i] for i in range(count)]


def assert_same_as_js(oracle: Oracle, types: list[str], values: list[list[Any]],
                      multi: list[list[int]] | None = None) -> StandardMerkleTree:
    # Execute
    tree = StandardMerkleTree.of(values, types)
    js = oracle.ask({"op": "build", "types": types, "values": to_js(values),
                     "multi": multi or []})
    # Assert
    assert "error" not in js, js
    assert tree.root == js["root"]
    assert [tree.get_proof(i) for i in range(len(values))] == js["proofs"]
    assert [tree.leaf_lookup(v) for v in values] == js["lookup"]
    assert tree.dump() == {**js["dump"], "values": [
        {"value": to_js(list(tree.at(i) or ())), "treeIndex": item["treeIndex"]}
        for i, item in enumerate(js["dump"]["values"])
    ]}
    assert [e["treeIndex"] for e in tree.dump()["values"]] == [
        e["treeIndex"] for e in js["dump"]["values"]
    ]
    for indices, js_multi in zip(multi or [], js["multi"]):
        mine = tree.get_multi_proof(indices)
        assert list(mine.proof) == js_multi["proof"]
        assert list(mine.proof_flags) == js_multi["proofFlags"]
        assert to_js(list(mine.leaves)) == to_js(js_multi["leaves"])
        assert tree.verify_multi_proof(mine)
    return tree


# --- strategies -------------------------------------------------------------------------------

addresses = st.integers(min_value=0, max_value=2**160 - 1).map(address)
uint64s = st.integers(min_value=0, max_value=2**64 - 1)
uint256s = st.integers(min_value=0, max_value=2**256 - 1)
reward_leaf = st.tuples(addresses, uint64s, uint256s).map(list)
bytes32_leaf = st.binary(min_size=32, max_size=32).map(lambda b: [b])
mixed_leaf = st.tuples(
    st.text(max_size=12), st.booleans(),
    st.integers(min_value=-(2**127), max_value=2**127 - 1), st.binary(max_size=40),
).map(list)
array_leaf = st.tuples(st.lists(uint256s, max_size=4), st.binary(min_size=4, max_size=4)).map(list)

CASES: list[tuple[list[str], st.SearchStrategy[Any]]] = [
    (REWARD_TYPES, reward_leaf),
    (["bytes32"], bytes32_leaf),
    (["string", "bool", "int128", "bytes"], mixed_leaf),
    (["uint256[]", "bytes4"], array_leaf),
]


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[str], list[list[Any]], list[list[int]]]:
    types: list[str]
    leaf: st.SearchStrategy[Any]
    types, leaf = draw(st.sampled_from(CASES))
    distinct = draw(st.lists(leaf, min_size=1, max_size=9))
    # Re-draw some values so that duplicates occur, as they may in careless callers' input.
    values = draw(st.lists(st.sampled_from(distinct), min_size=1, max_size=12))
    subsets = draw(st.lists(st.sets(st.integers(0, len(values) - 1)), max_size=2))
    return types, values, [sorted(s) for s in subsets]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=trees())
def test_of_matches_js_on_random_values(oracle: Oracle, case: tuple[Any, Any, Any]) -> None:
    # Prepare
    types, values, multi = case
    # Execute / Assert
    assert_same_as_js(oracle, types, values, multi)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 1000])
def test_reward_trees_match_js_for_sizes(oracle: Oracle, count: int) -> None:
    # Prepare
    values = reward_values(count)
    # Execute / Assert
    tree = assert_same_as_js(oracle, REWARD_TYPES, values, [[0], list(range(0, count, 3))])
    assert len(tree) == count


def test_duplicate_leaves_match_js(oracle: Oracle) -> None:
    # Prepare
    a, b = reward_values(2)
    values = [a, b, a, a]
    # Execute
    tree = assert_same_as_js(oracle, REWARD_TYPES, values, [[0, 3], [1, 2]])
    # Assert: every copy is a leaf, lookups answer the last copy, as in JS
    assert tree.leaf_lookup(a) == 3
    assert len(tree.dump()["tree"]) == 7
    assert tree.get_proof(a) == tree.get_proof(3) != tree.get_proof(0)
    with pytest.raises(MerkleTreeError, match="Cannot prove duplicated index"):
        tree.get_multi_proof([3, 3])


def test_dump_loads_in_js_and_js_dump_loads_here(oracle: Oracle) -> None:
    # Prepare
    tree = StandardMerkleTree.of(reward_values(6), REWARD_TYPES)
    js = oracle.ask({"op": "build", "types": REWARD_TYPES, "values": to_js(reward_values(6))})
    # Execute
    js_root_of_ours = oracle.ask({"op": "load", "dump": tree.dump()})
    ours_of_js = StandardMerkleTree.load(js["dump"])
    # Assert
    assert js_root_of_ours == {"root": tree.root}
    assert ours_of_js.root == tree.root
    assert ours_of_js.get_proof(4) == tree.get_proof(4)
    assert ours_of_js.at(2) == (address(3), 7, 3 * 10**18 + 2)


def test_static_verify_matches_js(oracle: Oracle) -> None:
    # Prepare
    values = reward_values(5)
    tree = StandardMerkleTree.of(values, REWARD_TYPES)
    proof = tree.get_proof(2)
    forged = [proof[0][:-2] + ("00" if proof[0][-2:] != "00" else "01"), *proof[1:]]
    # Execute
    cases = [(values[2], proof), (values[2], forged), (values[3], proof)]
    mine = [verify(tree.root, REWARD_TYPES, leaf, p) for leaf, p in cases]
    theirs = [oracle.ask({"op": "verify", "root": tree.root, "types": REWARD_TYPES,
                          "leaf": to_js(leaf), "proof": p})["ok"] for leaf, p in cases]
    # Assert
    assert mine == theirs == [True, False, False]


# --- behaviour that needs no oracle -----------------------------------------------------------


def test_known_root_of_two_reward_leaves() -> None:
    # Prepare: root computed by @openzeppelin/merkle-tree 1.0.8 for these two leaves
    values = [["0x1111111111111111111111111111111111111111", 1, 10**18],
              ["0x2222222222222222222222222222222222222222", 1, 5]]
    # Execute
    tree = StandardMerkleTree.of(values, REWARD_TYPES)
    # Assert
    assert tree.root == "0x9a4b27a24058f16e555f90e1ab20a8fe30762937e07e3ff97b92b13b16e62fa4"
    assert tree.get_proof(0) == [
        "0xb1913e273eec3f0b6a74cbf5b55102bdc29da151ec6bf6453f003eb7ba910136"
    ]


def test_single_leaf_root_is_the_leaf_hash() -> None:
    # Prepare
    value = [address(9), 3, 42]
    # Execute
    tree = StandardMerkleTree.of([value], REWARD_TYPES)
    # Assert
    assert tree.root_bytes == standard_leaf_hash(REWARD_TYPES, value)
    assert tree.get_proof(0) == []
    assert tree.verify(0, [])


def test_leaf_hash_is_double_keccak_of_abi_encoding() -> None:
    # Prepare
    from eth_abi.abi import encode

    value = [address(1), 2, 3]
    # Execute
    leaf = standard_leaf_hash(REWARD_TYPES, value)
    # Assert
    assert leaf == keccak(keccak(encode(REWARD_TYPES, value)))


def test_forged_proofs_fail_verification() -> None:
    # Prepare
    values = reward_values(9)
    tree = StandardMerkleTree.of(values, REWARD_TYPES)
    proof = tree.get_proof(4)
    flipped = bytes.fromhex(proof[1][2:])
    flipped = bytes([flipped[0] ^ 1]) + flipped[1:]
    # Execute / Assert
    assert tree.verify(4, proof)
    assert not tree.verify(4, [proof[0], "0x" + flipped.hex(), *proof[2:]])
    assert not tree.verify([address(5), 7, 5 * 10**18 + 4 + 1], proof)  # inflated amount
    assert not tree.verify([address(5), 8, 5 * 10**18 + 4], proof)  # replayed for another round
    assert not tree.verify(4, proof[:-1])  # truncated
    assert not verify(tree.root, REWARD_TYPES, values[4], tree.get_proof(5))


def test_malformed_proof_element_is_an_error() -> None:
    # Prepare
    tree = StandardMerkleTree.of(reward_values(3), REWARD_TYPES)
    # Execute / Assert
    with pytest.raises(MerkleTreeError, match="proof element must be 32 bytes"):
        tree.verify(0, ["0x1234"])
    with pytest.raises(MerkleTreeError, match="proof element is not hex"):
        process_proof(tree.root, ["0xzz"])


def test_multi_proof_verifies_statically_and_rejects_tampering() -> None:
    # Prepare
    tree = StandardMerkleTree.of(reward_values(10), REWARD_TYPES)
    multi = tree.get_multi_proof([1, 4, 8])
    # Execute
    honest = verify_multi_proof(tree.root, REWARD_TYPES, multi)
    tampered = MultiProof(multi.leaves, multi.proof, tuple(not f for f in multi.proof_flags))
    # Assert
    assert honest
    with pytest.raises(MerkleTreeError):
        verify_multi_proof(tree.root, REWARD_TYPES, tampered)
    assert tree.get_multi_proof([]).proof == (tree.root,)


def test_load_rejects_tampered_dumps() -> None:
    # Prepare
    dump = StandardMerkleTree.of(reward_values(4), REWARD_TYPES).dump()
    bad_node = json.loads(json.dumps(dump))
    bad_node["tree"][1] = "0x" + "00" * 32
    bad_value = json.loads(json.dumps(dump))
    bad_value["values"][0]["value"][2] = "1"
    bad_format = {**dump, "format": "simple-v1"}
    bad_index = json.loads(json.dumps(dump))
    bad_index["values"][0]["treeIndex"] = 99
    # Execute / Assert
    with pytest.raises(MerkleTreeError, match="Merkle tree does not contain the expected value"):
        StandardMerkleTree.load(bad_value)
    with pytest.raises(MerkleTreeError, match="Unknown format 'simple-v1'"):
        StandardMerkleTree.load(bad_format)
    with pytest.raises(MerkleTreeError, match="treeIndex 99 is out of bounds"):
        StandardMerkleTree.load(bad_index)
    with pytest.raises(MerkleTreeError, match="Merkle tree"):
        StandardMerkleTree.load(bad_node)


@pytest.mark.parametrize(
    ("values", "types", "message"),
    [
        ([], REWARD_TYPES, "Expected non-zero number of leaves"),
        ([["0x12", 1, 1]], REWARD_TYPES, "invalid address '0x12'"),
        ([["0x5fbDB2315678afecb367f032d93F642f64180aa3", 1, 1]], REWARD_TYPES,
         "has a wrong EIP-55 checksum"),
        ([[address(1), 2**64, 1]], REWARD_TYPES, "uint64 value 18446744073709551616 is out of range"),
        ([[address(1), -1, 1]], REWARD_TYPES, "uint64 value -1 is out of range"),
        ([[address(1), 1]], REWARD_TYPES, "leaf value has 2 items, encoding has 3"),
        ([[address(1), True, 1]], REWARD_TYPES, "uint64 value must be an integer, got True"),
        ([[b"\x01" * 31]], ["bytes32"], "bytes32 value must be 32 bytes, got 31"),
        ([[(1, 2)]], ["(uint256,uint256)"], "unsupported ABI type"),
    ],
)
def test_invalid_values_are_refused(values: list[Any], types: list[str], message: str) -> None:
    # Execute / Assert
    with pytest.raises(MerkleTreeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        StandardMerkleTree.of(values, types)


def test_lookup_of_absent_leaf_and_bad_index() -> None:
    # Prepare
    tree = StandardMerkleTree.of(reward_values(3), REWARD_TYPES)
    # Execute / Assert
    with pytest.raises(MerkleTreeError, match="Leaf is not in tree"):
        tree.get_proof([address(99), 7, 1])
    with pytest.raises(MerkleTreeError, match="Index out of bounds"):
        tree.get_proof(3)
    with pytest.raises(MerkleTreeError, match="Index out of bounds"):
        tree.get_proof(-1)
    assert tree.at(3) is None
