"""Reading settings from the environment.

Every setting of the project that can change between machines comes through
these helpers, so the list of variables lives in one place (settings.py) and
each value is parsed the same way.
"""

import os


class ConfigError(SystemExit):
    """A setting is missing or malformed: the process stops with this one line."""

    def __init__(self, message: str):
        super().__init__(f"studio: {message}")


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(
    name: str, default: int, *, lo: int | None = None, hi: int | None = None, unit: str = ""
) -> int:
    """The whole number in `name`, or `default` when it is unset or blank.
    With `lo` and/or `hi`, a value outside them stops start-up with e.g.
    "NAME must be 1 to 30 seconds; got 90." (`unit` names what is counted)."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        value = default
    else:
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number; got {raw!r}.") from None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if hi is None:
            allowed = f"{lo} or more"
        elif lo is None:
            allowed = f"{hi} or less"
        else:
            allowed = f"{lo} to {hi}"
        raise ConfigError(f"{name} must be {' '.join(filter(None, [allowed, unit]))}; got {value}.")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]
