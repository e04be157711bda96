"""Turns raw revert data into `ContractRevert(name, args)` using the ABIs a backend has seen.

A revert can come from a contract other than the one called (the registry pulling tokens
makes the token revert with its own ERC-20 error), so the decoder pools the custom errors of
every ABI it is given. Solidity's built-ins decode too: `Error(string)` as name "Error" and
`Panic(uint256)` as name "Panic". Revert data with no selector decodes as name "Revert" with no
args; an unknown selector as name "UnknownError" with args (selector hex, data hex).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_abi.grammar import BasicType, TupleType, parse
from eth_utils.abi import function_abi_to_4byte_selector, get_abi_input_types
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from ledger.errors import ContractRevert

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")

EMPTY_REVERT = "Revert"
UNKNOWN_ERROR = "UnknownError"

_BUILTINS: dict[bytes, tuple[str, list[str]]] = {
    ERROR_STRING_SELECTOR: ("Error", ["string"]),
    PANIC_SELECTOR: ("Panic", ["uint256"]),
}


def _checksum_addresses(type_str: str, value: Any) -> Any:
    """Return `value` with every ABI `address` inside it in checksum form."""
    return _normalise(parse(type_str), value)


def _normalise(abi_type: TupleType | BasicType, value: Any) -> Any:
    if abi_type.arrlist:
        item_type = abi_type.item_type
        return tuple(_normalise(item_type, item) for item in value)
    if isinstance(abi_type, TupleType):
        return tuple(_normalise(c, v) for c, v in zip(abi_type.components, value, strict=True))
    if abi_type.base == "address":
        return to_checksum_address(value)
    return value


class RevertDecoder:
    """Maps 4-byte error selectors to names and argument types; thread-safe."""

    def __init__(self) -> None:
        self._errors: dict[bytes, tuple[str, list[str]]] = dict(_BUILTINS)
        self._lock = threading.Lock()
        # ABI lists already read, by id, holding a reference so an id is never reused while
        # remembered: a bulk send passes the same contract ABI thousands of times, and hashing
        # every error selector again each time cost more than signing the transaction.
        self._seen: dict[int, tuple[Sequence[Mapping[str, Any]], int]] = {}

    def register_abi(self, abi: Sequence[Mapping[str, Any]]) -> None:
        """Add every `error` entry of `abi` (an ABI list object already read is skipped)."""
        with self._lock:
            seen = self._seen.get(id(abi))
            if seen is not None and seen[0] is abi and seen[1] == len(abi):
                return
        found: dict[bytes, tuple[str, list[str]]] = {}
        for entry in abi:
            if entry.get("type") != "error":
                continue
            selector = function_abi_to_4byte_selector(entry)  # type: ignore[arg-type]
            found[selector] = (str(entry["name"]), list(get_abi_input_types(entry)))  # type: ignore[arg-type]
        with self._lock:
            self._errors.update(found)
            self._seen[id(abi)] = (abi, len(abi))  # a list grown since is read again

    def known(self, name: str) -> bool:
        """True when an error of this name has been registered."""
        with self._lock:
            return any(known_name == name for known_name, _ in self._errors.values())

    def decode(self, data: bytes | str) -> ContractRevert:
        """The `ContractRevert` that `data` (raw revert bytes or 0x-hex) stands for."""
        raw = bytes(HexBytes(data))
        if not raw:
            return ContractRevert(EMPTY_REVERT, (), "reverted without data")
        selector, payload = raw[:4], raw[4:]
        with self._lock:
            known = self._errors.get(selector)
        if known is None:
            return ContractRevert(
                UNKNOWN_ERROR,
                ("0x" + selector.hex(), "0x" + raw.hex()),
                f"unknown error selector 0x{selector.hex()} (data 0x{raw.hex()}): register the "
                "ABI that declares it with ChainBackend.register_abi",
            )
        name, types = known
        try:
            values = abi_decode(types, payload)
        except (DecodingError, ValueError, OverflowError) as exc:
            return ContractRevert(
                UNKNOWN_ERROR,
                ("0x" + selector.hex(), "0x" + raw.hex()),
                f"{name} revert data does not decode as ({', '.join(types)}): {exc}",
            )
        args = tuple(_checksum_addresses(t, v) for t, v in zip(types, values, strict=True))
        return ContractRevert(name, args)
