"""The compiled-kernel switch: explicit modes, clear errors, the same integers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from aggregator.fixedpoint import FixedPointGrid, FixedPointRangeError
from aggregator.rules import native
from ledger.errors import ConfigError


@pytest.fixture
def fresh_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget any kernel this process loaded, so a test sees a first build."""
    monkeypatch.setattr(native, "_lib", None)
    monkeypatch.setattr(native, "_status", None)


def test_disabled_mode_reports_why(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "0")

    # Execute / Assert
    assert native.available() is False
    assert native.status() == "disabled by FEDLEDGER_NATIVE=0"


def test_an_unknown_mode_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "yes")

    # Execute
    with pytest.raises(ConfigError) as err:
        native.available()

    # Assert
    assert str(err.value) == "FEDLEDGER_NATIVE must be auto, 0 or 1, got 'yes'"


def test_required_kernels_without_a_compiler_fail_loudly(
    fresh_native: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "1")
    monkeypatch.setenv("FEDLEDGER_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setattr(native.shutil, "which", lambda name: None)

    # Execute
    with pytest.raises(native.NativeKernelError) as err:
        native.available()

    # Assert
    assert str(err.value) == (
        "FEDLEDGER_NATIVE=1 but the kernels are unavailable: no C compiler found "
        "(set CC or install gcc)"
    )


def test_auto_mode_falls_back_and_says_so(
    fresh_native: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "auto")
    monkeypatch.setenv("FEDLEDGER_NATIVE_CACHE", str(tmp_path))
    monkeypatch.setattr(native.shutil, "which", lambda name: None)

    # Execute
    ok = native.available()

    # Assert
    assert ok is False
    assert native.status() == "unavailable: no C compiler found (set CC or install gcc)"


def test_build_caches_one_library_per_source_hash(
    fresh_native: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "auto")
    monkeypatch.setenv("FEDLEDGER_NATIVE_CACHE", str(tmp_path))
    if native.shutil.which("cc") is None and native.shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine")

    # Execute
    ok = native.available()

    # Assert
    assert ok is True
    assert native.status() == "compiled"
    built = list(tmp_path.glob("fedledger_kernels_*.so"))
    assert len(built) == 1


def test_a_bad_value_found_by_the_kernel_names_the_callers_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Prepare
    monkeypatch.setenv("FEDLEDGER_NATIVE", "auto")
    if not native.available():
        pytest.skip(f"compiled kernels {native.status()}")
    updates = torch.zeros((5, 300), dtype=torch.float32)
    updates[3, 299] = float("inf")

    # Execute
    with pytest.raises(FixedPointRangeError) as err:
        native.trimmed_sum(updates, [0, 3, 4], 1, FixedPointGrid(), median=False)

    # Assert
    assert str(err.value) == "update 3: holds +-Inf"
