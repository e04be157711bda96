"""TaskSpec: canonical bytes and hash, and a named refusal for every malformed field."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from ledger.formats.canonical import canonical_json
from ledger.formats.errors import FieldError, JsonValueError, NonCanonicalJsonError
from ledger.formats.task import TaskSpec, TrainingConfig

from .conftest import make_spec, make_training

ADDRESS = "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"


def spec_json() -> dict[str, Any]:
    value: dict[str, Any] = make_spec().to_json_value()
    return value


def encode_with_floats(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def test_round_trip_and_hash() -> None:
    # Prepare
    spec = make_spec()
    # Execute
    data = spec.canonical_bytes()
    parsed = TaskSpec.from_json(data)
    # Assert
    assert parsed == spec
    assert parsed.task_hash() == keccak(data) == spec.task_hash()
    assert data.startswith(
        b'{"aggregation":{"fixed_point_bits":24,"params":{"f":1,"m":3},"rule":"multikrum",'
        b'"update_norm_bound":"10"},"dataset":"digits","deadlines":{"commit_seconds":120,'
        b'"reveal_seconds":60},"format":"fedledger-task/1","initial_model_hash":"0xabab'
    )
    assert b'"reward_per_round":"1000000000000000000000"' in data
    assert b'"training":{"batch_size":32,"epochs":1,"lr":"0.05","momentum":"0.9",' in data
    assert parsed.training.lr == Decimal("0.05")
    assert dict(parsed.model_kwargs) == {"channels": [8, 16], "dropout": "0.25"}


def test_any_field_change_changes_the_hash() -> None:
    # Prepare
    base = make_spec().task_hash()
    # Execute
    others = [make_spec(rounds=21).task_hash(),
              make_spec(update_norm_bound=Decimal("10.5")).task_hash(),
              make_spec(aggregation_params={"f": 2, "m": 3}).task_hash()]
    # Assert
    assert base not in others and len(set(others)) == 3


def test_training_config_hash_and_seeds() -> None:
    # Prepare
    training = make_training()
    fixed = TrainingConfig(1, 32, Decimal("0.05"), Decimal("0.9"), Decimal(0), "fixed", 7)
    per_round = TrainingConfig(1, 32, Decimal("0.05"), Decimal("0.9"), Decimal(0), "round", 7)
    # Execute
    digest = training.config_hash()
    seed = training.derive_seed(4, ADDRESS.lower())
    # Assert
    assert digest == keccak(canonical_json(training.to_json_value()))
    expected = keccak(abi_encode(["uint256", "uint64", "address"], [7, 4, ADDRESS]))
    assert seed == int.from_bytes(expected[:8], "big") & (2**63 - 1)
    assert fixed.derive_seed(4, ADDRESS) == 7
    assert per_round.derive_seed(4, ADDRESS) != per_round.derive_seed(5, ADDRESS)


def mutated(path: str, value: object) -> dict[str, Any]:
    document = copy.deepcopy(spec_json())
    *parents, leaf = path.split(".")
    node = document
    for key in parents:
        node = node[key]
    if value is KeyError:
        del node[leaf]
    else:
        node[leaf] = value
    return document


@pytest.mark.parametrize(
    ("path", "value", "field", "problem"),
    [
        ("rounds", KeyError, "rounds", "is missing"),
        ("surprise", 1, "surprise", "is not a known field"),
        ("training.surprise", 1, "training.surprise", "is not a known field"),
        ("format", "fedledger-task/2", "format", "expected 'fedledger-task/1'"),
        ("rounds", "20", "rounds", "expected an integer"),
        ("rounds", 0, "rounds", "outside [1, 4294967296]"),
        ("task_id", "Digits!", "task_id", "does not match"),
        ("training.lr", "0.050", "training.lr", "expected a canonical decimal string"),
        ("training.lr", 5, "training.lr", "expected a canonical decimal string"),
        ("training.momentum", "1", "training.momentum", "outside [0, 1)"),
        ("training.epochs", 0, "training.epochs", "outside [1, 10000]"),
        ("training.seed_policy", "random", "training.seed_policy", "is not one of"),
        ("aggregation.fixed_point_bits", 60, "aggregation.fixed_point_bits", "outside [1, 48]"),
        ("aggregation.update_norm_bound", "0", "aggregation.update_norm_bound", "must be > 0"),
        ("aggregation.update_norm_bound", "-1", "aggregation.update_norm_bound", "outside"),
        ("aggregation.params", {"f": {"nested": 1}}, "aggregation.params.f", "expected a scalar"),
        ("aggregation.params", {"bad key": 1}, "aggregation.params.bad key", "identifier"),
        ("reward_per_round", 5, "reward_per_round", "expected a decimal string"),
        ("reward_per_round", "-5", "reward_per_round", "expected a decimal string"),
        ("reward_per_round", str(2**256), "reward_per_round", "exceeds"),
        ("initial_model_hash", "0x" + "AB" * 32, "initial_model_hash", "lowercase hex"),
        ("layout", [["w", [2, -1]]], "layout[0]", "must be a tuple of ints >= 0"),
        ("layout", [], "layout", "must list at least one tensor"),
        ("deadlines.commit_seconds", 0, "deadlines.commit_seconds", "outside"),
        ("model.kwargs", [1], "model.kwargs", "expected a JSON object"),
        ("software_version", "", "software_version", "must not be empty"),
    ],
)
def test_from_json_names_the_bad_field(path: str, value: object, field: str,
                                       problem: str) -> None:
    # Prepare
    data = canonical_json(mutated(path, value))
    # Execute / Assert
    with pytest.raises(FieldError) as caught:
        TaskSpec.from_json(data)
    assert caught.value.field == field
    assert problem in caught.value.problem


def test_from_json_refuses_floats_and_non_canonical_bytes() -> None:
    # Prepare
    with_float = encode_with_floats(mutated("training.lr", 0.05))
    spaced = json.dumps(spec_json(), sort_keys=True).encode()
    big_int = encode_with_floats(mutated("reward_per_round", 10**21))
    # Execute / Assert
    with pytest.raises(JsonValueError, match="floats are not allowed"):
        TaskSpec.from_json(with_float)
    with pytest.raises(NonCanonicalJsonError):
        TaskSpec.from_json(spaced)
    with pytest.raises(JsonValueError, match="outside"):
        TaskSpec.from_json(big_int)


def test_constructor_validates_like_the_parser() -> None:
    # Execute / Assert
    with pytest.raises(FieldError, match=r"model.kwargs: \$.dropout: floats are not allowed"):
        make_spec(model_kwargs={"dropout": 0.25})
    with pytest.raises(FieldError, match="training.lr: expected a finite Decimal"):
        TrainingConfig(1, 32, 0.05, Decimal(0), Decimal(0), "fixed", 1)  # type: ignore[arg-type]
    with pytest.raises(FieldError, match="initial_model_hash: expected 32 bytes"):
        make_spec(initial_model_hash=b"short")


def test_spec_maps_are_read_only() -> None:
    # Prepare
    spec = make_spec()
    # Execute / Assert
    with pytest.raises(TypeError):
        spec.aggregation_params["f"] = 3  # type: ignore[index]
