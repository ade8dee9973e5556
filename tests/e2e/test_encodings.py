"""End-to-end: every position the server reads or sends is in the encoding it negotiated with
the client, for the capabilities real editors send: VS Code, Neovim 0.7 and 0.11, Emacs 29
(eglot) and Helix (UTF-16, UTF-8 and UTF-32 between them; UTF-16 when a client offers none or
none the server knows). On lines where CJK, accented letters and emoji above U+FFFF come before
the citations: hover, definition, references, completion text edits (after incremental edits in
the client's encoding), diagnostics, their quick fixes and document links."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, open_doc, position, wait_indexed

LINE = ("中文 😀 é: \\cite{vaswani2017attention}, \\cite{vaswani2017atention} 😀 "
        "doi:10.48550/arXiv.1706.03762 and https://example.org/中文 ok")
# the example: the key starts at character 34 in UTF-16, 40 in UTF-8, 32 in UTF-32
HERVE = "Hervé Jégou et al. 😀😀 see \\cite{vaswani2017attention}"
HERVE_KEY_START = {"utf-16": 34, "utf-8": 40, "utf-32": 32}
DRAFT = "\\documentclass{article}\n\\begin{document}\n" + LINE + "\n" + HERVE + "\n\\end{document}\n"
KEY = "vaswani2017attention"


# --- what each editor offers (general.positionEncodings, in its order of preference) -------------------
# pytest-lsp's captured capabilities where it has them; the encodings as each editor's source
# sends them: vscode-languageclient's client.ts (["utf-16"]; VS Code 1.65 sent none),
# Neovim 0.7 (none), Neovim 0.11's runtime/lua/vim/lsp/protocol.lua (utf-8 first), eglot.el in
# Emacs 29 (utf-32 first), and helix-lsp/src/client.rs (utf-8, utf-32, utf-16).

def _offering(spec: str, encodings) -> Callable[[], types.ClientCapabilities]:
    def caps() -> types.ClientCapabilities:
        c = client_capabilities(spec)
        if encodings is not None:
            if c.general is None:
                c.general = types.GeneralClientCapabilities()
            c.general.position_encodings = list(encodings)
        return c
    return caps


# Helix sends these (helix-lsp/src/client.rs, Client::initialize); pytest-lsp has no capture
HELIX = {
    "workspace": {
        "configuration": True, "didChangeConfiguration": {"dynamicRegistration": False},
        "workspaceFolders": True, "applyEdit": True, "symbol": {"dynamicRegistration": False},
        "executeCommand": {"dynamicRegistration": False}, "inlayHint": {"refreshSupport": False},
        "workspaceEdit": {"documentChanges": True, "resourceOperations": ["create", "rename", "delete"],
                          "failureHandling": "abort", "normalizesLineEndings": False},
        "didChangeWatchedFiles": {"dynamicRegistration": True, "relativePatternSupport": False},
        "fileOperations": {"willRename": True, "didRename": True},
    },
    "textDocument": {
        "completion": {
            "completionItem": {
                "snippetSupport": True,
                "resolveSupport": {"properties": ["documentation", "detail", "additionalTextEdits"]},
                "insertReplaceSupport": True, "deprecatedSupport": True, "tagSupport": {"valueSet": [1]},
            },
            "completionItemKind": {},
        },
        "hover": {"contentFormat": ["markdown"]},
        "signatureHelp": {"signatureInformation": {"documentationFormat": ["markdown"],
                                                   "parameterInformation": {"labelOffsetSupport": True},
                                                   "activeParameterSupport": True}},
        "rename": {"dynamicRegistration": False, "prepareSupport": True, "honorsChangeAnnotations": False},
        "formatting": {"dynamicRegistration": False},
        "codeAction": {
            "codeActionLiteralSupport": {"codeActionKind": {"valueSet": [
                "", "quickfix", "refactor", "refactor.extract", "refactor.inline", "refactor.rewrite",
                "source", "source.organizeImports"]}},
            "isPreferredSupport": True, "disabledSupport": True, "dataSupport": True,
            "resolveSupport": {"properties": ["edit", "command"]},
        },
        "publishDiagnostics": {"versionSupport": True, "tagSupport": {"valueSet": [1, 2]}},
        "inlayHint": {"dynamicRegistration": False},
    },
    "window": {"workDoneProgress": True},
    "general": {"positionEncodings": ["utf-8", "utf-32", "utf-16"]},
}


def _helix() -> types.ClientCapabilities:
    return default_converter().structure(HELIX, types.ClientCapabilities)


# client -> (its capabilities, the encoding the server must choose)
CLIENTS = {
    "vscode": (_offering("visual-studio-code", ["utf-16"]), "utf-16"),
    "neovim-0.7": (_offering("neovim@v0.7.0", None), "utf-16"),
    "neovim-0.11": (_offering("neovim@v0.11.0", ["utf-8", "utf-16", "utf-32"]), "utf-8"),
    "emacs-29-eglot": (_offering("emacs@v29.1", ["utf-32", "utf-8", "utf-16"]), "utf-32"),
    "helix": (_helix, "utf-8"),
}


async def _start(client: LanguageClient, folder: Path, index_dir: Path,
                 caps: types.ClientCapabilities) -> types.InitializeResult:
    options = {"paperlens": {"indexPath": str(index_dir)}}
    client.set_configuration(options)
    result = await client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=folder.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=folder.as_uri(), name="papers")],
        initialization_options=options))
    await wait_indexed(client)
    return result


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=list(CLIENTS))
async def editor(lsp_client: LanguageClient, request, library_dir, index_dir):
    """A server started with one editor's capabilities; ``encoding`` is what it must choose."""
    caps, want = CLIENTS[request.param]
    result = await _start(lsp_client, library_dir, index_dir, caps())
    lsp_client.negotiated = result.capabilities.position_encoding
    lsp_client.encoding = want
    yield
    await lsp_client.shutdown_session()


def _open_draft(client: LanguageClient, library_dir: Path) -> tuple[str, Path]:
    path = library_dir / "drafts" / "encodings.tex"
    path.write_text(DRAFT, encoding="utf-8")
    return open_doc(client, path, "latex"), path


def _ident(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


async def _hover_range(client: LanguageClient, uri: str, text: str, encoding: str) -> None:
    """Hover 3 characters into the key: the paper's card, over the key's range."""
    start = text.index(KEY)
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(uri), position=position(text, start + 3, encoding)))
    assert hover is not None and "**Attention Is All You Need**" in hover.contents.value
    assert hover.range == types.Range(start=position(text, start, encoding),
                                      end=position(text, start + len(KEY), encoding))


async def _hover_definition_references_and_links(client: LanguageClient, uri: str, encoding: str,
                                                 library_dir: Path) -> None:
    text = DRAFT
    await _hover_range(client, uri, text, encoding)
    start = text.index(KEY)
    # on the last character of the key, and just after it (still the key, as editors expect)
    for offset in (start + len(KEY) - 1, start + len(KEY)):
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=_ident(uri), position=position(text, offset, encoding)))
        assert hover is not None and "Attention Is All You Need" in hover.contents.value, offset
    # the position of an offset in another encoding is elsewhere on this line: a UTF-32
    # position of the key's start falls before it in UTF-8, a UTF-8 position of its end runs
    # past it in UTF-16 and UTF-32 (into the next \\cite)
    other, offset = ("utf-32", start + 1) if encoding == "utf-8" else ("utf-8", start + len(KEY) - 1)
    wrong = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(uri), position=position(text, offset, other)))
    assert wrong is None or "Attention Is All You Need" not in wrong.contents.value

    # the line, with its numbers written out
    herve_line = text.split("\n").index(HERVE)
    column = HERVE_KEY_START[encoding]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=_ident(uri), position=types.Position(line=herve_line, character=column + 1)))
    assert hover is not None and "**Attention Is All You Need**" in hover.contents.value
    assert hover.range == types.Range(start=types.Position(line=herve_line, character=column),
                                      end=types.Position(line=herve_line, character=column + len(KEY)))

    bib = library_dir / "library.bib"
    entry_line = bib.read_text(encoding="utf-8").split("\n").index("@inproceedings{vaswani2017attention,")
    entry = types.Location(uri=bib.as_uri(), range=types.Range(
        start=types.Position(line=entry_line, character=0), end=types.Position(line=entry_line + 1, character=0)))
    for at in (start + 3, text.index(HERVE) + HERVE.index(KEY) + len(KEY) - 1):
        assert await client.text_document_definition_async(types.DefinitionParams(
            text_document=_ident(uri), position=position(text, at, encoding))) == [entry]

    refs = await client.text_document_references_async(types.ReferenceParams(
        text_document=_ident(uri), position=position(text, start + 3, encoding),
        context=types.ReferenceContext(include_declaration=False)))
    here = sorted((r.range for r in refs if r.uri == uri), key=lambda rng: (rng.start.line, rng.start.character))
    keys = [i for i in range(len(text)) if text.startswith(KEY + "}", i)]
    assert len(keys) == 2 and here == [types.Range(start=position(text, i, encoding),
                                                   end=position(text, i + len(KEY), encoding)) for i in keys]
    assert here[-1].start == types.Position(line=herve_line, character=column)

    links = await client.text_document_document_link_async(types.DocumentLinkParams(text_document=_ident(uri)))
    by_target = {link.target: link.range for link in links}
    doi = text.index("10.48550/")
    url = text.index("https://example.org/")
    url_end = text.index(" ok\n")
    assert by_target["https://doi.org/10.48550/arXiv.1706.03762"] == types.Range(
        start=position(text, doi, encoding), end=position(text, doi + len("10.48550/arXiv.1706.03762"), encoding))
    (url_range,) = [rng for target, rng in by_target.items() if target.startswith("https://example.org/")]
    assert url_range == types.Range(start=position(text, url, encoding), end=position(text, url_end, encoding))


async def _diagnostics(client: LanguageClient, uri: str, keep) -> list[types.Diagnostic]:
    """The diagnostics of ``uri`` once some published set of them satisfies ``keep``."""
    async def wait() -> list[types.Diagnostic]:
        while True:
            found = client.diagnostics.get(uri)
            if found is not None and keep(found):
                return found
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    return await asyncio.wait_for(wait(), 60)


async def _diagnostics_and_completion_edits(client: LanguageClient, uri: str, encoding: str) -> None:
    text = DRAFT
    unknown = lambda diags: [d for d in diags if d.code == "unknown-key"]    # noqa: E731
    (diag,) = unknown(await _diagnostics(client, uri, unknown))
    at = text.index("vaswani2017atention")
    assert diag.range == types.Range(start=position(text, at, encoding),
                                     end=position(text, at + len("vaswani2017atention"), encoding))
    assert "'vaswani2017attention'" in diag.message
    # the quick fix edits exactly that range
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=_ident(uri), range=diag.range, context=types.CodeActionContext(diagnostics=[diag])))
    assert list(actions[0].edit.changes[uri]) == [types.TextEdit(range=diag.range, new_text="vaswani2017attention")]

    # an incremental edit in the client's encoding: the mistyped key replaced, then a citation
    # typed after the second emoji; pygls applies it, the server's positions must agree
    change_range = diag.range
    fixed = text[:at] + "vaswani2017attention" + text[at + len("vaswani2017atention"):]
    emoji = fixed.index("😀 doi:") + 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(range=change_range, text="vaswani2017attention")]))
    typed = fixed[:emoji] + " \\cite{vas" + fixed[emoji:]
    insert_at = position(fixed, emoji, encoding)
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(start=insert_at, end=insert_at), text=" \\cite{vas")]))
    cursor = emoji + len(" \\cite{vas")
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=_ident(uri), position=position(typed, cursor, encoding)))
    assert result is not None and result.items
    assert result.items[0].label == "vaswani2017attention"
    for item in result.items:
        assert item.text_edit.range == types.Range(start=position(typed, cursor - 3, encoding),
                                                   end=position(typed, cursor, encoding))
    # the server holds the text the client has: no unknown key left, the hover still lands
    await _diagnostics(client, uri, lambda diags: not unknown(diags))
    await _hover_range(client, uri, typed, encoding)


async def test_positions_in_the_editors_encoding(editor: LanguageClient, library_dir):
    """One editor's session: the encoding it gets, then every feature's positions in it."""
    client, encoding = editor, editor.encoding
    assert client.negotiated == encoding
    uri, _ = _open_draft(client, library_dir)
    await _hover_definition_references_and_links(client, uri, encoding, library_dir)
    await _diagnostics_and_completion_edits(client, uri, encoding)


# what a client gets that offers none the server knows (the editors above cover no offer, a
# single one and a preference for each of UTF-8, UTF-16 and UTF-32)
NEGOTIATION = {"an empty list": ((), "utf-16"), "only an unknown one": (("utf-7",), "utf-16")}


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=list(NEGOTIATION))
async def offering_client(lsp_client: LanguageClient, request, library_dir, index_dir):
    offered, want = NEGOTIATION[request.param]
    result = await _start(lsp_client, library_dir, index_dir,
                          _offering("visual-studio-code", offered)())
    lsp_client.negotiated = result.capabilities.position_encoding
    lsp_client.expected = want
    yield
    await lsp_client.shutdown_session()


async def test_the_server_answers_in_the_encoding_it_announced(offering_client: LanguageClient, library_dir):
    client = offering_client
    assert client.negotiated == client.expected
    uri, _ = _open_draft(client, library_dir)
    await _hover_range(client, uri, DRAFT, client.expected)
