"""`fedledger cid` and `fedledger store ...`: results on stdout, refusals as one line and status 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from fedledger.cli.store import app, cid_command
from ledger.store.builder import CHUNK_SIZE, compute_cid
from ledger.store.disk import DiskStore

# ipfshttpclient 0.7.0 passes urllib3 2 a removed `strict=` argument; harmless, filtered here
# as DaemonStore filters it outside pytest.
pytestmark = pytest.mark.filterwarnings("ignore:The 'strict' parameter:FutureWarning")

HELLO_V1 = "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"

runner = CliRunner()


@pytest.fixture
def store_dir(tmp_path: Path) -> str:
    return str(tmp_path / "store")


@pytest.fixture
def hello(tmp_path: Path) -> Path:
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello")
    return path


def test_cid_prints_the_ipfs_add_cid(hello: Path) -> None:
    # Execute
    result = runner.invoke(app, ["cid", str(hello)])

    # Assert
    assert result.exit_code == 0
    assert result.stdout == f"{HELLO_V1}\n"


def test_cid_reads_standard_input() -> None:
    # Execute
    result = runner.invoke(app, ["cid", "-"], input=b"hello")

    # Assert
    assert result.exit_code == 0
    assert result.stdout == f"{HELLO_V1}\n"


def test_cid_command_is_a_plain_function(hello: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Execute
    cid_command(hello)

    # Assert
    assert capsys.readouterr().out == f"{HELLO_V1}\n"


def test_cid_stores_nothing(hello: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Prepare
    monkeypatch.chdir(tmp_path)

    # Execute
    runner.invoke(app, ["cid", str(hello)])

    # Assert
    assert not (tmp_path / ".fedledger").exists()


def test_cid_of_a_missing_file_fails_with_its_name(tmp_path: Path) -> None:
    # Execute
    result = runner.invoke(app, ["cid", str(tmp_path / "absent.bin")])

    # Assert
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "error:" in result.stderr and "absent.bin" in result.stderr
    assert "No such file or directory" in result.stderr


def test_put_then_get_round_trips(tmp_path: Path, store_dir: str) -> None:
    # Prepare
    data = bytes(range(256)) * (CHUNK_SIZE // 128)
    source = tmp_path / "update.bin"
    source.write_bytes(data)

    # Execute
    put = runner.invoke(app, ["put", str(source), "--store", store_dir])
    cid = put.stdout.strip()
    got = runner.invoke(app, ["get", cid, "--store", store_dir])

    # Assert
    assert put.exit_code == 0 and cid == compute_cid(data)
    assert got.exit_code == 0
    assert got.stdout_bytes == data


def test_put_prints_one_cid_per_file_in_order(hello: Path, tmp_path: Path, store_dir: str) -> None:
    # Prepare
    other = tmp_path / "other.txt"
    other.write_bytes(b"other")

    # Execute
    result = runner.invoke(app, ["put", str(hello), str(other), "-s", store_dir])

    # Assert
    assert result.exit_code == 0
    assert result.stdout.split() == [HELLO_V1, compute_cid(b"other")]


def test_get_to_a_file_and_the_store_from_the_environment(
    hello: Path, tmp_path: Path, store_dir: str
) -> None:
    # Prepare
    env = {"FEDLEDGER_STORE": store_dir}
    runner.invoke(app, ["put", str(hello)], env=env)
    out = tmp_path / "out.txt"

    # Execute
    result = runner.invoke(app, ["get", HELLO_V1, "-o", str(out)], env=env)

    # Assert
    assert result.exit_code == 0
    assert out.read_bytes() == b"hello"


def test_get_of_unknown_content_fails_naming_it(store_dir: str) -> None:
    # Execute
    result = runner.invoke(app, ["get", HELLO_V1, "--store", store_dir])

    # Assert
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"error: {HELLO_V1} is not in the embedded store at" in result.stderr


def test_get_refuses_content_over_max_size(hello: Path, store_dir: str) -> None:
    # Prepare
    runner.invoke(app, ["put", str(hello), "--store", store_dir])

    # Execute
    result = runner.invoke(app, ["get", HELLO_V1, "--store", store_dir, "--max-size", "4"])

    # Assert
    assert result.exit_code == 1
    assert f"content {HELLO_V1} is 5 bytes, over the limit of 4 bytes" in result.stderr


def test_get_of_corrupt_content_fails_and_writes_nothing(
    hello: Path, tmp_path: Path, store_dir: str
) -> None:
    # Prepare
    runner.invoke(app, ["put", str(hello), "--store", store_dir])
    DiskStore(store_dir).block_path(HELLO_V1).write_bytes(b"HELLO")
    out = tmp_path / "out.txt"

    # Execute
    result = runner.invoke(app, ["get", HELLO_V1, "-s", store_dir, "-o", str(out)])

    # Assert
    assert result.exit_code == 1
    assert f"error: block {HELLO_V1} is corrupt" in result.stderr
    assert not out.exists()


def test_invalid_cid_is_refused(store_dir: str) -> None:
    # Execute
    result = runner.invoke(app, ["get", "not-a-cid", "--store", store_dir])

    # Assert
    assert result.exit_code == 1
    assert "error: 'not-a-cid' is not a CID" in result.stderr


def test_has_answers_with_its_exit_status(hello: Path, store_dir: str) -> None:
    # Prepare
    runner.invoke(app, ["put", str(hello), "--store", store_dir])

    # Execute
    present = runner.invoke(app, ["has", HELLO_V1, "--store", store_dir])
    absent = runner.invoke(app, ["has", compute_cid(b"nope"), "--store", store_dir])

    # Assert
    assert (present.exit_code, present.stdout) == (0, "yes\n")
    assert (absent.exit_code, absent.stdout) == (1, "no\n")


def test_verify_accepts_the_matching_file_and_refuses_another(hello: Path) -> None:
    # Execute
    good = runner.invoke(app, ["verify", HELLO_V1, str(hello)])
    bad = runner.invoke(app, ["verify", compute_cid(b"other"), str(hello)])

    # Assert
    assert (good.exit_code, good.stdout) == (0, "ok\n")
    assert bad.exit_code == 1
    assert f"does not match CID {compute_cid(b'other')}: its CID is {HELLO_V1}" in bad.stderr


def test_pin_unpin_and_gc(hello: Path, store_dir: str) -> None:
    # Prepare
    runner.invoke(app, ["put", str(hello), "--store", store_dir, "--no-pin"])

    # Execute
    pinned = runner.invoke(app, ["pin", HELLO_V1, "--store", store_dir])
    kept = runner.invoke(app, ["gc", "--store", store_dir])
    unpinned = runner.invoke(app, ["unpin", HELLO_V1, "--store", store_dir])
    again = runner.invoke(app, ["unpin", HELLO_V1, "--store", store_dir])
    collected = runner.invoke(app, ["gc", "--store", store_dir])

    # Assert
    assert pinned.exit_code == kept.exit_code == unpinned.exit_code == 0
    assert kept.stdout == "removed 0 blocks (0 bytes), kept 1\n"
    assert again.exit_code == 1 and "is not pinned" in again.stderr
    assert collected.stdout == "removed 1 blocks (5 bytes), kept 0\n"


def test_copy_between_stores(hello: Path, tmp_path: Path, store_dir: str) -> None:
    # Prepare
    runner.invoke(app, ["put", str(hello), "--store", store_dir])
    other = str(tmp_path / "other-store")

    # Execute
    result = runner.invoke(app, ["copy", HELLO_V1, "--from", store_dir, "--to", other])

    # Assert
    assert result.exit_code == 0
    assert "copied 1 blocks" in result.stderr
    assert DiskStore(other).get_bytes(HELLO_V1) == b"hello"


def test_unreachable_daemon_store_is_one_clear_line() -> None:
    # Execute
    result = runner.invoke(app, ["has", HELLO_V1, "--store", "http://127.0.0.1:9"])

    # Assert
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no IPFS daemon answers at http://127.0.0.1:9")
    assert len(result.stderr.strip().splitlines()) == 1
