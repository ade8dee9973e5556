"""Settings from an editor are untrusted: every wrong value is a message and the default, never
an exception, a process per unit of a huge number, or a secret in a message (issue 13)."""
from __future__ import annotations

import json
import math

import pytest

from paperlens.config import (MAX_ERRORS, Settings, cpu_count, redacted_url,
                              settings_from_dict)

DEFAULTS = Settings()
NUMBERS = {                       # every numeric setting: (section, camelCase key, attribute)
    "completion.limit": (("completion",), "limit"),
    "indexWorkers": ((), "index_workers"),
    "summary.maxInputTokens": (("summary",), "max_input_tokens"),
    "summary.timeoutSeconds": (("summary",), "timeout_seconds"),
}
STRINGS = {
    "indexPath": ((), "index_path"),
    "trace": ((), "trace"),
    "summary.provider": (("summary",), "provider"),
    "summary.model": (("summary",), "model"),
    "summary.baseUrl": (("summary",), "base_url"),
    "summary.apiKeyEnv": (("summary",), "api_key_env"),
}


def _nest(dotted: str, value) -> dict:
    *heads, last = dotted.split(".")
    data: dict = {last: value}
    for head in reversed(heads):
        data = {head: data}
    return data


def _value(settings: Settings, where: tuple[tuple[str, ...], str]):
    obj = settings
    for part in where[0]:
        obj = getattr(obj, part)
    return getattr(obj, where[1])


@pytest.mark.parametrize("name", sorted(NUMBERS))
@pytest.mark.parametrize("raw", ["1e999", "-1e999", "NaN", "1e300", "123456789012345678901234567890",
                                 "-5", '"3"', "[3]", '{"a": 1}', "true"])
def test_bad_numbers_are_reported_and_defaults_kept(name, raw):
    # the JSON an editor sends: 1e999 reads as infinity, NaN as nan (Python's json accepts both)
    value = json.loads(raw)
    settings, errors = settings_from_dict({"paperlens": _nest(name, value)})
    where = NUMBERS[name]
    assert _value(settings, where) == _value(DEFAULTS, where)
    assert len(errors) == 1 and errors[0].startswith(f"paperlens.{name} must be")
    assert errors[0].endswith(f"using the default {_value(DEFAULTS, where)!r}")
    assert len(errors[0]) < 200


@pytest.mark.parametrize("name", sorted(STRINGS))
@pytest.mark.parametrize("value", [5, 1.5, ["a"], {"a": "b"}, True, "x" * 100_000])
def test_bad_strings_are_reported_and_defaults_kept(name, value):
    if name == "trace" and isinstance(value, dict):
        value = {"server": value}         # VS Code's own form: {"server": level}
    settings, errors = settings_from_dict(_nest(name, value))
    where = STRINGS[name]
    assert _value(settings, where) == _value(DEFAULTS, where)
    assert len(errors) == 1 and errors[0].startswith(f"paperlens.{name} ")
    assert len(errors[0]) < 200


@pytest.mark.parametrize("value", [5, [1, 2], {"a": "b"}, ["ok", None], ["x" * 100_000],
                                   ["folder"] * 10_000, ["a\x00b"]])
def test_bad_paper_folders_are_reported_and_default_kept(value):
    settings, errors = settings_from_dict({"paperFolders": value})
    assert settings.paper_folders == []
    assert len(errors) == 1 and errors[0].startswith("paperlens.paperFolders ")
    assert len(errors[0]) < 200


def test_null_keeps_every_default_silently():
    data = {name: None for name in ("paperFolders", "indexPath", "indexWorkers", "trace")}
    data["completion"] = {"limit": None}
    data["summary"] = {k: None for k in ("provider", "model", "baseUrl", "apiKeyEnv",
                                         "maxInputTokens", "timeoutSeconds")}
    assert settings_from_dict(data) == (Settings(), [])


def test_objects_where_values_are_expected_and_values_where_objects_are():
    settings, errors = settings_from_dict({"completion": 5, "summary": ["openai"],
                                           "indexPath": {"nested": {"deep": [[[[["x"]]]]]}}})
    assert settings == Settings()
    assert len(errors) == 3 and all(len(e) < 200 for e in errors)


def test_a_nul_in_a_path_is_refused():
    # Path(...).resolve() raises ValueError on a NUL: the server would fail to configure itself
    settings, errors = settings_from_dict({"indexPath": "/tmp/a\x00b", "paperFolders": ["/x\x00"]})
    assert settings.index_path == "" and settings.paper_folders == []
    assert len(errors) == 2 and all("NUL" in e for e in errors)


def test_index_workers_are_capped_at_the_cpus():
    cpus = cpu_count()
    settings, errors = settings_from_dict({"indexWorkers": cpus})
    assert settings.index_workers == cpus and errors == []
    for too_many in (cpus + 1, 1000):
        settings, errors = settings_from_dict({"indexWorkers": too_many})
        assert settings.index_workers == 0                  # the default: one per core, at most 2
        assert errors == [f"paperlens.indexWorkers must be at most {min(cpus, 32)} (the CPUs this "
                          f"machine has), got {too_many}; using the default 0"]


def test_good_values_at_the_bounds_are_kept():
    settings, errors = settings_from_dict({"completion": {"limit": 500}, "summary": {
        "timeoutSeconds": 3600, "maxInputTokens": 2_000_000, "apiKeyEnv": "MY_KEY_2",
        "baseUrl": "https://example.org/v1"}})
    assert errors == []
    assert settings.completion.limit == 500 and settings.summary.timeout_seconds == 3600.0
    assert settings.summary.max_input_tokens == 2_000_000 and math.isfinite(
        settings.summary.timeout_seconds)


@pytest.mark.parametrize("value", ["file:///etc/passwd", "localhost:11434/v1", "http://",
                                   "ftp://user:PASSWORD123@h/v1", "http://h:99999/v1"])
def test_base_url_must_be_http_and_is_never_shown_with_its_secrets(value):
    settings, errors = settings_from_dict({"summary": {"baseUrl": value}})
    assert settings.summary.base_url == ""
    assert len(errors) == 1 and "must be an http:// or https:// URL" in errors[0]
    assert "PASSWORD123" not in errors[0]


def test_a_secret_in_a_wrongly_typed_base_url_is_not_shown():
    _, errors = settings_from_dict({"summary": {"baseUrl": ["http://alice:PASSWORD123@h/v1"]}})
    assert len(errors) == 1 and "PASSWORD123" not in errors[0]


def test_api_key_env_must_name_a_variable():
    settings, errors = settings_from_dict({"summary": {"apiKeyEnv": "A=B; rm"}})
    assert settings.summary.api_key_env == "OPENAI_API_KEY"
    assert len(errors) == 1 and "environment variable" in errors[0]


def test_problems_listed_are_capped():
    _, errors = settings_from_dict({f"unknown{i}": 1 for i in range(5000)})
    assert len(errors) == MAX_ERRORS
    assert errors[-1] == f"and {5000 - MAX_ERRORS + 1} more problems in the paperlens settings"


def test_redacted_url_drops_user_info_and_query_values():
    url = "http://alice:PASSWORD123@127.0.0.1:8080/v1?api-key=QUERYSECRET&sk-RAWSECRET#frag"
    shown = redacted_url(url)
    assert shown == "http://127.0.0.1:8080/v1?api-key=***&***"
    shown = redacted_url("http://u:p@[::1]:9/v1?token=T0KEN&" + "k" * 60 + "=v")
    assert shown == "http://[::1]:9/v1?token=***&***"
    assert redacted_url("https://api.openai.com/v1") == "https://api.openai.com/v1"
    assert redacted_url("") == "" and redacted_url(None) == ""
    assert "SECRET" not in redacted_url("http://h:notaport@x/?a=SECRET")
