"""The one settings tree: camelCase from editors, clear errors, defaults kept."""
from paperlens.config import settings_from_dict


def test_vscode_settings_map_onto_the_tree():
    s, errors = settings_from_dict({"paperlens": {
        "paperFolders": ["papers"], "indexPath": "/tmp/ix", "completion": {"limit": 20},
        "summary.provider": "openai", "summary": {"baseUrl": "http://localhost:11434/v1"},
        "trace": {"server": "verbose"}, "server": {"pythonPath": "/usr/bin/python3"}}})
    assert errors == []
    assert s.paper_folders == ["papers"] and s.index_path == "/tmp/ix" and s.completion.limit == 20
    assert s.summary.provider == "openai" and s.summary.base_url == "http://localhost:11434/v1"
    assert s.trace == "verbose"


def test_bad_values_are_reported_and_defaults_kept():
    s, errors = settings_from_dict({"completion": {"limit": "many"}, "summary": {"provider": "gpt"},
                                    "paperFoldrs": ["x"], "indexWorkers": -1})
    assert s.completion.limit == 50 and s.summary.provider == "extractive" and s.index_workers == 0
    assert "paperlens.completion.limit must be a whole number, got 'many'; using the default 50" in errors
    assert any(e.startswith("paperlens.summary.provider must be one of extractive, openai") for e in errors)
    assert "unknown setting paperlens.paperFoldrs" in errors
    assert any("paperlens.indexWorkers must be at least 0" in e for e in errors)
