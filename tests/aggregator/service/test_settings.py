"""Service settings: file, environment and flags combine in order; bad input is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.service.settings import (
    ENV_ADMIN_TOKEN,
    AdminToken,
    ServiceSettings,
    load_settings,
)
from ledger.errors import ConfigError

TOKEN = "file-token-0123456789abcdef"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_file_values_apply_and_paths_resolve_next_to_the_file(tmp_path: Path) -> None:
    # Prepare
    config = _write(tmp_path / "agg.toml", f'''
[aggregator]
chain = "http://127.0.0.1:9545"
store = "http://127.0.0.1:5001"
network = "net/network.json"
rounds = 12
poll_seconds = 1
auto_open = false
port = 8700
admin_token = "{TOKEN}"
''')

    # Execute
    settings = load_settings(config, env={})

    # Assert
    assert (settings.chain, settings.store, settings.rounds, settings.port) == (
        "http://127.0.0.1:9545", "http://127.0.0.1:5001", 12, 8700)
    assert settings.network == (tmp_path / "net" / "network.json").resolve()
    assert settings.poll_seconds == 1.0 and settings.auto_open is False
    assert settings.admin_token is not None and settings.admin_token.secret == TOKEN.encode()


def test_environment_beats_file_and_flags_beat_both(tmp_path: Path) -> None:
    # Prepare
    config = _write(tmp_path / "agg.toml", f'port = 8700\nadmin_token = "{TOKEN}"\n')
    env_token = "env-token-abcdefghijklmnop"

    # Execute
    settings = load_settings(config, env={ENV_ADMIN_TOKEN: env_token},
                             overrides={"port": 9000, "rounds": None})

    # Assert
    assert settings.port == 9000
    assert settings.rounds is None
    assert settings.admin_token is not None and settings.admin_token.secret == env_token.encode()


def test_token_file_is_read_and_its_newline_dropped(tmp_path: Path) -> None:
    # Prepare
    _write(tmp_path / "token", TOKEN + "\n")
    config = _write(tmp_path / "agg.toml", 'admin_token_file = "token"\n')

    # Execute
    settings = load_settings(config, env={})

    # Assert
    assert settings.admin_token is not None and settings.admin_token.secret == TOKEN.encode()


@pytest.mark.parametrize(("text", "message"), [
    ('prot = 8600\n', "unknown key 'prot'"),
    ('port = "8600"\n', "port must be a int, got '8600'"),
    ('auto_open = 1\n', "auto_open must be a bool, got 1"),
    ('rounds = true\n', "rounds must be a int, got True"),
    ('rounds = 0\n', "rounds must be at least 1, got 0"),
    ('max_json_depth = 100000\n', "max_json_depth must be in [2, 256], got 100000"),
    ('port = [\n', "cannot read config file"),
    ('admin_token = "short"\n', "the admin token has 5 characters; use at least 16"),
    (f'admin_token = "{TOKEN}"\nadmin_token_file = "t"\n', "not both"),
    ('admin_token_file = "missing-token"\n', "does not exist"),
])
def test_bad_config_files_are_refused_with_the_reason(tmp_path: Path, text: str,
                                                       message: str) -> None:
    # Prepare
    config = _write(tmp_path / "agg.toml", text)

    # Execute / Assert
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    assert message in str(caught.value)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="no config file at .*nope.toml"):
        load_settings(tmp_path / "nope.toml", env={})


def test_the_token_never_shows_in_repr() -> None:
    # Prepare
    settings = ServiceSettings(admin_token=AdminToken(TOKEN))

    # Assert
    assert TOKEN not in repr(settings)
    assert repr(settings.admin_token) == "AdminToken(<hidden>)"


def test_tokens_with_spaces_or_non_ascii_are_refused() -> None:
    # Execute / Assert
    with pytest.raises(ConfigError, match="printable ASCII without spaces"):
        AdminToken("abcdefgh ijklmnopq")
    with pytest.raises(ConfigError, match="printable ASCII without spaces"):
        AdminToken("ébcdefghijklmnopqrs")


@pytest.mark.parametrize(("spec", "expected"), [
    ("store", "{dir}/store"),
    ("embedded:data/store", "embedded:{dir}/data/store"),
    ("/abs/store", "/abs/store"),
    ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
    ("/ip4/127.0.0.1/tcp/5001/http", "/ip4/127.0.0.1/tcp/5001/http"),
])
def test_a_store_directory_in_the_file_is_relative_to_the_file(tmp_path: Path, spec: str,
                                                               expected: str) -> None:
    # Prepare
    config = _write(tmp_path / "agg.toml", f'store = "{spec}"\n')

    # Execute
    settings = load_settings(config, env={})

    # Assert
    assert settings.store == expected.format(dir=tmp_path.resolve())
