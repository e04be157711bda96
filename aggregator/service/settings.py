"""What `fedledger aggregator serve` runs against, read from a TOML file, the environment and flags.

Settings are read once, at start-up, into one frozen `ServiceSettings` that the
app factory receives: nothing reads the environment behind the app's back, so a
test builds any configuration by constructing the dataclass. Secrets (the admin
token, the aggregator's key or keystore passphrase) come from the environment or
from files, never from flags, so they stay out of shell history and `ps`.

Precedence, highest first: command-line flags, environment, config file, defaults.
Unknown keys in the file are an error (a typo must not silently fall back to a
default), and so is an admin token short enough to guess.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError

ENV_ADMIN_TOKEN = "FEDLEDGER_ADMIN_TOKEN"
"""Environment variable holding the admin bearer token."""
ENV_AGGREGATOR_KEY = "FEDLEDGER_AGGREGATOR_KEY"
"""Environment variable holding the aggregator's hex private key (dev chains)."""
ENV_AGGREGATOR_PASSPHRASE = "FEDLEDGER_AGGREGATOR_PASSPHRASE"
"""Environment variable holding the passphrase of the aggregator's keystore file."""

MIN_ADMIN_TOKEN_CHARS = 16
DEFAULT_MAX_BODY_BYTES = 64 * 1024
DEFAULT_MAX_JSON_DEPTH = 32


class AdminToken:
    """The operator's bearer token: compared in constant time, never printed."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str) -> None:
        cleaned = secret.strip()
        if len(cleaned) < MIN_ADMIN_TOKEN_CHARS:
            raise ConfigError(
                f"the admin token has {len(cleaned)} characters; use at least "
                f"{MIN_ADMIN_TOKEN_CHARS} (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        if not cleaned.isascii() or any(c.isspace() for c in cleaned):
            raise ConfigError("the admin token must be printable ASCII without spaces")
        self._secret = cleaned.encode("ascii")

    @property
    def secret(self) -> bytes:
        """The token bytes, for `hmac.compare_digest` only."""
        return self._secret

    def __repr__(self) -> str:
        return "AdminToken(<hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class ServiceSettings:
    """Everything the service needs to start; see docs/aggregator.md for each key."""

    chain: str = "http://127.0.0.1:8545"
    store: str = ".fedledger/store"
    network: Path = Path("network.json")
    keystore: Path | None = None
    initial_model: Path | None = None
    rounds: int | None = None
    poll_seconds: float = 2.0
    auto_open: bool = True
    run_loop: bool = True
    host: str = "127.0.0.1"
    port: int = 8600
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    admin_token: AdminToken | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.rounds is not None and self.rounds < 1:
            raise ConfigError(f"rounds must be at least 1, got {self.rounds}")
        if not 0.05 <= self.poll_seconds <= 3600:
            raise ConfigError(f"poll_seconds must be in [0.05, 3600], got {self.poll_seconds}")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be in [0, 65535], got {self.port}")
        if not 1024 <= self.max_body_bytes <= 64 * 1024 * 1024:
            raise ConfigError(
                f"max_body_bytes must be in [1024, 67108864], got {self.max_body_bytes}"
            )
        if not 2 <= self.max_json_depth <= 256:
            raise ConfigError(f"max_json_depth must be in [2, 256], got {self.max_json_depth}")


#: Keys a config file may hold, with the type each must have.
_FILE_KEYS: dict[str, tuple[type, ...]] = {
    "chain": (str,),
    "store": (str,),
    "network": (str,),
    "keystore": (str,),
    "initial_model": (str,),
    "rounds": (int,),
    "poll_seconds": (int, float),
    "auto_open": (bool,),
    "run_loop": (bool,),
    "host": (str,),
    "port": (int,),
    "max_body_bytes": (int,),
    "max_json_depth": (int,),
    "admin_token": (str,),
    "admin_token_file": (str,),
}
_PATH_KEYS = {"network", "keystore", "initial_model"}


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"no config file at {path}") from exc
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    table = document.get("aggregator", document)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [aggregator] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        expected = _FILE_KEYS.get(key)
        if expected is None:
            raise ConfigError(
                f"config file {path}: unknown key {key!r}; known keys: {', '.join(sorted(_FILE_KEYS))}"
            )
        if isinstance(value, bool) and bool not in expected or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise ConfigError(f"config file {path}: {key} must be a {names}, got {value!r}")
        if key in _PATH_KEYS or key == "admin_token_file":
            named = Path(str(value))
            value = named if named.is_absolute() else (path.parent / named).resolve()
        elif key == "store":
            value = _store_spec_near(path, str(value))
        values[key] = value
    return values


def _store_spec_near(config: Path, spec: str) -> str:
    """A directory store named in a config file is relative to that file, like other paths."""
    if "://" in spec or spec.startswith("/"):
        return spec
    prefix = "embedded:" if spec.startswith("embedded:") else ""
    directory = spec[len(prefix):]
    if not directory or Path(directory).is_absolute():
        return spec
    return prefix + str((config.parent / directory).resolve())


def _token_from_file(path: Path) -> AdminToken:
    try:
        return AdminToken(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"admin_token_file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read admin_token_file {path}: {exc}") from exc


def load_settings(
    config: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServiceSettings:
    """Combine defaults, the config file, the environment and flag `overrides`.

    `overrides` holds only the flags the user gave (None values are ignored).
    Raises `ConfigError` naming the offending file, key or variable.
    """
    environ = os.environ if env is None else env
    values: dict[str, Any] = _read_config_file(config) if config is not None else {}
    inline, token_file = values.pop("admin_token", None), values.pop("admin_token_file", None)
    if inline is not None and token_file is not None:
        raise ConfigError("config file: give admin_token or admin_token_file, not both")
    token: AdminToken | None = None
    if environ.get(ENV_ADMIN_TOKEN):
        token = AdminToken(environ[ENV_ADMIN_TOKEN])
    elif token_file is not None:
        token = _token_from_file(Path(token_file))
    elif inline is not None:
        token = AdminToken(inline)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in {f.name for f in fields(ServiceSettings)} or key == "admin_token":
            raise ConfigError(f"unknown setting {key!r}")
        values[key] = Path(value) if key in _PATH_KEYS else value
    for key in _PATH_KEYS:
        if key in values and not isinstance(values[key], Path):
            values[key] = Path(values[key])
    if "poll_seconds" in values:
        values["poll_seconds"] = float(values["poll_seconds"])
    return replace(ServiceSettings(), **values, admin_token=token)
