"""Update artifact: canonical bytes across processes, and one typed refusal per defect."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import torch
from eth_account.signers.local import LocalAccount
from safetensors import safe_open
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from ledger.formats.errors import (
    BaseModelMismatchError,
    DtypeError,
    FieldError,
    HeaderJsonError,
    LayoutMismatchError,
    MetadataError,
    NonFiniteError,
    NormBoundError,
    NotSafetensorsError,
    ParticipantMismatchError,
    RoundMismatchError,
    TruncatedError,
)
from ledger.formats.layout import ParameterLayout
from ledger.formats.update import decode_update, encode_update, read_update_header

from .conftest import BASE_HASH

REPO = Path(__file__).resolve().parents[3]
ADDRESS = "0x1a642f0E3c3aF545E7AcBD38b07251B3990914F1"  # key 0x01..01


def encoded(delta: dict[str, torch.Tensor], layout: ParameterLayout, **overrides: object) -> bytes:
    args: dict[str, object] = {"round": 3, "base_model_hash": BASE_HASH, "participant": ADDRESS}
    args.update(overrides)
    return encode_update(delta, layout=layout, **args)  # type: ignore[arg-type]


def decode(data: bytes, layout: ParameterLayout, max_norm: object = Decimal(10)) -> object:
    return decode_update(data, layout, 3, BASE_HASH, ADDRESS, max_norm)  # type: ignore[arg-type]


# --- canonical encoding -------------------------------------------------------------------------


def test_encoding_layout_is_exactly_as_documented(delta: dict[str, torch.Tensor],
                                                  layout: ParameterLayout) -> None:
    # Execute
    data = encoded(delta, layout)
    # Assert
    size = struct.unpack("<Q", data[:8])[0]
    header = data[8:8 + size]
    assert (8 + size) % 8 == 0
    assert header.rstrip(b" ").startswith(
        b'{"__metadata__":{"base_model_hash":"0x' + b"ab" * 32 + b'","format":"fedledger-update/1",'
        b'"participant":"0x1a642f0e3c3af545e7acbd38b07251b3990914f1","round":"3"},'
        b'"conv.weight":{"dtype":"F32","shape":[2,1,3,3],"data_offsets":[0,72]},'
        b'"conv.bias":{"dtype":"F32","shape":[2],"data_offsets":[72,80]},'
    )
    assert header.endswith(b'"fc.scale":{"dtype":"F32","shape":[],"data_offsets":[128,132]}}'
                           + b" " * (len(header) - len(header.rstrip(b" "))))
    body = np.frombuffer(data[8 + size:], dtype="<f4")
    assert np.array_equal(body, layout.flatten(delta).numpy())


def test_same_delta_in_any_dict_order_gives_same_bytes(delta: dict[str, torch.Tensor],
                                                       layout: ParameterLayout) -> None:
    # Prepare
    shuffled = dict(reversed(list(delta.items())))
    # Execute / Assert
    assert encoded(shuffled, layout) == encoded(delta, layout)


def test_bytes_are_identical_in_another_process(delta: dict[str, torch.Tensor],
                                                layout: ParameterLayout) -> None:
    # Prepare: safetensors' own writer orders __metadata__ by a per-process random hash,
    # so prove ours does not: another interpreter encodes the same values
    script = (
        "import json, sys, torch\n"
        "from ledger.formats.layout import ParameterLayout\n"
        "from ledger.formats.update import encode_update\n"
        "layout = ParameterLayout.from_json_value(json.loads(sys.argv[1]))\n"
        "vector = torch.frombuffer(bytearray(sys.stdin.buffer.read()), dtype=torch.float32)\n"
        "data = encode_update(layout.unflatten(vector), 3, bytes.fromhex(sys.argv[2]),\n"
        "                     sys.argv[3], layout=layout)\n"
        "sys.stdout.write(data.hex())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO)}
    args = [json.dumps(layout.to_json_value()), BASE_HASH.hex(), ADDRESS]
    # Execute
    result = subprocess.run([sys.executable, "-c", script, *args], env=env,
                            input=layout.flatten(delta).numpy().tobytes(),
                            capture_output=True, timeout=300, check=True)
    # Assert
    assert bytes.fromhex(result.stdout.decode()) == encoded(delta, layout)


def test_reference_safetensors_reads_our_bytes(delta: dict[str, torch.Tensor],
                                               layout: ParameterLayout, tmp_path: Path) -> None:
    # Prepare
    data = encoded(delta, layout)
    path = tmp_path / "update.safetensors"
    path.write_bytes(data)
    # Execute
    tensors = st_load(data)
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    # Assert
    assert set(tensors) == set(delta)
    for name, tensor in delta.items():
        assert torch.equal(tensors[name], tensor)
    assert metadata == {
        "format": "fedledger-update/1", "round": "3", "base_model_hash": "0x" + "ab" * 32,
        "participant": ADDRESS.lower(),
    }


def test_decode_accepts_a_file_written_by_reference_safetensors(
    delta: dict[str, torch.Tensor], layout: ParameterLayout,
) -> None:
    # Prepare: library writer, its own tensor and metadata order
    data = st_save(delta, metadata={"round": "3", "participant": ADDRESS.lower(),
                                    "format": "fedledger-update/1",
                                    "base_model_hash": "0x" + "ab" * 32})
    # Execute
    decoded = decode_update(data, layout, 3, BASE_HASH, ADDRESS, Decimal(10))
    # Assert
    assert torch.equal(decoded.vector, layout.flatten(delta))


def test_decode_round_trip(delta: dict[str, torch.Tensor], layout: ParameterLayout) -> None:
    # Prepare
    data = encoded(delta, layout)
    # Execute
    decoded = decode_update(data, layout, 3, "0x" + "AB" * 32, ADDRESS.lower(), Decimal(10))
    # Assert
    assert decoded.round == 3
    assert decoded.base_model_hash == BASE_HASH
    assert decoded.participant == ADDRESS
    assert torch.equal(decoded.vector, layout.flatten(delta))
    assert decoded.norm == pytest.approx(float(layout.flatten(delta).double().norm()))
    assert torch.equal(decoded.tensors()["fc.weight"], delta["fc.weight"])
    assert read_update_header(data) == decoded.header


# --- encode refusals ---------------------------------------------------------------------------


def test_encode_refuses_nan(delta: dict[str, torch.Tensor], layout: ParameterLayout) -> None:
    # Prepare
    delta["conv.bias"][1] = float("nan")
    # Execute / Assert
    with pytest.raises(NonFiniteError, match="update: tensor 'conv.bias' holds NaN or Inf"):
        encoded(delta, layout)


def test_encode_refuses_float64_and_extra_tensors(delta: dict[str, torch.Tensor],
                                                  layout: ParameterLayout) -> None:
    # Prepare
    wide = {**delta, "fc.weight": delta["fc.weight"].double()}
    extra = {**delta, "steps": torch.tensor(3)}
    # Execute / Assert
    with pytest.raises(DtypeError, match="tensor 'fc.weight' is torch.float64"):
        encoded(wide, layout)
    with pytest.raises(LayoutMismatchError, match="update: unexpected tensor 'steps'"):
        encoded(extra, layout)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"round": -1}, "round"), ({"round": 2**64}, "round"), ({"round": True}, "round"),
     ({"participant": "0x1234"}, "participant"), ({"base_model_hash": b"\x00" * 31},
                                                  "base_model_hash")],
)
def test_encode_refuses_bad_header_values(delta: dict[str, torch.Tensor], layout: ParameterLayout,
                                          overrides: dict[str, object], field: str) -> None:
    # Execute / Assert
    with pytest.raises(FieldError) as caught:
        encoded(delta, layout, **overrides)
    assert caught.value.field == field


# --- decode refusals ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "0 bytes is shorter than the 8-byte safetensors header length"),
        (b"\x01\x02\x03", "3 bytes is shorter"),
        (b"PK\x03\x04 this is a zip file, not tensors", "header length .* is not plausible"),
        (struct.pack("<Q", 1) + b"{", "header length 1 is not plausible"),
        (struct.pack("<Q", 4) + b"[1] ", "header does not start with '{'"),
    ],
)
def test_not_safetensors(layout: ParameterLayout, data: bytes, message: str) -> None:
    # Execute / Assert
    with pytest.raises(NotSafetensorsError, match=message):
        decode(data, layout)


def test_oversized_header_is_refused_before_parsing(delta: dict[str, torch.Tensor],
                                                    layout: ParameterLayout) -> None:
    # Prepare: 200 kB of metadata where a header for this layout needs well under 64 kB
    data = st_save(delta, metadata={**good_metadata(), "pad": "x" * 200_000})
    # Execute / Assert
    with pytest.raises(NotSafetensorsError, match="exceeds .*, the most this layout needs"):
        decode(data, layout)


def test_truncated_header_and_truncated_data(delta: dict[str, torch.Tensor],
                                             layout: ParameterLayout) -> None:
    # Prepare
    data = encoded(delta, layout)
    size = struct.unpack("<Q", data[:8])[0]
    # Execute / Assert
    with pytest.raises(TruncatedError, match=f"header claims {size} bytes but only 20"):
        decode(data[:28], layout)
    with pytest.raises(TruncatedError,
                       match="tensor data should be 132 bytes but only 131 are present"):
        decode(data[:-1], layout)


@pytest.mark.parametrize(
    ("header_bytes", "body", "message"),
    [
        (b"{not json}", b"", "header is not valid JSON"),
        (b'{"a":1,"a":2}', b"", "header repeats the key 'a'"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[1]}}', b"\x00" * 4,
         "tensor 'w': entry must have exactly the keys"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}',
         b"\x00" * 4, "non-integer number 1.5"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}',
         b"\x00" * 4, "shape must be a list of integers >= 0"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}',
         b"\x00" * 4, r"data_offsets must be \[begin, end\]"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}',
         b"\x00" * 4, r"data_offsets span 4 bytes, shape \[2\] of F32 needs 8"),
        ((b'{"__metadata__":{},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
         b'"v":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), b"\x00" * 8,
         "overlaps or leaves a gap"),
        (b'{"__metadata__":{},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
         b"\x00" * 12, "8 bytes follow the last tensor's data"),
        (b"{" + b'"a":[' * 20 + b"]" * 20 + b"}", b"", "header nests deeper than 8"),
    ],
)
def test_malformed_header(layout: ParameterLayout, header_bytes: bytes, body: bytes,
                          message: str) -> None:
    # Prepare
    data = struct.pack("<Q", len(header_bytes)) + header_bytes + body
    # Execute / Assert
    with pytest.raises(HeaderJsonError, match=message):
        decode(data, layout)


def good_metadata() -> dict[str, str]:
    return {"format": "fedledger-update/1", "round": "3", "base_model_hash": "0x" + "ab" * 32,
            "participant": ADDRESS.lower()}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "fedledger-update/2"}, "format is 'fedledger-update/2'"),
        ({"round": "03"}, "round '03' is not a uint64 in decimal"),
        ({"round": str(2**64)}, "is not a uint64"),
        ({"participant": ADDRESS}, "participant: expected an address as 0x \\+ 40 lowercase"),
        ({"base_model_hash": "0x" + "AB" * 32}, "base_model_hash: expected 0x \\+ 64 lowercase"),
        ({"extra": "1"}, "unknown key 'extra'"),
        ({"round": None}, "missing 'round'"),
    ],
)
def test_bad_metadata(delta: dict[str, torch.Tensor], layout: ParameterLayout,
                      change: dict[str, str | None], message: str) -> None:
    # Prepare
    metadata = {**good_metadata(), **change}
    metadata = {k: v for k, v in metadata.items() if v is not None}
    data = st_save(delta, metadata=metadata)  # type: ignore[arg-type]
    # Execute / Assert
    with pytest.raises(MetadataError, match=message):
        decode(data, layout)


def test_missing_metadata_block(delta: dict[str, torch.Tensor], layout: ParameterLayout) -> None:
    # Prepare
    data = st_save(delta)
    # Execute / Assert
    with pytest.raises(MetadataError, match="header has no __metadata__ block"):
        decode(data, layout)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64, torch.bfloat16, torch.int32])
def test_wrong_dtype(delta: dict[str, torch.Tensor], layout: ParameterLayout,
                     dtype: torch.dtype) -> None:
    # Prepare
    data = st_save({**delta, "fc.weight": delta["fc.weight"].to(dtype)}, metadata=good_metadata())
    # Execute / Assert
    with pytest.raises(DtypeError, match="tensor 'fc.weight' has dtype '.*', expected 'F32'"):
        decode(data, layout)


def test_wrong_shape_missing_and_extra_tensors(delta: dict[str, torch.Tensor],
                                               layout: ParameterLayout) -> None:
    # Prepare
    reshaped = {**delta, "fc.weight": delta["fc.weight"].reshape(4, 3)}
    missing = {k: v for k, v in delta.items() if k != "conv.bias"}
    extra = {**delta, "head.weight": torch.zeros(2)}
    # Execute / Assert
    with pytest.raises(LayoutMismatchError,
                       match=r"tensor 'fc.weight' has shape \[4, 3\], layout says \[3, 4\]"):
        decode(st_save(reshaped, metadata=good_metadata()), layout)
    with pytest.raises(LayoutMismatchError, match="update: missing tensor 'conv.bias'"):
        decode(st_save(missing, metadata=good_metadata()), layout)
    with pytest.raises(LayoutMismatchError, match="update: unexpected tensor 'head.weight'"):
        decode(st_save(extra, metadata=good_metadata()), layout)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_values(delta: dict[str, torch.Tensor], layout: ParameterLayout,
                           bad: float) -> None:
    # Prepare: the encoder refuses NaN, so write it with the reference library
    poisoned = {k: v.clone() for k, v in delta.items()}
    poisoned["fc.weight"][2, 1] = bad
    data = st_save(poisoned, metadata=good_metadata())
    # Execute / Assert
    with pytest.raises(NonFiniteError, match="update: tensor 'fc.weight' holds NaN or Inf"):
        decode(data, layout)


def test_norm_bound(delta: dict[str, torch.Tensor], layout: ParameterLayout) -> None:
    # Prepare
    huge = {k: v * 1e6 for k, v in delta.items()}
    data = encoded(huge, layout)
    norm = float(layout.flatten(huge).double().norm())
    # Execute / Assert
    with pytest.raises(NormBoundError, match=f"update L2 norm {norm:.6g} exceeds the bound 10"):
        decode(data, layout)
    assert decode_update(data, layout, 3, BASE_HASH, ADDRESS, None).norm == pytest.approx(norm)
    assert decode_update(data, layout, 3, BASE_HASH, ADDRESS, 2e6).norm == pytest.approx(norm)


def test_header_claiming_another_round_base_or_participant(
    delta: dict[str, torch.Tensor], layout: ParameterLayout, other_account: LocalAccount,
) -> None:
    # Prepare
    data = encoded(delta, layout)
    # Execute / Assert
    with pytest.raises(RoundMismatchError, match="update claims round 3, expected round 4"):
        decode_update(data, layout, 4, BASE_HASH, ADDRESS, None)
    with pytest.raises(BaseModelMismatchError, match="update claims base model 0xabab"):
        decode_update(data, layout, 3, b"\x00" * 32, ADDRESS, None)
    with pytest.raises(ParticipantMismatchError,
                       match=f"update claims participant {ADDRESS}, revealed by "
                             f"{other_account.address}"):
        decode_update(data, layout, 3, BASE_HASH, other_account.address, None)


def test_error_codes_are_distinct() -> None:
    # Prepare
    from ledger.formats import errors

    classes = [getattr(errors, name) for name in errors.__all__ if name != "FormatError"]
    # Execute
    codes = [cls.code for cls in classes]
    # Assert
    assert len(codes) == len(set(codes))
    assert all(issubclass(cls, errors.FormatError) for cls in classes)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_delta_on_cuda_encodes_like_on_cpu(delta: dict[str, torch.Tensor],
                                           layout: ParameterLayout) -> None:
    # Prepare: a participant training on a GPU hands over CUDA tensors
    on_gpu = {name: tensor.to("cuda") for name, tensor in delta.items()}
    # Execute / Assert
    assert encoded(on_gpu, layout) == encoded(delta, layout)
