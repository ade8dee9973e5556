"""paperlens.index.backend (issue 19): whoosh or a PostgreSQL URL; a wrong value is a clear
message and the default; a password is never shown (config.redacted_backend is the one way a
backend URL is shown)."""
import pytest

from paperlens.config import Settings, redacted_backend, settings_from_dict, vscode_configuration

SECRET = "hunter2-secret"


def test_default_is_whoosh_and_a_postgresql_url_is_taken():
    assert Settings().index.backend == "whoosh"
    for url in (f"postgresql://lab:{SECRET}@db.example.org:5432/papers", "postgres://db/papers",
                "postgresql:///papers", "postgresql://h1:5432,h2:5433/papers?target_session_attrs=any"):
        got, errors = settings_from_dict({"paperlens": {"index": {"backend": f" {url} "}}})
        assert errors == [] and got.index.backend == url
    got, errors = settings_from_dict({"index.backend": "whoosh"})        # VS Code's dotted form
    assert errors == [] and got.index.backend == "whoosh"


@pytest.mark.parametrize("value", [f"mysql://root:{SECRET}@db/papers", f"{SECRET}", "postgresql://",
                                   "Whoosh ish", 5, ["postgresql://db/x"], "postgresql://db/x\x00"])
def test_a_wrong_backend_is_said_without_its_password_and_the_default_kept(value):
    got, errors = settings_from_dict({"index": {"backend": value}})
    assert got.index.backend == "whoosh"
    assert len(errors) == 1 and errors[0].startswith("paperlens.index.backend ")
    assert errors[0].endswith("using the default 'whoosh'")
    assert SECRET not in errors[0]


def test_redacted_backend_hides_user_password_and_query_values():
    url = f"postgresql://lab:{SECRET}@db.example.org:5432/papers?password={SECRET}&sslmode=require#x"
    shown = redacted_backend(url)
    assert shown == "postgresql://db.example.org:5432/papers?password=***&sslmode=***"
    assert redacted_backend(f"postgresql://u:p@ss{SECRET}@h1,h2:5433/db") == "postgresql://h1,h2:5433/db"
    assert redacted_backend("whoosh") == "whoosh" and redacted_backend("") == ""
    assert SECRET not in redacted_backend(f"host=db password={SECRET}")


def test_vscode_gets_a_machine_scoped_string():
    prop = vscode_configuration()["properties"]["paperlens.index.backend"]
    assert prop["type"] == "string" and prop["default"] == "whoosh" and prop["scope"] == "machine"
