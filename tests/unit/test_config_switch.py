"""A setting that is a switch (paperlens.diagnostics.unsupportedCitation): true or false only."""
from __future__ import annotations

from paperlens.config import readme_table, settings_from_dict, vscode_configuration


def test_a_switch_is_true_or_false():
    assert settings_from_dict({"diagnostics": {"unsupportedCitation": True}})[0].diagnostics.unsupported_citation is True
    settings, problems = settings_from_dict({"diagnostics.unsupportedCitation": "yes"})
    assert settings.diagnostics.unsupported_citation is False
    assert any("must be true or false" in p for p in problems)
    settings, problems = settings_from_dict({"diagnostics": {"unsupportedCitation": 1}})
    assert settings.diagnostics.unsupported_citation is False and problems


def test_a_switch_is_a_boolean_for_vscode_and_in_the_table():
    prop = vscode_configuration()["properties"]["paperlens.diagnostics.unsupportedCitation"]
    assert prop["type"] == "boolean" and prop["default"] is False
    assert "| `paperlens.diagnostics.unsupportedCitation` | `false` |" in readme_table()
