"""The cheaper steps of the plain-query ranking (queries.py) give what the plain ones gave."""
from pathlib import Path
from types import SimpleNamespace

from paperlens.core.index.whoosh import queries


def test_hit_path_is_the_folder_joined_with_the_stored_path(tmp_path):
    for folder in (tmp_path, tmp_path / "lib", Path("/")):
        r = SimpleNamespace(folder=folder)
        for rel in ("a.txt", "sub/dir/b.pdf", "x y/ü.bib", "./c.txt", "d//e.txt", "f/", "../g.txt", ""):
            assert queries._path(r, rel) == str(folder / rel), (folder, rel)

