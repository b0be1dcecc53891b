"""Settings: environment variables over an optional TOML file over defaults.

Every setting has one name. In TOML it is a key (dotted sections allowed:
``[ocpp] profile_lifetime_s = 120`` is ``ocpp_profile_lifetime_s``); in the
environment it is ``FUSESHARE_`` + the name in capitals, except ``DATABASE_URL``
which is also read plainly because every platform sets that one.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "fuseshare"


@dataclass(frozen=True)
class Settings:
    """What a fuseshare process needs to know. Units in names."""

    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""
    """Empty: an SQLite file ``fuseshare.sqlite3`` in ``data_dir``."""
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = ""
    """Signs portal sessions; empty: one is generated and kept in ``data_dir``."""
    log_level: str = "INFO"
    tls_certfile: str = ""
    tls_keyfile: str = ""
    ocpp_heartbeat_interval_s: int = 300
    ocpp_profile_lifetime_s: int = 120
    ocpp_quiet_profile_lifetime_s: int = 600
    """The lifetime of a limit at or below the charger's failsafe current (idle, paused):
    its expiry could only raise it, so it is refreshed less often."""
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str = ""
    mqtt_password: str = ""
    meter_stale_after_s: float = 5.0
    lockout_after_failures: int = 5
    lockout_s: int = 900
    history_per_second_keep_s: int = 48 * 3600
    history_per_minute_keep_s: int = 365 * 24 * 3600

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'fuseshare.sqlite3'}"

    def with_overrides(self, **values: Any) -> Settings:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


_ENV_PREFIX = "FUSESHARE_"


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}_"))
        else:
            out[name] = value
    return out


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    kind_name = kind if isinstance(kind, str) else getattr(kind, "__name__", str(kind))
    try:
        if "Path" in kind_name:
            return Path(str(raw)).expanduser()
        if kind_name == "int":
            return int(raw)
        if kind_name == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {name} = {raw!r} is not a valid {kind_name}; give a {kind_name} value"
        ) from None


def load_settings(
    config_file: str | Path | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read settings: defaults, then the TOML file (``FUSESHARE_CONFIG`` or the argument), then env."""
    env = dict(os.environ if environ is None else environ)
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}
    path = config_file or env.get(f"{_ENV_PREFIX}CONFIG")
    if path:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"config file {file} does not exist; give the path of a TOML file")
        try:
            table = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from None
        for name, raw in _flatten(table).items():
            if name not in known:
                raise ConfigError(
                    f"config file {file}: unknown setting '{name}'; known settings: "
                    + ", ".join(sorted(known))
                )
            values[name] = _coerce(name, known[name], raw)
    if env.get("DATABASE_URL"):
        values["database_url"] = env["DATABASE_URL"]
    for name, kind in known.items():
        raw = env.get(_ENV_PREFIX + name.upper())
        if raw is not None and raw != "":
            values[name] = _coerce(_ENV_PREFIX + name.upper(), kind, raw)
    return Settings(**values)
