"""One typed settings tree. The VS Code settings (``paperlens.*``) map onto it one to one:
``paperlens.paperFolders`` -> ``Settings.paper_folders``, ``paperlens.summary.baseUrl`` ->
``Settings.summary.base_url`` and so on. Unknown or ill-typed values are reported and the default
is kept, so a typo never stops the server.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
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


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _coerce(value: Any, typ: Any, where: str) -> Any:
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
            raise ValueError(f"{where} must be a whole number, got {value!r}")
        return int(value)
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{where} must be a number, got {value!r}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ValueError(f"{where} must be a string, got {value!r}")
        return value
    if typ == list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{where} must be a list of strings, got {value!r}")
        return list(value)
    raise TypeError(typ)


def _fill(obj: Any, data: dict[str, Any], path: tuple[str, ...], errors: list[str]) -> None:
    hints = get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}
    for raw_key, value in data.items():
        name = _snake(raw_key)
        where = "paperlens." + ".".join(_camel(p) for p in path + (name,))
        if name not in names:
            errors.append(f"unknown setting {where}")
            continue
        if value is None:
            continue
        typ = hints[name]
        if dataclasses.is_dataclass(typ):
            if not isinstance(value, dict):
                errors.append(f"{where} must be an object, got {value!r}")
                continue
            _fill(getattr(obj, name), value, path + (name,), errors)
            continue
        try:
            coerced = _coerce(value, typ, where)
        except ValueError as exc:
            errors.append(f"{exc}; using the default {getattr(obj, name)!r}")
            continue
        choices = _CHOICES.get(path + (name,))
        if choices and coerced not in choices:
            errors.append(f"{where} must be one of {', '.join(choices)}, got {coerced!r}; "
                          f"using the default {getattr(obj, name)!r}")
            continue
        minimum = _MINIMUM.get(path + (name,))
        if minimum is not None and coerced < minimum:
            errors.append(f"{where} must be at least {minimum}, got {coerced!r}; "
                          f"using the default {getattr(obj, name)!r}")
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
