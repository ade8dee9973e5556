"""``build(spec)``: an inline multi-file fixture indexed in process (see feature_fixtures.py)."""
from __future__ import annotations

import pytest

from feature_fixtures import load


@pytest.fixture
def build(tmp_path):
    made = []

    def make(spec: str, **options):
        fixture = load(tmp_path, spec, **options)
        made.append(fixture)
        return fixture

    yield make
    for fixture in made:
        fixture.close()
