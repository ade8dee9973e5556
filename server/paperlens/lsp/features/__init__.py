"""The protocol side of paperlens' features: one thin adapter per feature (LSP params -> document
snapshot and offset -> ``paperlens.core.features`` -> lsprotocol result), and :func:`register`,
which hands them all to the server."""
from __future__ import annotations

COMMAND_SEARCH = "paperlens.server.search"
COMMAND_PAPERS = "paperlens.server.papers"
COMMAND_OPEN_PAPER_TEXT = "paperlens.server.openPaperText"
COMMAND_CITATION_INSERT = "paperlens.server.citationInsert"
COMMAND_CITE_HERE = "paperlens.server.citeHere"
COMMAND_SHOW_PASSAGE = "paperlens.server.showPassage"
COMMAND_CHECK_CITATION = "paperlens.server.checkCitation"
# the commands register() adds (the server adds its own: reindex, status)
COMMANDS = [COMMAND_SEARCH, COMMAND_PAPERS, COMMAND_OPEN_PAPER_TEXT, COMMAND_CITATION_INSERT,
            COMMAND_CITE_HERE, COMMAND_SHOW_PASSAGE, COMMAND_CHECK_CITATION]


class Features:
    """What :func:`register` set up that the server drives: the diagnostics publisher."""

    def __init__(self, publisher, server=None) -> None:
        self.publisher = publisher
        self.server = server

    def library_changed(self) -> None:
        """The library changed (an index update ended): republish every open document's
        diagnostics and the .bib files' duplicate keys; index the papers' titles for completion
        by context (core/recommend.py) and read the words' rarity for evidence (hover.rarity)
        on background threads."""
        self.publisher.refresh_all()
        try:
            from paperlens.core import recommend
            recommend.title_index(self.server.session.library.rows(), wait=False)
        except Exception:          # no server (tests), no library yet: the first request does it
            pass
        try:
            # the word rarity the evidence beneath a card weighs words with: read now, in the
            # background, not when the first hover asks for it (the 10k bench's hovers and the
            # requests after them shared the CPU with reading 200 papers)
            from paperlens.core.features import hover
            from paperlens.lsp.features._view import library_view
            hover.rarity(library_view(self.server))
        except Exception:
            pass

    def close(self) -> None:
        """At shutdown: stop the diagnostics worker."""
        self.publisher.close()


def register(server) -> Features:
    """Register every feature of paperlens with the pygls ``server``: hover, completion (and
    resolve), definition, references, code lens, document links, code actions (unknown-key
    fixes, "cite a paper for this sentence"), workspace symbols, the diagnostics of open documents (didOpen/didChange/didClose
    feed the publisher), and the commands in :data:`COMMANDS`.

    The server calls ``features.library_changed()`` once the library has settled (no update
    running or queued, no change waiting: after a stream of changes, once) and
    ``features.close()`` at shutdown."""
    from lsprotocol import types

    from paperlens.lsp.features import (citation_check, cite_here, citing, completion, definition,
                                        diagnostics, evidence, hover, links, symbols, usages)

    publisher = diagnostics.Publisher(server)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def on_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        publisher.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def on_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        publisher.changed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def on_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        publisher.closed(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, cite_here.KIND]))
    def on_code_action(ls, params: types.CodeActionParams) -> list[types.CodeAction]:
        return diagnostics.code_actions(ls, params) + cite_here.code_actions(ls, params)

    server.feature(types.TEXT_DOCUMENT_HOVER)(hover.hover)
    server.feature(types.TEXT_DOCUMENT_DEFINITION)(definition.definition)
    server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(
        trigger_characters=completion.TRIGGER_CHARACTERS, resolve_provider=True))(completion.completion)
    server.feature(types.COMPLETION_ITEM_RESOLVE)(completion.resolve)
    server.feature(types.TEXT_DOCUMENT_REFERENCES)(usages.references)
    server.feature(types.TEXT_DOCUMENT_CODE_LENS)(usages.code_lenses)
    server.feature(types.TEXT_DOCUMENT_DOCUMENT_LINK)(links.document_links)
    server.feature(types.WORKSPACE_SYMBOL)(symbols.workspace_symbol)

    @server.command(COMMAND_SEARCH)
    def cmd_search(ls, *args):
        return symbols.search_command(ls, list(args))

    @server.command(COMMAND_PAPERS)
    def cmd_papers(ls, *args):
        return symbols.papers_command(ls, list(args))

    @server.command(COMMAND_OPEN_PAPER_TEXT)
    async def cmd_open_text(ls, *args):
        return await usages.open_paper_text_async(ls, list(args))

    @server.command(COMMAND_CITATION_INSERT)
    def cmd_citation_insert(ls, *args):
        return citing.citation_insert_command(ls, list(args))

    @server.command(COMMAND_CITE_HERE)
    def cmd_cite_here(ls, *args):
        return cite_here.cite_here_command(ls, list(args))

    @server.command(COMMAND_SHOW_PASSAGE)
    def cmd_show_passage(ls, *args):
        return evidence.show_passage_command(ls, list(args))

    @server.command(COMMAND_CHECK_CITATION)
    async def cmd_check_citation(ls, *args):
        return await citation_check.check_citation_async(ls, list(args))

    return Features(publisher, server)
