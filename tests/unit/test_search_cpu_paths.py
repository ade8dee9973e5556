"""The cheaper steps of the plain-query ranking (queries.py) give what the plain ones gave."""
from pathlib import Path
from types import SimpleNamespace

from paperlens.core.index.whoosh import queries


def test_hit_path_is_the_folder_joined_with_the_stored_path(tmp_path):
    for folder in (tmp_path, tmp_path / "lib", Path("/")):
        r = SimpleNamespace(folder=folder)
        for rel in ("a.txt", "sub/dir/b.pdf", "x y/ü.bib", "./c.txt", "d//e.txt", "f/", "../g.txt", ""):
            assert queries._path(r, rel) == str(folder / rel), (folder, rel)



def test_largest_is_heapq_nlargest_ties_included():
    import heapq
    import random

    rnd = random.Random(3)
    for size in (0, 1, 5, 199, 200, 201, 3000, 7000):
        scores = {rnd.randrange(10**6): float(rnd.randrange(40)) for _ in range(size)}   # many ties
        for n in (1, 10, 200):
            assert queries._largest(scores, n) == heapq.nlargest(n, scores, key=scores.get)
    # distinct scores; and every 4th high, the rest low: the guess from every 4th is above the
    # 200th score (the exact way then)
    distinct = {d: rnd.random() for d in rnd.sample(range(10**6), 7000)}
    skewed = {d: (100.0 + rnd.random() if i % 4 == 0 else rnd.random()) for i, d in enumerate(distinct)}
    for scores in (distinct, skewed):
        for n in (10, 200, 800):
            assert queries._largest(scores, n) == heapq.nlargest(n, scores, key=scores.get)
