"""RevertDecoder maps raw revert data to ContractRevert(name, args) for any registered ABI."""

from __future__ import annotations

import eth_abi
import pytest
from eth_utils import function_signature_to_4byte_selector

from ledger.chain.reverts import EMPTY_REVERT, UNKNOWN_ERROR, RevertDecoder

ALICE = "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
ABI = [
    {
        "type": "error",
        "name": "RegistryRoundNotOpen",
        "inputs": [{"name": "round", "type": "uint64"}, {"name": "status", "type": "uint8"}],
    },
    {
        "type": "error",
        "name": "RegistryBatch",
        "inputs": [
            {
                "name": "entry",
                "type": "tuple",
                "components": [
                    {"name": "account", "type": "address"},
                    {"name": "amounts", "type": "uint256[]"},
                ],
            },
            {"name": "others", "type": "address[2]"},
        ],
    },
    {"type": "function", "name": "ignored", "inputs": [], "outputs": []},
]


def _data(signature: str, types: list[str], values: list[object]) -> bytes:
    return function_signature_to_4byte_selector(signature) + eth_abi.encode(types, values)


def test_registered_error_decodes_to_name_and_args() -> None:
    # Prepare
    decoder = RevertDecoder()
    decoder.register_abi(ABI)
    data = _data("RegistryRoundNotOpen(uint64,uint8)", ["uint64", "uint8"], [7, 2])

    # Execute
    revert = decoder.decode(data)

    # Assert
    assert (revert.error_name, revert.error_args) == ("RegistryRoundNotOpen", (7, 2))
    assert str(revert) == "contract reverted: RegistryRoundNotOpen(7, 2)"


def test_hex_string_input_decodes_like_bytes() -> None:
    # Prepare
    decoder = RevertDecoder()
    decoder.register_abi(ABI)
    data = _data("RegistryRoundNotOpen(uint64,uint8)", ["uint64", "uint8"], [1, 1])

    # Execute
    revert = decoder.decode("0x" + data.hex())

    # Assert
    assert revert.error_args == (1, 1)


def test_nested_addresses_come_back_checksummed() -> None:
    # Prepare
    decoder = RevertDecoder()
    decoder.register_abi(ABI)
    types = ["(address,uint256[])", "address[2]"]
    data = _data(
        "RegistryBatch((address,uint256[]),address[2])",
        types,
        [(ALICE.lower(), [1, 2]), [ALICE.lower(), ALICE.lower()]],
    )

    # Execute
    revert = decoder.decode(data)

    # Assert
    assert revert.error_name == "RegistryBatch"
    assert revert.error_args == ((ALICE, (1, 2)), (ALICE, ALICE))


def test_builtin_error_and_panic_decode_without_registration() -> None:
    # Prepare
    decoder = RevertDecoder()

    # Execute
    error = decoder.decode(_data("Error(string)", ["string"], ["not allowed"]))
    panic = decoder.decode(_data("Panic(uint256)", ["uint256"], [0x11]))

    # Assert
    assert (error.error_name, error.error_args) == ("Error", ("not allowed",))
    assert (panic.error_name, panic.error_args) == ("Panic", (0x11,))


def test_empty_data_is_a_plain_revert() -> None:
    # Execute
    revert = RevertDecoder().decode(b"")

    # Assert
    assert (revert.error_name, revert.error_args) == (EMPTY_REVERT, ())
    assert "reverted without data" in str(revert)


def test_unknown_selector_says_how_to_fix_it() -> None:
    # Prepare
    data = _data("Mystery(uint256)", ["uint256"], [5])

    # Execute
    revert = RevertDecoder().decode(data)

    # Assert
    assert revert.error_name == UNKNOWN_ERROR
    assert revert.error_args == ("0x" + data[:4].hex(), "0x" + data.hex())
    assert "register the ABI" in str(revert)


@pytest.mark.parametrize("payload", [b"", b"\x00" * 31, b"\xff" * 64])
def test_truncated_or_forged_payload_is_unknown_not_a_crash(payload: bytes) -> None:
    # Prepare
    decoder = RevertDecoder()
    decoder.register_abi(ABI)
    selector = function_signature_to_4byte_selector("RegistryRoundNotOpen(uint64,uint8)")

    # Execute
    revert = decoder.decode(selector + payload)

    # Assert
    assert revert.error_name == UNKNOWN_ERROR
    assert "RegistryRoundNotOpen revert data does not decode" in str(revert)


def test_known_reports_registered_names() -> None:
    # Prepare
    decoder = RevertDecoder()

    # Execute
    before = decoder.known("RegistryRoundNotOpen")
    decoder.register_abi(ABI)

    # Assert
    assert (before, decoder.known("RegistryRoundNotOpen"), decoder.known("ignored")) == (
        False,
        True,
        False,
    )
