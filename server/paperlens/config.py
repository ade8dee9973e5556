"""One typed settings tree. The VS Code settings (``paperlens.*``) map onto it one to one:
``paperlens.paperFolders`` -> ``Settings.paper_folders``, ``paperlens.summary.baseUrl`` ->
``Settings.summary.base_url`` and so on. Unknown or ill-typed values are reported and the default
is kept, so a typo never stops the server.
"""
from __future__ import annotations

import dataclasses
import hashlib
import math
import os
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


@dataclass
class CompletionSettings:
    limit: int = 50


@dataclass
class SummarySettings:
    provider: str = "extractive"          # "extractive" | "openai"
    model: str = "gpt-4o-mini"
    base_url: str = ""
    api_key_env: str = "OPENAI_API_KEY"
    max_input_tokens: int = 6000
    timeout_seconds: float = 30.0


@dataclass
class Settings:
    paper_folders: list[str] = field(default_factory=list)
    index_path: str = ""
    index_workers: int = 0                # processes that parse files; 0 = one per core, at most 2
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    trace: str = "off"                    # "off" | "messages" | "verbose"


_CHOICES = {
    ("summary", "provider"): ("extractive", "openai"),
    ("trace",): ("off", "messages", "verbose"),
}
_MINIMUM = {("completion", "limit"): 1, ("index_workers",): 0, ("summary", "max_input_tokens"): 256,
            ("summary", "timeout_seconds"): 1}
# upper bounds: a huge value would start a process per unit, send a million-token prompt, or
# overflow a socket timeout (``1e999`` in JSON is infinity)
_MAXIMUM = {("completion", "limit"): 500, ("summary", "max_input_tokens"): 2_000_000,
            ("summary", "timeout_seconds"): 3600}
MAX_INDEX_WORKERS = 32        # and never more than the CPUs this process may run on
MAX_STRING = 4096             # characters in one string setting (a path, a URL, a model name)
MAX_LIST = 256                # paper folders
MAX_ERRORS = 20               # problems listed; the rest are counted
_PATHS = {("paper_folders",), ("index_path",)}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SECRET = {("summary", "base_url")}      # its value is never shown: it may carry credentials

_show_repr = reprlib.Repr()
_show_repr.maxstring = _show_repr.maxother = 60
_show_repr.maxlist = _show_repr.maxdict = 4
_show_repr.maxlevel = 2


def _show(value: Any) -> str:
    """``value`` in a message: short, whatever its size or depth."""
    return _show_repr.repr(value)


def cpu_count() -> int:
    """The CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _maximum(path: tuple[str, ...]) -> Any:
    if path == ("index_workers",):
        return min(MAX_INDEX_WORKERS, cpu_count())
    return _MAXIMUM.get(path)


def redacted_url(url: Any) -> str:
    """``url`` fit to show or log: without user name and password, every query value replaced
    by ``***`` (a key or token is often passed there), no fragment."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(url or "").strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"                      # IPv6
        netloc = host + (f":{parts.port}" if parts.port is not None else "")
    except ValueError:
        return "(a URL that cannot be read)"
    query = []
    for item in parts.query.split("&") if parts.query else []:
        name, eq, _ = item.partition("=")   # a bare item may itself be a token: hidden too
        query.append(f"{name}=***" if eq and re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name) else "***")
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(query), ""))


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _coerce(value: Any, typ: Any, where: str) -> Any:
    if typ is int:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not math.isfinite(value)) or int(value) != value):
            raise ValueError(f"{where} must be a whole number, got {_show(value)}")
        return int(value)
    if typ is float:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value)):
            raise ValueError(f"{where} must be a number, got {_show(value)}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {_show(value)}")
        if len(value) > MAX_STRING:
            raise ValueError(f"{where} is longer than {MAX_STRING} characters")
        return value
    if typ == list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where} must be a list of strings, got {_show(value)}")
        if len(value) > MAX_LIST:
            raise ValueError(f"{where} has more than {MAX_LIST} items")
        if any(len(v) > MAX_STRING for v in value):
            raise ValueError(f"{where} has an item longer than {MAX_STRING} characters")
        return list(value)
    raise TypeError(typ)


def _check(path: tuple[str, ...], value: Any, where: str) -> None:
    """Rules beyond the type: choices, bounds, paths, names and URLs; raises ValueError."""
    choices = _CHOICES.get(path)
    if choices and value not in choices:
        raise ValueError(f"{where} must be one of {', '.join(choices)}, got {_show(value)}")
    minimum = _MINIMUM.get(path)
    if minimum is not None and value < minimum:
        raise ValueError(f"{where} must be at least {minimum}, got {_show(value)}")
    maximum = _maximum(path)
    if maximum is not None and value > maximum:
        why = " (the CPUs this machine has)" if path == ("index_workers",) else ""
        raise ValueError(f"{where} must be at most {maximum}{why}, got {_show(value)}")
    if path in _PATHS:
        for item in value if isinstance(value, list) else [value]:
            if "\x00" in item:
                raise ValueError(f"{where} must not contain a NUL character")
    if path == ("summary", "api_key_env") and value and not _ENV_NAME.fullmatch(value):
        raise ValueError(f"{where} must be the name of an environment variable, got {_show(value)}")
    if path == ("summary", "base_url") and value.strip():
        from urllib.parse import urlsplit
        try:
            parts = urlsplit(value.strip())
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
            parts.port          # noqa: B018 - raises ValueError on a bad port
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{where} must be an http:// or https:// URL, got "
                             f"{_show(redacted_url(value))}")


def _fill(obj: Any, data: dict[str, Any], path: tuple[str, ...], errors: list[str]) -> None:
    hints = get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for raw_key, value in data.items():
        name = _snake(str(raw_key))
        where = "paperlens." + ".".join(_camel(p) for p in path + (name,))
        if len(where) > 100:
            where = where[:100] + "…"
        if name not in names:
            errors.append(f"unknown setting {where}")
            continue
        if value is None:
            continue
        typ = hints[name]
        key = path + (name,)
        if dataclasses.is_dataclass(typ):
            if not isinstance(value, dict):
                errors.append(f"{where} must be an object, got {_show(value)}")
                continue
            _fill(getattr(obj, name), value, key, errors)
            continue
        try:
            if key in _SECRET and not isinstance(value, str):
                raise ValueError(f"{where} must be a string, got a {type(value).__name__}")
            coerced = _coerce(value, typ, where)
            _check(key, coerced, where)
        except ValueError as exc:
            errors.append(f"{exc}; using the default {getattr(obj, name)!r}")
            continue
        setattr(obj, name, coerced)


def settings_from_dict(data: Any) -> tuple[Settings, list[str]]:
    """Build settings from a client's ``paperlens`` object (camelCase or snake_case keys).

    Accepts the ``paperlens`` section itself or a dict that contains it under ``"paperlens"``.
    Returns the settings and a list of human-readable problems (empty when all is well).
    """
    settings, errors = Settings(), []
    if data is None:
        return settings, errors
    if not isinstance(data, dict):
        return settings, [f"paperlens settings must be an object, got {data!r}"]
    if isinstance(data.get("paperlens"), dict):
        data = data["paperlens"]
    # VS Code also sends dotted keys flattened ("summary.provider"): fold them into objects
    nested: dict[str, Any] = {}
    for key, value in data.items():
        parts = str(key).split(".")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            if isinstance(value, dict) and isinstance(target.get(parts[-1]), dict):
                target[parts[-1]].update(value)
            else:
                target[parts[-1]] = value
    # VS Code's own forms: "trace.server" is the trace level; "server.*" (the Python interpreter
    # that runs this server) is the client's business
    trace = nested.get("trace")
    if isinstance(trace, dict):
        nested["trace"] = trace.get("server")
    nested.pop("server", None)
    _fill(settings, nested, (), errors)
    if len(errors) > MAX_ERRORS:
        errors[MAX_ERRORS - 1:] = [f"and {len(errors) - MAX_ERRORS + 1} more problems in the "
                                   "paperlens settings"]
    return settings, errors


def default_index_root() -> Path:
    """Where indexes live when no index path is configured (a user-cache location)."""
    env = os.environ.get("PAPERLENS_INDEX_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("paperlens", appauthor=False)) / "indexes"


def summary_cache_dir(index_path: str | None = None) -> Path:
    """Where summaries are cached (beside the indexes), shared by the CLI and the server."""
    root = Path(index_path).expanduser() if index_path else default_index_root()
    return root / "summaries"


def index_dir_for(folder: str | os.PathLike[str], index_path: str | None = None) -> Path:
    """The index directory of one paper folder: ``<root>/<folder name>-<hash of its path>``.

    The CLI and the server both call this, so they share an index for the same folder.
    """
    folder = Path(folder).expanduser().resolve()
    root = Path(index_path).expanduser() if index_path else default_index_root()
    digest = hashlib.sha1(str(folder).encode("utf-8")).hexdigest()[:12]
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", folder.name) or "root"
    return root / f"{safe}-{digest}"
