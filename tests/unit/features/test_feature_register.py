"""lsp/features.register(server): every feature and feature command is registered with the server
(the server shell calls it once instead of registering each handler itself)."""
from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from paperlens.lsp import features
from paperlens.lsp.features import diagnostics
from paperlens.lsp.session import Session


def test_register_adds_every_feature_and_the_namespaced_commands():
    server = LanguageServer("t", "1")
    server.session = Session()
    try:
        registered = features.register(server)
        fm = server.protocol.fm
        for method in (types.TEXT_DOCUMENT_HOVER, types.TEXT_DOCUMENT_COMPLETION, types.COMPLETION_ITEM_RESOLVE,
                       types.TEXT_DOCUMENT_DEFINITION, types.TEXT_DOCUMENT_REFERENCES,
                       types.TEXT_DOCUMENT_CODE_LENS, types.TEXT_DOCUMENT_DOCUMENT_LINK,
                       types.TEXT_DOCUMENT_CODE_ACTION, types.WORKSPACE_SYMBOL,
                       types.TEXT_DOCUMENT_DID_OPEN, types.TEXT_DOCUMENT_DID_CHANGE,
                       types.TEXT_DOCUMENT_DID_CLOSE):
            assert method in fm.features, method
        assert fm.feature_options[types.TEXT_DOCUMENT_COMPLETION].resolve_provider
        assert set(features.COMMANDS) <= set(fm.commands)
        assert all(c.startswith("paperlens.server.") for c in features.COMMANDS)
        assert {"paperlens.server.search", "paperlens.server.papers",
                "paperlens.server.openPaperText"} <= set(fm.commands)
        assert isinstance(registered.publisher, diagnostics.Publisher)
        registered.close()
    finally:
        server.session.shutdown()
