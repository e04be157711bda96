"""Typed refusals for malformed or mismatching artifacts.

Every artifact that crosses a trust boundary (an update, a model, a contribution proof,
a round report, a task spec) is hostile until parsed. Each way it can be wrong gets its
own class so that callers can branch on the type, tests can assert the exact failure, and
the aggregator can record a stable `code` for the rejection in the round report.
"""

from __future__ import annotations

from typing import ClassVar

from ledger.errors import FormatError

__all__ = [
    "BadSignatureError",
    "BaseModelMismatchError",
    "DomainMismatchError",
    "DtypeError",
    "FieldError",
    "FormatError",
    "HeaderJsonError",
    "JsonError",
    "JsonSyntaxError",
    "JsonTooDeepError",
    "JsonTooLargeError",
    "JsonValueError",
    "LayoutMismatchError",
    "MetadataError",
    "NonCanonicalJsonError",
    "NonFiniteError",
    "NormBoundError",
    "NotSafetensorsError",
    "ParticipantMismatchError",
    "ReportInconsistentError",
    "RoundMismatchError",
    "SampleCountMismatchError",
    "SignerMismatchError",
    "TaskHashMismatchError",
    "TruncatedError",
    "UpdateHashMismatchError",
]


class _Coded(FormatError):
    """A FormatError with a stable machine-readable `code` for round reports."""

    code: ClassVar[str] = "format"


# --- JSON ---------------------------------------------------------------------------------


class JsonError(_Coded):
    """Bytes that should hold canonical JSON do not."""

    code = "json"


class JsonTooLargeError(JsonError):
    """The document is larger than the parser's size limit."""

    code = "json.too_large"


class JsonTooDeepError(JsonError):
    """Arrays/objects nest deeper than the parser's depth limit."""

    code = "json.too_deep"


class JsonSyntaxError(JsonError):
    """The bytes are not UTF-8 JSON at all."""

    code = "json.syntax"


class JsonValueError(JsonError):
    """Valid JSON holding a value the canonical form forbids (float, NaN, duplicate key, ...)."""

    code = "json.value"


class NonCanonicalJsonError(JsonError):
    """Valid JSON whose bytes differ from the canonical encoding of the same value."""

    code = "json.non_canonical"


class FieldError(_Coded):
    """A field of a parsed artifact is missing, has the wrong type, or is out of range.

    `field` is the dotted path of the offending field (for example ``training.lr``).
    """

    code = "field"

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


# --- safetensors containers ---------------------------------------------------------------


class NotSafetensorsError(_Coded):
    """The bytes do not start like a safetensors file (bad header length or header start)."""

    code = "safetensors.not_safetensors"


class TruncatedError(_Coded):
    """The header or the tensor data ends before the header says it should."""

    code = "safetensors.truncated"


class HeaderJsonError(_Coded):
    """The safetensors header is not the JSON object the format requires."""

    code = "safetensors.header"


class MetadataError(_Coded):
    """The `__metadata__` block lacks a field or holds a malformed one."""

    code = "safetensors.metadata"


class DtypeError(_Coded):
    """A tensor is not float32."""

    code = "tensor.dtype"


class LayoutMismatchError(_Coded):
    """Tensor names or shapes differ from the task's parameter layout."""

    code = "tensor.layout"


class NonFiniteError(_Coded):
    """A tensor holds NaN or +/-Inf."""

    code = "tensor.non_finite"


class NormBoundError(_Coded):
    """The update's L2 norm exceeds the task's bound."""

    code = "tensor.norm"


# --- mismatches against what the chain says -------------------------------------------------


class RoundMismatchError(_Coded):
    """The artifact claims a different round than expected."""

    code = "mismatch.round"


class BaseModelMismatchError(_Coded):
    """The artifact claims a different base (global) model hash than expected."""

    code = "mismatch.base_model"


class ParticipantMismatchError(_Coded):
    """The artifact claims a different participant than the one who revealed it."""

    code = "mismatch.participant"


class TaskHashMismatchError(_Coded):
    """A model artifact names a different task hash than expected."""

    code = "mismatch.task"


class UpdateHashMismatchError(_Coded):
    """A contribution proof vouches for a different update than the revealed one."""

    code = "mismatch.update_hash"


class SampleCountMismatchError(_Coded):
    """A contribution proof states a different sample count than the reveal."""

    code = "mismatch.num_samples"


class DomainMismatchError(_Coded):
    """A contribution proof was made for another chain id or registry contract."""

    code = "mismatch.domain"


class BadSignatureError(_Coded):
    """A signature is malformed or cannot be recovered to any address."""

    code = "signature.invalid"


class SignerMismatchError(_Coded):
    """A signature is valid but was made by another key than the claimed participant's."""

    code = "signature.signer"


class ReportInconsistentError(_Coded):
    """A round report's totals, rewards root or submission list contradict each other."""

    code = "report.inconsistent"
