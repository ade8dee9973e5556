"""config.py's schema is the single source of the settings: VS Code's contributes.configuration
and the README's table are generated from it (scripts/gen_settings.py) and must not drift; the
conversion follows the same schema, so every bound and choice shown is the one enforced."""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from paperlens.config import (MAX_STRING, ClientSettings, Settings, readme_table, settings,
                              settings_from_dict, vscode_configuration)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_JSON = ROOT / "client-vscode" / "package.json"
README = ROOT / "README.md"
CLIENT_README = ROOT / "client-vscode" / "README.md"
SERVER = [s for s in settings() if not s.key.startswith("server.")]


def _gen_settings():
    spec = importlib.util.spec_from_file_location("gen_settings", ROOT / "scripts" / "gen_settings.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nest(key: str, value) -> dict:
    *heads, last = key.split(".")
    data: dict = {last: value}
    for head in reversed(heads):
        data = {head: data}
    return data


def _value(obj, path):
    for name in path:
        obj = getattr(obj, name)
    return obj


def test_package_json_is_the_schema():
    configuration = json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["contributes"]["configuration"]
    assert configuration == vscode_configuration(), (
        "client-vscode/package.json drifted from server/paperlens/config.py: run "
        ".venv/bin/python scripts/gen_settings.py")


@pytest.mark.parametrize("readme, vscode", [(README, False), (CLIENT_README, True)],
                         ids=["README.md", "client-vscode/README.md"])
def test_readme_tables_are_the_schema(readme, vscode):
    gen = _gen_settings()
    text = readme.read_text(encoding="utf-8")
    begin, end = text.index(gen.README_BEGIN) + len(gen.README_BEGIN), text.index(gen.README_END)
    assert text[begin:end] == readme_table(vscode), (
        f"{readme.relative_to(ROOT)}'s settings table drifted from server/paperlens/config.py: "
        "run .venv/bin/python scripts/gen_settings.py")
    rows = [line for line in text[begin:end].splitlines() if line.startswith("| `paperlens.")]
    assert len(rows) == len([s for s in settings() if vscode or not s.rule.vscode_only])


def test_the_generator_finds_no_drift_and_repairs_one():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_settings.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    gen = _gen_settings()
    text = PACKAGE_JSON.read_text(encoding="utf-8")
    drifted = text.replace('"maximum": 500', '"maximum": 1000')       # the old disagreement
    assert drifted != text and gen.package_json(drifted) == text
    readme = README.read_text(encoding="utf-8")
    drifted = readme.replace("| `paperlens.completion.limit` | 50 |", "| `paperlens.completion.limit` | 20 |")
    assert drifted != readme and gen.readme(drifted) == readme


def test_every_setting_is_described_and_named_as_vscode_names_it():
    keys = [s.key for s in settings()]
    assert keys == ["paperFolders", "indexPath", "indexWorkers", "index.backend", "completion.limit",
                    "completion.embeddings",
                    "summary.provider", "summary.model", "summary.baseUrl", "summary.apiKeyEnv",
                    "summary.maxInputTokens", "summary.timeoutSeconds",
                    "diagnostics.unsupportedCitation", "zotero.enabled", "zotero.dataDir",
                    "zotero.collections", "trace.server",
                    "server.pythonPath"]
    for s in settings():
        assert s.rule.doc.strip() and "|" not in s.key, s.key
    # the README's table is for other editors: VS Code's own trace and interpreter are left out
    assert "trace.server" not in readme_table() and "pythonPath" not in readme_table()
    assert [f.name for f in dataclasses.fields(ClientSettings)] == ["python_path"]


@pytest.mark.parametrize("info", SERVER, ids=lambda s: s.key)
def test_every_default_as_vscode_sends_it_is_accepted(info):
    prop = vscode_configuration()["properties"]["paperlens." + info.key]
    got, errors = settings_from_dict({"paperlens": {info.key: prop["default"]}})
    assert errors == [] and got == Settings()


@pytest.mark.parametrize("info", [s for s in SERVER if s.rule.minimum is not None
                                  or s.rule.maximum is not None], ids=lambda s: s.key)
def test_the_bounds_shown_are_the_bounds_enforced(info):
    prop = vscode_configuration()["properties"]["paperlens." + info.key]
    step = 1 if prop["type"] == "integer" else 0.5
    for good in (prop["minimum"], min(prop["maximum"], prop["minimum"] + 1)):
        got, errors = settings_from_dict(_nest(info.key, good))
        assert errors == [] and _value(got, info.path) == good
    for bad in (prop["minimum"] - step, prop["maximum"] + step):
        got, errors = settings_from_dict(_nest(info.key, bad))
        assert _value(got, info.path) == info.default
        assert len(errors) == 1 and errors[0].startswith(f"paperlens.{info.key} must be at ")


@pytest.mark.parametrize("info", [s for s in SERVER if s.rule.choices], ids=lambda s: s.key)
def test_the_choices_shown_are_the_choices_accepted(info):
    for choice in vscode_configuration()["properties"]["paperlens." + info.key]["enum"]:
        got, errors = settings_from_dict(_nest(info.key, choice))
        assert errors == [] and _value(got, info.path) == choice
    got, errors = settings_from_dict(_nest(info.key, "none of these"))
    assert _value(got, info.path) == info.default and len(errors) == 1


def test_strings_are_stripped_and_blank_or_repeated_folders_dropped():
    # the VS Code extension trimmed these before sending them; other editors sent them as typed,
    # so " OPENAI_API_KEY" was refused and " papers" was another folder: the server does it now
    got, errors = settings_from_dict({"paperFolders": [" papers ", "", "  ", "papers", "notes"],
                                      "indexPath": " /tmp/ix\n", "summary": {
                                          "apiKeyEnv": " MY_KEY ", "baseUrl": " http://h:1/v1 ",
                                          "model": " m "}})
    assert errors == []
    assert got.paper_folders == ["papers", "notes"] and got.index_path == "/tmp/ix"
    assert got.summary.api_key_env == "MY_KEY" and got.summary.base_url == "http://h:1/v1"
    assert got.summary.model == "m"


def test_string_length_shown_is_enforced():
    assert vscode_configuration()["properties"]["paperlens.indexPath"]["maxLength"] == MAX_STRING
    got, errors = settings_from_dict({"indexPath": "x" * (MAX_STRING + 1)})
    assert got.index_path == "" and len(errors) == 1
    got, errors = settings_from_dict({"indexPath": "x" * MAX_STRING})
    assert got.index_path == "x" * MAX_STRING and errors == []


def test_vscode_forms_of_trace_and_the_client_only_section():
    for data in ({"trace": {"server": "verbose"}}, {"trace.server": "verbose"}, {"trace": "verbose"}):
        got, errors = settings_from_dict({"paperlens": data})
        assert errors == [] and got.trace == "verbose", data
    got, errors = settings_from_dict({"server": {"pythonPath": 5}, "trace": {"server": None}})
    assert errors == [] and got == Settings()
