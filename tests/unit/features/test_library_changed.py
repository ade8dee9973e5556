"""What the server prepares when the library changes (lsp/features/__init__.py): the word
rarity the evidence weighs words with is read in the background right away, not when the first
hover asks for it (the 10k bench's hovers, definitions and searches shared the CPU with
reading 200 papers' texts)."""
from __future__ import annotations

from paperlens.core.features import hover
from paperlens.lsp.features import Features
from paperlens.lsp.features._view import library_view

from feature_fixtures import FakeServer
from test_feature_hover import EVIDENCE_PAPER


class _Publisher:
    def refresh_all(self) -> None:
        pass


def test_the_word_rarity_is_read_when_the_library_changes(build):
    f = build(EVIDENCE_PAPER + """
        %! draft.md
        Sites exchange contents at random [@demers|epidemic].
        """)
    server = FakeServer(f)
    state = hover.library_state(library_view(server))
    hover._rarity.pop(state, None)
    Features(_Publisher(), server).library_changed()
    assert state in hover._rarity           # being read (None) or read already, before any hover
