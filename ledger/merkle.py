"""OpenZeppelin-compatible Merkle trees, so Python builds the roots Solidity verifies.

The rewards of a round are paid through a Merkle root checked on chain by OpenZeppelin's
`MerkleProof`; participants get their proofs from whoever built the tree, often the
JavaScript library `@openzeppelin/merkle-tree`. This module reproduces that library's
`StandardMerkleTree` (version 1.0.8) bit for bit so that roots, proofs, multi-proofs and
the `standard-v1` JSON dump are interchangeable between the two:

* leaf  = keccak256(keccak256(abi.encode(types, value)))   (double hash: no second preimage)
* node  = keccak256(min(a, b) ++ max(a, b))                 (sorted pair, bytewise)
* leaves are sorted ascending by hash (stable: equal leaves keep their input order), then
  laid out as a complete binary tree in an array of ``2n - 1`` nodes: the root at index 0,
  children of ``i`` at ``2i + 1`` and ``2i + 2``, the k-th sorted leaf at ``2n - 2 - k``.
* a proof lists the siblings from the leaf up to (not including) the root.

Values are normalised per ABI type (addresses checksummed, integers as `int`, bytes as
`bytes`); the dump writes integers as decimal strings and bytes as ``0x`` hex, which both
this module and the JavaScript library load.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from eth_abi.abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_utils.address import is_checksum_address, is_hex_address, to_checksum_address

from ledger.errors import FormatError

__all__ = [
    "FORMAT",
    "MerkleTreeError",
    "MultiProof",
    "StandardMerkleTree",
    "process_multi_proof",
    "process_proof",
    "standard_leaf_hash",
    "standard_node_hash",
    "verify",
    "verify_multi_proof",
]

FORMAT = "standard-v1"

LeafValue: TypeAlias = tuple[Any, ...]
BytesLike: TypeAlias = "bytes | str"


class MerkleTreeError(FormatError):
    """A tree, proof, dump or leaf value is invalid (the JS library's InvalidArgumentError)."""

    code = "merkle"


# --- hashing --------------------------------------------------------------------------------


def _to_node(node: BytesLike, what: str = "Merkle tree node") -> bytes:
    if isinstance(node, str):
        raw = node[2:] if node[:2] in ("0x", "0X") else node
        try:
            node = bytes.fromhex(raw)
        except ValueError as exc:
            raise MerkleTreeError(f"{what} is not hex: {node!r}") from exc
    if not isinstance(node, (bytes, bytearray)) or len(node) != 32:
        raise MerkleTreeError(f"{what} must be 32 bytes")
    return bytes(node)


def _hex(node: bytes) -> str:
    return "0x" + node.hex()


def standard_node_hash(a: bytes, b: bytes) -> bytes:
    """Hash two nodes as OpenZeppelin does: keccak256 of the smaller then the larger."""
    return keccak(a + b) if a <= b else keccak(b + a)


def standard_leaf_hash(leaf_encoding: Sequence[str], value: Sequence[Any]) -> bytes:
    """Return keccak256(keccak256(abi.encode(leaf_encoding, value))) after normalising."""
    types = _check_encoding(leaf_encoding)
    return _hash_normalised(types, _normalise_value(types, value))


def _hash_normalised(types: Sequence[str], value: LeafValue) -> bytes:
    encoders = _static_encoders(tuple(types))
    if encoders is None:
        encoded = abi_encode(list(types), list(value))
    else:
        encoded = b"".join(encode(item) for encode, item in zip(encoders, value))
    return keccak(keccak(encoded))


_StaticEncoder: TypeAlias = "Callable[[Any], bytes]"


@functools.lru_cache(maxsize=64)
def _static_encoders(types: tuple[str, ...]) -> tuple[_StaticEncoder, ...] | None:
    """Word encoders when every type is a static scalar, else None (use eth_abi).

    abi.encode of static scalars is just one 32-byte word each: addresses and unsigned
    integers big-endian left-padded, signed integers two's complement, bools 0/1, bytesN
    right-padded. Doing that directly is several times faster than eth_abi, which matters
    for data commitments over tens of thousands of examples; the JS cross-checks cover it.
    """
    encoders: list[_StaticEncoder] = []
    for abi_type in types:
        base, bits, dims = _parse_type(abi_type)
        if dims or base == "string" or (base == "bytes" and not bits):
            return None
        if base == "address":
            encoders.append(lambda v: bytes(12) + bytes.fromhex(v[2:]))
        elif base == "bool":
            encoders.append(lambda v: (1 if v else 0).to_bytes(32, "big"))
        elif base == "bytes":
            encoders.append(lambda v: v + bytes(32 - len(v)))
        elif base == "uint":
            encoders.append(lambda v: v.to_bytes(32, "big"))
        else:
            encoders.append(lambda v: (v % 2**256).to_bytes(32, "big"))
    return tuple(encoders)


def process_proof(leaf_hash: BytesLike, proof: Sequence[BytesLike]) -> bytes:
    """Fold `proof` into `leaf_hash` and return the root it implies."""
    node = _to_node(leaf_hash, "leaf hash")
    for sibling in [_to_node(p, "proof element") for p in proof]:
        node = standard_node_hash(node, sibling)
    return node


@dataclass(frozen=True)
class MultiProof:
    """Proof that several leaves are in one tree (OpenZeppelin `multiProofVerify` inputs).

    `leaves` are leaf values for tree methods and leaf hashes for `process_multi_proof`.
    """

    leaves: tuple[Any, ...]
    proof: tuple[str, ...]
    proof_flags: tuple[bool, ...]


def process_multi_proof(leaf_hashes: Sequence[BytesLike], proof: Sequence[BytesLike],
                        proof_flags: Sequence[bool]) -> bytes:
    """Return the root implied by a multi-proof over already-hashed leaves."""
    stack = [_to_node(leaf, "leaf hash") for leaf in leaf_hashes]
    siblings = [_to_node(p, "proof element") for p in proof]
    flags = [bool(f) for f in proof_flags]
    if len(siblings) < sum(1 for f in flags if not f):
        raise MerkleTreeError("Invalid multiproof format")
    if len(stack) + len(siblings) != len(flags) + 1:
        raise MerkleTreeError("Provided leaves and multiproof are not compatible")
    for flag in flags:
        if not stack or (flag and len(stack) < 2):
            raise MerkleTreeError("multiproof flags consume more nodes than it provides")
        a = stack.pop(0)
        b = stack.pop(0) if flag else siblings.pop(0)
        stack.append(standard_node_hash(a, b))
    if len(stack) + len(siblings) != 1:
        raise MerkleTreeError("multiproof did not reduce to one root")
    return stack.pop() if stack else siblings.pop(0)


def verify(root: BytesLike, leaf_encoding: Sequence[str], leaf: Sequence[Any],
           proof: Sequence[BytesLike]) -> bool:
    """True when `proof` shows that `leaf` is in the tree with `root` (no tree needed)."""
    return _to_node(root, "root") == process_proof(standard_leaf_hash(leaf_encoding, leaf), proof)


def verify_multi_proof(root: BytesLike, leaf_encoding: Sequence[str],
                       multiproof: MultiProof) -> bool:
    """True when `multiproof` (with leaf values) shows all its leaves are under `root`."""
    hashes = [standard_leaf_hash(leaf_encoding, leaf) for leaf in multiproof.leaves]
    implied = process_multi_proof(hashes, multiproof.proof, multiproof.proof_flags)
    return _to_node(root, "root") == implied


# --- tree layout (array form) ---------------------------------------------------------------


def _left(i: int) -> int:
    return 2 * i + 1


def _right(i: int) -> int:
    return 2 * i + 2


def _parent(i: int) -> int:
    if i <= 0:
        raise MerkleTreeError("Root has no parent")
    return (i - 1) // 2


def _sibling(i: int) -> int:
    if i <= 0:
        raise MerkleTreeError("Root has no siblings")
    return i - 1 if i % 2 == 0 else i + 1


def _is_leaf(tree: Sequence[bytes], i: int) -> bool:
    return 0 <= i < len(tree) and _left(i) >= len(tree)


def _make_tree(leaves: Sequence[bytes]) -> list[bytes]:
    if not leaves:
        raise MerkleTreeError("Expected non-zero number of leaves")
    size = 2 * len(leaves) - 1
    tree: list[bytes] = [b""] * size
    for i, leaf in enumerate(leaves):
        tree[size - 1 - i] = leaf
    for i in range(size - 1 - len(leaves), -1, -1):
        tree[i] = standard_node_hash(tree[_left(i)], tree[_right(i)])
    return tree


def _tree_proof(tree: Sequence[bytes], index: int) -> list[bytes]:
    if not _is_leaf(tree, index):
        raise MerkleTreeError("Index is not a leaf")
    proof: list[bytes] = []
    while index > 0:
        proof.append(tree[_sibling(index)])
        index = _parent(index)
    return proof


def _tree_multi_proof(tree: Sequence[bytes], indices: Sequence[int]
                      ) -> tuple[list[int], list[bytes], list[bool]]:
    for i in indices:
        if not _is_leaf(tree, i):
            raise MerkleTreeError("Index is not a leaf")
    ordered = sorted(indices, reverse=True)
    if any(a == b for a, b in itertools.pairwise(ordered)):
        raise MerkleTreeError("Cannot prove duplicated index")
    stack = list(ordered)
    proof: list[bytes] = []
    flags: list[bool] = []
    while stack and stack[0] > 0:
        j = stack.pop(0)
        s = _sibling(j)
        p = _parent(j)
        if stack and s == stack[0]:
            flags.append(True)
            stack.pop(0)
        else:
            flags.append(False)
            proof.append(tree[s])
        stack.append(p)
    if not ordered:
        proof.append(tree[0])
    return ordered, proof, flags


def _is_valid_tree(tree: Sequence[bytes]) -> bool:
    for i, node in enumerate(tree):
        if len(node) != 32:
            return False
        left, right = _left(i), _right(i)
        if right >= len(tree):
            if left < len(tree):
                return False
        elif node != standard_node_hash(tree[left], tree[right]):
            return False
    return len(tree) > 0


# --- ABI value normalisation ----------------------------------------------------------------

_TYPE_RE = re.compile(r"(?P<base>[a-z]+)(?P<bits>[0-9]*)(?P<arrays>(\[[0-9]*\])*)")
_ARRAY_RE = re.compile(r"\[([0-9]*)\]")


def _check_encoding(leaf_encoding: Sequence[str]) -> tuple[str, ...]:
    if isinstance(leaf_encoding, str) or not isinstance(leaf_encoding, Sequence):
        raise MerkleTreeError("leaf encoding must be a list of ABI type names")
    types = tuple(leaf_encoding)
    if not types:
        raise MerkleTreeError("leaf encoding must name at least one ABI type")
    for t in types:
        _parse_type(t)
    return types


def _parse_type(abi_type: object) -> tuple[str, int, list[int | None]]:
    if not isinstance(abi_type, str):
        raise MerkleTreeError(f"ABI type must be a string, got {abi_type!r}")
    match = _TYPE_RE.fullmatch(abi_type)
    if match is None:
        raise MerkleTreeError(f"unsupported ABI type {abi_type!r} (tuples are not supported)")
    base, bits_text = match["base"], match["bits"]
    dims = [int(d) if d else None for d in _ARRAY_RE.findall(match["arrays"])]
    bits = int(bits_text) if bits_text else 0
    if base in ("uint", "int"):
        bits = bits or 256
        if bits % 8 or not 8 <= bits <= 256:
            raise MerkleTreeError(f"invalid integer type {abi_type!r}")
    elif base == "bytes":
        if bits_text and not 1 <= bits <= 32:
            raise MerkleTreeError(f"invalid bytes type {abi_type!r}")
    elif base in ("address", "bool", "string"):
        if bits_text:
            raise MerkleTreeError(f"invalid ABI type {abi_type!r}")
    else:
        raise MerkleTreeError(f"unsupported ABI type {abi_type!r}")
    return base, bits, dims


def _normalise_value(types: Sequence[str], value: Sequence[Any]) -> LeafValue:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise MerkleTreeError(f"leaf value must be a list of {len(types)} items, got {value!r}")
    if len(value) != len(types):
        raise MerkleTreeError(f"leaf value has {len(value)} items, encoding has {len(types)}")
    return tuple(_normalise(t, v) for t, v in zip(types, value))


def _normalise(abi_type: str, value: Any) -> Any:
    base, bits, dims = _parse_type(abi_type)
    if dims:
        size = dims[-1]
        inner = abi_type[: abi_type.rindex("[")]
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise MerkleTreeError(f"{abi_type} value must be a list, got {value!r}")
        if size is not None and len(value) != size:
            raise MerkleTreeError(f"{abi_type} value must have {size} items, got {len(value)}")
        return tuple(_normalise(inner, item) for item in value)
    if base == "address":
        if isinstance(value, (bytes, bytearray)) and len(value) == 20:
            return to_checksum_address(bytes(value))
        if isinstance(value, str) and is_hex_address(value):
            body = value[2:]
            if body not in (body.lower(), body.upper()) and not is_checksum_address(value):
                raise MerkleTreeError(f"address {value!r} has a wrong EIP-55 checksum")
            return to_checksum_address(value)
        raise MerkleTreeError(f"invalid address {value!r}")
    if base == "bool":
        if not isinstance(value, bool):
            raise MerkleTreeError(f"bool value must be True or False, got {value!r}")
        return value
    if base == "string":
        if not isinstance(value, str):
            raise MerkleTreeError(f"string value must be str, got {value!r}")
        return value
    if base == "bytes":
        raw = _to_bytes(value, abi_type)
        if bits and len(raw) != bits:
            raise MerkleTreeError(f"{abi_type} value must be {bits} bytes, got {len(raw)}")
        return raw
    number = _to_int(value, abi_type)
    low, high = (0, 2**bits - 1) if base == "uint" else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    if not low <= number <= high:
        raise MerkleTreeError(f"{abi_type} value {number} is out of range")
    return number


def _to_bytes(value: Any, abi_type: str) -> bytes:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError as exc:
            raise MerkleTreeError(f"{abi_type} value is not hex: {value!r}") from exc
    raise MerkleTreeError(f"{abi_type} value must be bytes or 0x-hex, got {value!r}")


def _to_int(value: Any, abi_type: str) -> int:
    if isinstance(value, bool):
        raise MerkleTreeError(f"{abi_type} value must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if text[:2] in ("0x", "0X") or text[:3] in ("-0x", "-0X"):
                return int(text, 16)
            if re.fullmatch(r"-?[0-9]+", text):
                return int(text)
        except ValueError:
            pass
    raise MerkleTreeError(f"{abi_type} value must be an integer, got {value!r}")


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, bytes):
        return _hex(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    value: LeafValue
    tree_index: int


class StandardMerkleTree:
    """A Merkle tree over ABI-encoded leaf values, identical to OpenZeppelin's JS class.

    Build one with `of` or `load`; leaf arguments are either a value index (``int``, the
    position in the list given to `of`) or a leaf value (a sequence matching the encoding).
    """

    def __init__(self, tree: Sequence[bytes], entries: Sequence[_Entry],
                 leaf_encoding: Sequence[str]) -> None:
        """Wrap an already-built tree; use `of` or `load` instead."""
        self._tree = list(tree)
        self._entries = list(entries)
        self._encoding = _check_encoding(leaf_encoding)
        self._lookup: dict[bytes, int] = {
            self._tree[e.tree_index]: i for i, e in enumerate(self._entries)
        }

    @classmethod
    def of(cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str], *,
           sort_leaves: bool = True) -> StandardMerkleTree:
        """Build a tree over `values` (each a sequence matching `leaf_encoding`)."""
        types = _check_encoding(leaf_encoding)
        normalised = [_normalise_value(types, v) for v in values]
        hashed = [(_hash_normalised(types, v), i) for i, v in enumerate(normalised)]
        if sort_leaves:
            hashed.sort(key=lambda item: item[0])  # stable, like Array.prototype.sort
        tree = _make_tree([h for h, _ in hashed])
        tree_index = [0] * len(normalised)
        for leaf_index, (_, value_index) in enumerate(hashed):
            tree_index[value_index] = len(tree) - leaf_index - 1
        entries = [_Entry(v, tree_index[i]) for i, v in enumerate(normalised)]
        return cls(tree, entries, types)

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> StandardMerkleTree:
        """Rebuild a tree from its `standard-v1` dump and check every node and value."""
        if not isinstance(data, Mapping):
            raise MerkleTreeError("tree dump must be a JSON object")
        if data.get("format") != FORMAT:
            raise MerkleTreeError(f"Unknown format {data.get('format')!r}")
        if data.get("leafEncoding") is None:
            raise MerkleTreeError("Expected leaf encoding")
        types = _check_encoding(data["leafEncoding"])
        raw_tree = data.get("tree")
        raw_values = data.get("values")
        if not isinstance(raw_tree, list) or not isinstance(raw_values, list):
            raise MerkleTreeError("tree dump needs 'tree' and 'values' lists")
        tree = [_to_node(node) for node in raw_tree]
        entries = []
        for item in raw_values:
            if not isinstance(item, Mapping) or "value" not in item:
                raise MerkleTreeError("each dumped value needs 'value' and 'treeIndex'")
            index = item.get("treeIndex")
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(tree):
                raise MerkleTreeError(f"treeIndex {index!r} is out of bounds")
            entries.append(_Entry(_normalise_value(types, item["value"]), index))
        loaded = cls(tree, entries, types)
        loaded.validate()
        return loaded

    # -- reading --

    @property
    def root(self) -> str:
        """The root as ``0x`` + 64 lowercase hex digits."""
        return _hex(self._tree[0])

    @property
    def root_bytes(self) -> bytes:
        """The root as 32 bytes (what a `bytes32` contract argument takes)."""
        return self._tree[0]

    @property
    def leaf_encoding(self) -> tuple[str, ...]:
        """The ABI types of one leaf value."""
        return self._encoding

    def __len__(self) -> int:
        return len(self._entries)

    def at(self, index: int) -> LeafValue | None:
        """The normalised value given at position `index` of `of`, or None out of range."""
        if not -len(self._entries) <= index < len(self._entries):
            return None
        return self._entries[index].value

    def entries(self) -> Iterator[tuple[int, LeafValue]]:
        """Yield ``(value_index, value)`` in input order."""
        for i, entry in enumerate(self._entries):
            yield i, entry.value

    def leaf_hash(self, value: Sequence[Any]) -> str:
        """The leaf hash of `value` as hex."""
        return _hex(standard_leaf_hash(self._encoding, value))

    def leaf_lookup(self, value: Sequence[Any]) -> int:
        """The value index of `value` (the last one, when a value was given twice)."""
        index = self._lookup.get(standard_leaf_hash(self._encoding, value))
        if index is None:
            raise MerkleTreeError("Leaf is not in tree")
        return index

    # -- proofs --

    def get_proof(self, leaf: int | Sequence[Any]) -> list[str]:
        """Sibling hashes proving `leaf` (an index or a value), leaf level first."""
        value_index = self._value_index(leaf)
        tree_index = self._entries[value_index].tree_index
        proof = _tree_proof(self._tree, tree_index)
        if process_proof(self._tree[tree_index], proof) != self._tree[0]:
            raise MerkleTreeError("Unable to prove value")
        return [_hex(p) for p in proof]

    def get_multi_proof(self, leaves: Sequence[int | Sequence[Any]]) -> MultiProof:
        """A multi-proof for several leaves; `leaves` of the result come in proof order."""
        value_indices = [self._value_index(leaf) for leaf in leaves]
        indices = [self._entries[i].tree_index for i in value_indices]
        ordered, proof, flags = _tree_multi_proof(self._tree, indices)
        hashes = [self._tree[i] for i in ordered]
        if process_multi_proof(hashes, proof, flags) != self._tree[0]:
            raise MerkleTreeError("Unable to prove values")
        values = tuple(self._entries[self._lookup[h]].value for h in hashes)
        return MultiProof(values, tuple(_hex(p) for p in proof), tuple(flags))

    def verify(self, leaf: int | Sequence[Any], proof: Sequence[BytesLike]) -> bool:
        """True when `proof` proves `leaf` (an index or a value) against this root."""
        return process_proof(self._leaf_hash_of(leaf), proof) == self._tree[0]

    def verify_multi_proof(self, multiproof: MultiProof) -> bool:
        """True when `multiproof` (leaves as indices or values) proves against this root."""
        hashes = [self._leaf_hash_of(leaf) for leaf in multiproof.leaves]
        return process_multi_proof(hashes, multiproof.proof,
                                   multiproof.proof_flags) == self._tree[0]

    # -- integrity and serialisation --

    def validate(self) -> None:
        """Check that every value sits at its leaf and every node hashes its children."""
        for i in range(len(self._entries)):
            self._check_value_at(i)
        if not _is_valid_tree(self._tree):
            raise MerkleTreeError("Merkle tree is invalid")

    def dump(self) -> dict[str, Any]:
        """The `standard-v1` JSON object the JavaScript library's `load` reads."""
        return {
            "format": FORMAT,
            "leafEncoding": list(self._encoding),
            "tree": [_hex(node) for node in self._tree],
            "values": [
                {"value": _to_json(e.value), "treeIndex": e.tree_index} for e in self._entries
            ],
        }

    def render(self) -> str:
        """A text drawing of the tree (index and hash per node), as the JS `render`."""
        lines: list[str] = []
        stack: list[tuple[int, list[int]]] = [(0, [])]
        while stack:
            i, path = stack.pop()
            prefix = "".join(("   ", "│  ")[p] for p in path[:-1])
            prefix += "".join(("└─ ", "├─ ")[p] for p in path[-1:])
            lines.append(f"{prefix}{i}) {_hex(self._tree[i])}")
            if _right(i) < len(self._tree):
                stack.append((_right(i), [*path, 0]))
                stack.append((_left(i), [*path, 1]))
        return "\n".join(lines)

    # -- helpers --

    def _value_index(self, leaf: int | Sequence[Any]) -> int:
        if not isinstance(leaf, int):
            index = self.leaf_lookup(leaf)
        elif isinstance(leaf, bool):
            raise MerkleTreeError("a leaf is an index or a value, not a bool")
        else:
            index = leaf
        self._check_value_at(index)
        return index

    def _check_value_at(self, index: int) -> None:
        if not 0 <= index < len(self._entries):
            raise MerkleTreeError("Index out of bounds")
        entry = self._entries[index]
        if self._tree[entry.tree_index] != _hash_normalised(self._encoding, entry.value):
            raise MerkleTreeError("Merkle tree does not contain the expected value")

    def _leaf_hash_of(self, leaf: int | Sequence[Any]) -> bytes:
        if not isinstance(leaf, int):
            return standard_leaf_hash(self._encoding, leaf)
        if isinstance(leaf, bool):
            raise MerkleTreeError("a leaf is an index or a value, not a bool")
        if not 0 <= leaf < len(self._entries):
            raise MerkleTreeError("Index out of bounds")
        return _hash_normalised(self._encoding, self._entries[leaf].value)
