"""The paperlens settings: one typed tree, declared once, the single source.

Each setting is declared below with its type, default, rules and documentation. From this schema:

- the server converts what an editor sends (``settings_from_dict``, with cattrs): an unknown,
  ill-typed or out-of-range value is a clear message and the default, so a typo never stops it;
- ``scripts/gen_settings.py`` writes the VS Code extension's ``contributes.configuration``
  (client-vscode/package.json) and the README's settings table, and
  tests/unit/test_config_schema.py fails when either drifts from the schema;
- the extension validates against that generated package.json: it declares no tree of its own.

Names: VS Code's ``paperlens.paperFolders`` is ``Settings.paper_folders``,
``paperlens.summary.baseUrl`` is ``Settings.summary.base_url``, and so on (snake_case keys are
accepted too). Two exceptions: VS Code's ``paperlens.trace.server`` is ``Settings.trace``, and
``paperlens.server.*`` (``ClientSettings``: how the extension starts the server) is the
extension's business, ignored by the server.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import os
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, get_type_hints

MAX_INDEX_WORKERS = 32        # and never more than the CPUs this process may run on
MAX_STRING = 4096             # characters in one string setting (a path, a URL, a model name)
MAX_LIST = 256                # paper folders
MAX_ERRORS = 20               # problems listed; the rest are counted
_RULE = "paperlens"           # the key of a field's Rule in its metadata
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

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


BACKEND_SCHEMES = ("postgresql://", "postgres://")


def redacted_backend(value: Any) -> str:
    """The index backend ``value`` (``whoosh`` or a PostgreSQL URL) fit to show or log: a URL
    without its user name and password (``user:password@`` of every host), every query value
    replaced by ``***`` (``?password=...`` is allowed there), no fragment. The one way a backend
    URL is shown: settings messages, the status, the command line, the server's log."""
    text = str(value or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text if text.lower() == "whoosh" or not text else "(not a PostgreSQL URL)"
    end = min([i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0] or [len(rest)])
    hosts, tail = rest[:end], rest[end:]
    hosts = hosts.rpartition("@")[2]                 # user:password@ (a password may hold '@')
    tail = tail.partition("#")[0]
    path, q, query = tail.partition("?")
    shown = []
    for item in query.split("&") if q and query else []:
        name, eq, _ = item.partition("=")
        shown.append(f"{name}=***" if eq and re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", name) else "***")
    return f"{scheme}://{hosts}{path}" + ("?" + "&".join(shown) if shown else "")


# -- rules beyond the type: each returns the problem with a value, or None ----------------------

def _within_cpus(value: int) -> str | None:
    # a huge value would start a process per unit
    most = min(MAX_INDEX_WORKERS, cpu_count())
    if value > most:
        return f"must be at most {most} (the CPUs this machine has), got {_show(value)}"
    return None


def _no_nul(value: str | list[str]) -> str | None:
    # Path(...).resolve() raises ValueError on a NUL: the server could not configure itself
    if any("\x00" in item for item in (value if isinstance(value, list) else [value])):
        return "must not contain a NUL character"
    return None


def _env_name(value: str) -> str | None:
    if value and not _ENV_NAME.fullmatch(value):
        return f"must be the name of an environment variable, got {_show(value)}"
    return None


def _http_url(value: str) -> str | None:
    if not value:
        return None
    from urllib.parse import urlsplit
    try:
        parts = urlsplit(value)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        parts.port          # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        ok = False
    if ok:
        return None
    return f"must be an http:// or https:// URL, got {_show(redacted_url(value))}"


def _backend(value: str) -> str | None:
    if value == "whoosh" or value.lower().startswith(BACKEND_SCHEMES):
        if "\x00" in value:
            return "must not contain a NUL character"
        if value != "whoosh" and not value.partition("://")[2].strip("/"):
            return "must name a PostgreSQL server: postgresql://[user@]host[:port]/database"
        return None
    return (f"must be whoosh or a postgresql:// URL (postgresql://[user@]host[:port]/database), "
            f"got {_show(redacted_backend(value))}")


# -- the schema ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """What one setting is, beyond its Python type and default."""
    doc: str                                     # Markdown: VS Code's Settings editor, the README
    minimum: float | None = None
    maximum: float | None = None                 # upper bounds: a huge value would start a process
    # per unit, send a million-token prompt, or overflow a socket timeout (1e999 in JSON is inf)
    choices: tuple[tuple[str, str], ...] = ()    # (value, what it means)
    check: Callable[[Any], str | None] | None = None
    secret: bool = False                         # the value is never shown: it may carry credentials
    unique: bool = False                         # a list whose repeated items are dropped
    scope: str | None = None                     # VS Code's scope: machine, window, ...
    shown_default: str | None = None             # the README's default when the value says little
    vscode_name: str | None = None               # VS Code's key, when not the camelCase of the path
    vscode_only: bool = False                    # not in the README's table (for other editors)


def setting(default: Any, doc: str, **rules: Any) -> Any:
    """A field of the tree: its default, its documentation and its rules (see ``Rule``)."""
    rule = Rule(doc=doc, **rules)
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={_RULE: rule})
    return field(default=default, metadata={_RULE: rule})


@dataclass
class CompletionSettings:
    limit: int = setting(
        50, "Most citation keys offered by completion after `\\cite{`, `[@`, `@`, `[cite:@` (the "
        "list is marked incomplete and refined as you type).", minimum=1, maximum=500)
    embeddings: bool = setting(
        False, "Also rank the keys offered for the sentence being written with a small word "
        "embedding model of the paper titles (wordllama, offline; installed with `pip install "
        "paperlens[embed]`, else this does nothing). It is loaded in the background after the "
        "first completion (about 50 MB of memory, a few ms per ranking at 10k papers); until "
        "then completion ranks without it. Off by default: on the development theses it raises "
        "recall@10 only from 0.468 to 0.480.")


@dataclass
class SummarySettings:
    provider: str = setting(
        "extractive", "How paper summaries are made.", choices=(
            ("extractive", "Summaries from the paper's own sentences (offline, no key needed)."),
            ("openai", "Summaries written by an OpenAI-compatible chat API "
                       "(`paperlens.summary.model`, `baseUrl`, `apiKeyEnv`).")))
    model: str = setting("gpt-4o-mini", "Model name for the `openai` summary provider.")
    base_url: str = setting(
        "", "Base URL of an OpenAI-compatible API, for example a local server "
        "(`http://localhost:11434/v1`). Empty: the provider's default (OpenAI). A `user:password@` "
        "in it is sent as Basic authorization, its `?query` as the query; neither is logged.",
        check=_http_url, secret=True, scope="machine", shown_default="(OpenAI)")
    api_key_env: str = setting(
        "OPENAI_API_KEY", "Name of the environment variable (of the server process) that holds "
        "the API key; not needed with a local `baseUrl`. The key itself is never stored in "
        "settings.", check=_env_name, scope="machine")
    max_input_tokens: int = setting(
        6000, "Most tokens of paper text sent to the summary model (the prompt's budget).",
        minimum=256, maximum=2_000_000)
    timeout_seconds: float = setting(
        30.0, "Seconds a whole request to the summary model may take, from the first byte sent "
        "to the last received.", minimum=1, maximum=3600)


@dataclass
class DiagnosticsSettings:
    unsupported_citation: bool = setting(
        False, "Hint (Information) at a citation when the cited paper matches the sentence "
        "around it poorly, alone or against the library papers that match it best (offline: the "
        "paper's words against the sentence's and against the best 10 search hits' papers, "
        "calibrated on real citations; about 1 in 10 right citations is flagged too). Computed "
        "in the background (~150 ms a citation at 10k papers); its code actions show the best "
        "passages and offer the library papers that match the sentence better.")


@dataclass
class ZoteroSettings:
    enabled: bool = setting(
        True, "Read your Zotero library, live, beside the paper folders: its items are citable, "
        "searchable (with their PDFs' text) and stay current while Zotero runs. The library read "
        "is `paperlens.zotero.dataDir`, else Zotero's default data folder when it exists (the one "
        "chosen in Zotero's preferences, else `~/Zotero`); the status says which. Nothing is "
        "ever written to Zotero's files. `false`: never read Zotero.")
    data_dir: str = setting(
        "", "Zotero's data folder (the one holding `zotero.sqlite` and `storage/`). Empty: "
        "Zotero's default data folder, when it exists.", check=_no_nul, scope="machine",
        shown_default="Zotero's default")
    collections: list[str] = setting(
        [], "Read only these Zotero collections (with their subcollections), by name, path "
        "(`Retrieval/Classics`) or key. Empty: the whole library (the trash aside).",
        check=_no_nul, unique=True, shown_default="the whole library")


@dataclass
class IndexSettings:
    backend: str = setting(
        "whoosh", "Where the paper folders' indexes are kept. `whoosh`: index files on this "
        "machine (in `paperlens.indexPath`). A `postgresql://[user@]host[:port]/database` URL: a "
        "library shared by a team in a PostgreSQL server (one writer at a time, any number of "
        "readers; point editors at a read replica, `paperlens index --backend URL` at the "
        "primary). The password comes from the `PGPASSWORD` environment variable or "
        "`~/.pgpass`; one written in the URL works too, but is never shown or logged.",
        check=_backend, secret=True, scope="machine")


@dataclass
class Settings:
    paper_folders: list[str] = setting(
        [], "Folders to index (a `.bib` export, paper texts `.txt`/`.md`, notes). Relative "
        "folders are taken from the first workspace folder; `~` is your home. Empty: the "
        "workspace folders.", check=_no_nul, unique=True, shown_default="the workspace folders")
    index_path: str = setting(
        "", "Where the indexes are kept. Empty: the user cache directory "
        "(`~/.cache/paperlens/indexes/`, or the `PAPERLENS_INDEX_DIR` environment variable). The "
        "command line (`paperlens search`) shares the same indexes.",
        check=_no_nul, shown_default="user cache directory")
    index_workers: int = setting(
        0, "Processes that parse paper files when many are indexed at once (a first index, a "
        "rebuild); at most the CPUs of the machine. `0`: one per core, at most 2.", minimum=0, maximum=MAX_INDEX_WORKERS, check=_within_cpus)
    index: IndexSettings = field(default_factory=IndexSettings)
    completion: CompletionSettings = field(default_factory=CompletionSettings)
    summary: SummarySettings = field(default_factory=SummarySettings)
    diagnostics: DiagnosticsSettings = field(default_factory=DiagnosticsSettings)
    zotero: ZoteroSettings = field(default_factory=ZoteroSettings)
    trace: str = setting(
        "off", "Traces the communication between VS Code and the paperlens server in the "
        "**paperlens** output channel.", choices=(
            ("off", "No protocol trace."),
            ("messages", "Trace requests and notifications (names)."),
            ("verbose", "Trace messages with their content.")),
        scope="window", vscode_name="trace.server", vscode_only=True)


@dataclass
class ClientSettings:
    """``paperlens.server.*``: how the VS Code extension starts the server (never sent to it)."""
    python_path: str = setting(
        "", "Python that runs the server (`<python> -m paperlens serve`); it must have the "
        "`paperlens` package installed (`pip install paperlens`). Empty: the interpreter selected "
        "in the Python extension when it is installed, else `python3`. `~`, "
        "`${workspaceFolder}`, `${userHome}` and `${env:NAME}` are expanded; a relative path is "
        "taken from the first workspace folder.", scope="machine-overridable", vscode_only=True)


@dataclass(frozen=True)
class SettingInfo:
    """One leaf of the tree, as ``settings()`` lists it."""
    key: str                       # VS Code's key without "paperlens.": "summary.baseUrl"
    path: tuple[str, ...]          # attribute names from the root: ("summary", "base_url")
    type: Any
    default: Any
    rule: Rule


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _leaves(cls: type, path: tuple[str, ...] = ()) -> Iterator[SettingInfo]:
    hints = get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        typ = hints[f.name]
        if dataclasses.is_dataclass(typ):
            yield from _leaves(typ, path + (f.name,))
            continue
        rule = f.metadata[_RULE]
        key = rule.vscode_name or ".".join(_camel(p) for p in path + (f.name,))
        yield SettingInfo(key, path + (f.name,), typ, getattr(defaults, f.name), rule)


def settings() -> list[SettingInfo]:
    """Every setting an editor can set, in the order they are shown: the server's tree, then
    the VS Code extension's own ``server.*``."""
    client = [dataclasses.replace(s, key="server." + s.key) for s in _leaves(ClientSettings)]
    return list(_leaves(Settings)) + client


# -- conversion: what an editor sends -> Settings -------------------------------------------------

class SettingError(ValueError):
    """A value that breaks its setting's rules (the message names no setting: the caller does)."""


def _coerce(value: Any, typ: Any, rule: Rule) -> Any:
    """``value`` as ``typ`` (strings stripped), or SettingError."""
    if rule.secret and not isinstance(value, str):
        raise SettingError(f"must be a string, got a {type(value).__name__}")
    if typ is bool:
        if not isinstance(value, bool):
            raise SettingError(f"must be true or false, got {_show(value)}")
        return value
    if typ is int:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or (isinstance(value, float) and not math.isfinite(value)) or int(value) != value):
            raise SettingError(f"must be a whole number, got {_show(value)}")
        return int(value)
    if typ is float:
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value)):
            raise SettingError(f"must be a number, got {_show(value)}")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise SettingError(f"must be a string, got {_show(value)}")
        if len(value) > MAX_STRING:
            raise SettingError(f"is longer than {MAX_STRING} characters")
        return value.strip()
    if typ == list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingError(f"must be a list of strings, got {_show(value)}")
        if len(value) > MAX_LIST:
            raise SettingError(f"has more than {MAX_LIST} items")
        if any(len(v) > MAX_STRING for v in value):
            raise SettingError(f"has an item longer than {MAX_STRING} characters")
        items = [v.strip() for v in value if v.strip()]
        return list(dict.fromkeys(items)) if rule.unique else items
    raise TypeError(typ)


def _bounds(value: Any, rule: Rule) -> str | None:
    if rule.choices and value not in (c for c, _ in rule.choices):
        return f"must be one of {', '.join(c for c, _ in rule.choices)}, got {_show(value)}"
    if rule.minimum is not None and value < rule.minimum:
        return f"must be at least {rule.minimum}, got {_show(value)}"
    if rule.maximum is not None and value > rule.maximum:
        return f"must be at most {rule.maximum}, got {_show(value)}"
    return None


def _leaf_hook(typ: Any, rule: Rule) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _type: Any) -> Any:
        value = _coerce(value, typ, rule)
        problem = (rule.check and rule.check(value)) or _bounds(value, rule)
        if problem:
            raise SettingError(problem)
        return value
    return structure


@functools.cache
def _converter() -> Any:
    """A cattrs converter for the tree: camelCase keys, unknown keys refused, every problem
    collected (detailed validation) with the attribute it belongs to."""
    import cattrs
    from cattrs.gen import make_dict_structure_fn, override

    converter = cattrs.Converter(detailed_validation=True)

    def for_class(cls: type) -> Callable[[Any, Any], Any]:
        hints = get_type_hints(cls)
        overrides = {}
        for f in dataclasses.fields(cls):
            rule = f.metadata.get(_RULE)
            hook = _leaf_hook(hints[f.name], rule) if rule else None
            overrides[f.name] = override(rename=_camel(f.name), struct_hook=hook)
        structure_dict = make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True,
                                                **overrides)

        def structure(value: Any, _type: Any) -> Any:
            if not isinstance(value, dict):
                raise SettingError(f"must be an object, got {_show(value)}")
            return structure_dict(value, cls)
        return structure

    converter.register_structure_hook_factory(dataclasses.is_dataclass, for_class)
    return converter


def _problems(exc: BaseException, path: tuple[str, ...]
              ) -> Iterator[tuple[tuple[str, ...], BaseException | None]]:
    """(path of camelCase keys, the problem; None: an unknown key) of each failure in a cattrs
    error, which groups them class by class, noting the attribute each belongs to."""
    from cattrs.errors import (AttributeValidationNote, BaseValidationError,
                               ForbiddenExtraKeysError)

    if isinstance(exc, ForbiddenExtraKeysError):
        for name in sorted(exc.extra_fields):
            yield path + (name,), None
    elif isinstance(exc, BaseValidationError):
        for sub in exc.exceptions:
            names = [_camel(n.name) for n in getattr(sub, "__notes__", ())
                     if isinstance(n, AttributeValidationNote)]
            yield from _problems(sub, path + tuple(names))
    else:
        yield path, exc


def _where(path: tuple[str, ...]) -> str:
    where = "paperlens." + ".".join(path)
    return where[:100] + "…" if len(where) > 100 else where


def _default_at(path: tuple[str, ...]) -> Any:
    obj: Any = Settings()
    for name in path:
        obj = getattr(obj, _snake(name), None)
    return obj


def _normalised(data: dict[str, Any], cls: type) -> dict[str, Any]:
    """``data`` with camelCase keys (snake_case accepted), VS Code's flattened dotted keys
    ("summary.provider") folded into objects, and nulls dropped (a null keeps the default)."""
    nested: dict[str, Any] = {}
    for raw_key, value in data.items():
        *heads, last = [_camel(_snake(part)) for part in str(raw_key).split(".")]
        target = nested
        for head in heads:
            target = target.setdefault(head, {})
            if not isinstance(target, dict):
                break
        else:
            if isinstance(value, dict) and isinstance(target.get(last), dict):
                target[last].update(value)
            else:
                target[last] = value
    hints = {_camel(f.name): get_type_hints(cls)[f.name] for f in dataclasses.fields(cls)}
    out = {}
    for key, value in nested.items():
        if value is None:
            continue
        typ = hints.get(key)
        if isinstance(value, dict) and typ is not None and dataclasses.is_dataclass(typ):
            value = _normalised(value, typ)
        out[key] = value
    return out


def _drop(data: dict[str, Any], path: tuple[str, ...]) -> None:
    for name in path[:-1]:
        data = data.get(name)
        if not isinstance(data, dict):
            return
    data.pop(path[-1], None)


def settings_from_dict(data: Any) -> tuple[Settings, list[str]]:
    """Build settings from a client's ``paperlens`` object (camelCase or snake_case keys).

    Accepts the ``paperlens`` section itself or a dict that contains it under ``"paperlens"``.
    Returns the settings and a list of human-readable problems (empty when all is well); each
    wrong value is left out, so its default is kept.
    """
    if data is None:
        return Settings(), []
    if not isinstance(data, dict):
        return Settings(), [f"paperlens settings must be an object, got {_show(data)}"]
    if isinstance(data.get("paperlens"), dict):
        data = data["paperlens"]
    # VS Code's own forms: "trace.server" is the trace level; "server.*" (the Python interpreter
    # that runs this server) is the client's business
    tree = _normalised(data, Settings)
    if isinstance(tree.get("trace"), dict):
        tree["trace"] = tree["trace"].get("server")
        if tree["trace"] is None:
            del tree["trace"]
    tree.pop("server", None)
    errors: list[str] = []
    converter = _converter()
    for _attempt in range(3):       # the second pass, without the wrong values, succeeds
        try:
            return converter.structure(tree, Settings), _capped(errors)
        except Exception as exc:                                      # noqa: BLE001
            for path, problem in _problems(exc, ()):
                if problem is None:
                    errors.append(f"unknown setting {_where(path)}")
                elif dataclasses.is_dataclass(_default_at(path)):
                    errors.append(f"{_where(path)} {_reason(problem)}; using the defaults")
                else:
                    errors.append(f"{_where(path)} {_reason(problem)}; using the default "
                                  f"{_default_at(path)!r}")
                if path:
                    _drop(tree, path)
                else:
                    tree.clear()
    errors.append("the paperlens settings cannot be read; using the defaults")
    return Settings(), _capped(errors)


def _reason(problem: BaseException) -> str:
    if isinstance(problem, SettingError):
        return str(problem)
    return f"cannot be read ({type(problem).__name__})"


def _capped(errors: list[str]) -> list[str]:
    if len(errors) > MAX_ERRORS:
        errors[MAX_ERRORS - 1:] = [f"and {len(errors) - MAX_ERRORS + 1} more problems in the "
                                   "paperlens settings"]
    return errors


# -- the schema, shown: VS Code's contributes.configuration and the README's table ---------------

def _json_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def vscode_configuration() -> dict[str, Any]:
    """The ``contributes.configuration`` of client-vscode/package.json (scripts/gen_settings.py
    writes it there)."""
    properties: dict[str, Any] = {}
    for order, s in enumerate(settings()):
        rule = s.rule
        prop: dict[str, Any] = {"type": {bool: "boolean", int: "integer", float: "number",
                                         str: "string"}.get(s.type, "array")}
        if s.type == list[str]:
            prop["items"] = {"type": "string", "maxLength": MAX_STRING}
            prop["maxItems"] = MAX_LIST
        elif s.type is str and not rule.choices:
            prop["maxLength"] = MAX_STRING
        if rule.choices:
            prop["enum"] = [value for value, _ in rule.choices]
        if rule.minimum is not None:
            prop["minimum"] = _json_number(rule.minimum)
        if rule.maximum is not None:
            prop["maximum"] = _json_number(rule.maximum)
        prop["default"] = _json_number(s.default)
        if rule.unique:
            prop["uniqueItems"] = True
        if rule.scope:
            prop["scope"] = rule.scope
        if rule.choices:
            prop["enumDescriptions"] = [meaning for _, meaning in rule.choices]
        prop["markdownDescription"] = rule.doc
        prop["order"] = order
        properties["paperlens." + s.key] = prop
    return {"title": "paperlens", "properties": properties}


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f"`{value}`" if value else "(empty)"
    if isinstance(value, list):
        return ", ".join(f"`{v}`" for v in value) or "(none)"
    return str(_json_number(value))


def readme_table(vscode: bool = False) -> str:
    """The Markdown table of the settings: those an editor other than VS Code may send (the
    README's), or with ``vscode`` every VS Code setting (client-vscode/README.md's).
    scripts/gen_settings.py writes it between the ``settings table`` marks."""
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for s in settings():
        rule = s.rule
        if rule.vscode_only and not vscode:
            continue
        meaning = rule.doc
        if rule.minimum is not None or rule.maximum is not None:
            low = "" if rule.minimum is None else f"from {_shown(rule.minimum)} "
            high = "" if rule.maximum is None else f"to {_shown(rule.maximum)}"
            meaning += f" {'A whole number' if s.type is int else 'A number'} {low}{high}."
        for value, what in rule.choices:
            meaning += f" `{value}`: {what}"
        default = rule.shown_default or _shown(s.default)
        cells = [f"`paperlens.{s.key}`", default, meaning]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"


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
