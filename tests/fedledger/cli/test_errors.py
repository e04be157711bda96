"""The shared error reporter: deliberate errors become one line and exit status 1."""

from __future__ import annotations

import pytest
import typer

from fedledger.cli.errors import reported
from ledger.errors import ContentNotFound


def test_a_fedledger_error_becomes_exit_1_with_its_message(
        capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    with pytest.raises(typer.Exit) as exited, reported():
        raise ContentNotFound("bafkreiabc is not in the store")

    # Assert
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.strip() == "error: bafkreiabc is not in the store"


def test_an_os_error_names_the_path(capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    with pytest.raises(typer.Exit) as exited, reported():
        open("/nonexistent/fedledger/file.json")  # noqa: SIM115

    # Assert
    assert exited.value.exit_code == 1
    assert capsys.readouterr().err.strip() == (
        "error: /nonexistent/fedledger/file.json No such file or directory")


def test_other_exceptions_are_not_swallowed() -> None:
    # Execute / Assert
    with pytest.raises(ZeroDivisionError), reported():
        _ = 1 / 0
