"""End-to-end: a chapter of a LaTeX thesis gets the entry of the .bib file its root document
names and the citation commands of its preamble (issue 12, item 5), for clients negotiating
UTF-8, UTF-16 or UTF-32 positions."""
from __future__ import annotations

import asyncio

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import SERVER, open_doc, position, start, wait_indexed

FILES = {
    "thesis/thesis.tex": "\\documentclass{book}\n\\input{preamble}\n\\begin{document}\n"
                         "\\include{chapters/epilogue}\n\\printbibliography\n\\end{document}\n",
    "thesis/preamble.tex": "\\usepackage[backend=biber]{biblatex}\n"
                           "\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}\n"
                           "\\bibliography{references}\n",
    # characters outside the BMP and outside ASCII before the key: the three encodings differ
    "thesis/chapters/epilogue.tex": "\\chapter{Épilogue}\n"
                                    "Ünïcödé 😀 — as \\longcite{shared2020} shows, \\citeauthor*{shared2020} agrees.\n",
    "thesis/references.bib": "@article{shared2020,\n  title = {The Entry the Thesis Names},\n"
                             "  author = {Root, Rita},\n  year = {2020},\n}\n",
    "thesis/chapters/aaa-old.bib": "@article{shared2020,\n  title = {A Stale Copy Next to the Chapter},\n"
                                   "  author = {Stale, Sam},\n  year = {2019},\n}\n",
}

# pygls takes the client's first choice among utf-8, utf-16, utf-32 (Neovim prefers UTF-8);
# positions after the non-ASCII text of the chapter differ in each
@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), params=["utf-8", "utf-16", "utf-32"])
async def thesis_client(lsp_client: LanguageClient, request, library_dir, index_dir):
    for rel, text in FILES.items():
        path = library_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    caps = client_capabilities("visual-studio-code")
    caps.general = types.GeneralClientCapabilities(position_encodings=[request.param])
    options = {"paperlens": {"indexPath": str(index_dir)}}
    lsp_client.set_configuration(options)
    result = await lsp_client.initialize_session(types.InitializeParams(
        capabilities=caps, root_uri=library_dir.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=library_dir.as_uri(), name="papers")],
        initialization_options=options))
    assert result.capabilities.position_encoding == request.param
    lsp_client.position_encoding_under_test = request.param
    await wait_indexed(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def _diagnostics_of(client: LanguageClient, uri: str) -> list[types.Diagnostic]:
    """The diagnostics published for ``uri`` (waiting for their notification if need be)."""
    async def wait() -> None:
        while uri not in client.diagnostics:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    await asyncio.wait_for(wait(), 60)
    return client.diagnostics[uri]


async def test_chapter_follows_the_root_in_every_position_encoding(thesis_client: LanguageClient, library_dir):
    client = thesis_client
    encoding = client.position_encoding_under_test
    chapter = library_dir / "thesis" / "chapters" / "epilogue.tex"
    text = chapter.read_text(encoding="utf-8")
    uri = open_doc(client, chapter, "latex")
    for needle in ("\\longcite{shared2020}", "\\citeauthor*{shared2020}"):
        start = text.index(needle) + needle.index("{") + 1
        pos = position(text, start + 3, encoding)
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        assert hover is not None, (encoding, needle)
        assert "**The Entry the Thesis Names**" in hover.contents.value
        assert "Stale Copy" not in hover.contents.value
        assert hover.range == types.Range(start=position(text, start, encoding),
                                          end=position(text, start + len("shared2020"), encoding))
        (loc,) = await client.text_document_definition_async(types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        assert loc.uri == (library_dir / "thesis" / "references.bib").as_uri() and loc.range.start.line == 0
    # completion after the preamble's command, typed after the non-ASCII text
    typed = text + "Ünïcödé 😀 \\longcite{sha"
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=typed)]))
    end = position(typed, len(typed), encoding)
    result = await client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=end))
    labels = [item.label for item in result.items]      # "sha" finds Shazeer's paper too
    assert labels[0] == "shared2020" and labels.count("shared2020") == 1
    assert "The Entry the Thesis Names" in result.items[0].detail
    assert result.items[0].text_edit.range == types.Range(start=position(typed, len(typed) - 3, encoding), end=end)
    # a mistyped key in the user command is reported where it is
    broken = text.replace("\\longcite{shared2020}", "\\longcite{shared202}")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=broken)]))
    at = broken.index("shared202}")
    want = types.Range(start=position(broken, at, encoding), end=position(broken, at + len("shared202"), encoding))

    async def reported() -> list[types.Diagnostic]:
        while True:
            found = [d for d in client.diagnostics.get(uri, []) if d.code == "unknown-key"]
            if found:
                return found
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    (diag,) = await asyncio.wait_for(reported(), 60)
    assert diag.range == want and "'shared2020'" in diag.message
    # the duplicate-key warning of the .bib file the root names says who gets its entry
    right = await _diagnostics_of(client, (library_dir / "thesis" / "references.bib").as_uri())
    assert [d.message for d in right] == ["key 'shared2020' is also defined in aaa-old.bib; thesis.tex gets this entry"]


# -- diagnostics of the other open documents of a project ---------------------------------------

PREAMBLE = "\\usepackage[backend=biber]{biblatex}\n\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}\n"
CHAPTER = "\\chapter{Epilogue}\nAs \\longcite{Knuth}{shared2020} shows, \\seecite{shared202} too.\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER))
async def project_client(lsp_client: LanguageClient, library_dir, index_dir):
    for rel, text in {**FILES, "thesis/preamble.tex": PREAMBLE + "\\bibliography{references}\n",
                      "thesis/chapters/epilogue.tex": CHAPTER}.items():
        path = library_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    await start(lsp_client, library_dir, index_dir)
    yield
    await lsp_client.shutdown_session()


async def _unknown_keys_once(client: LanguageClient, uri: str, want: list[str]) -> None:
    """Wait until the unknown keys published for ``uri`` are ``want``."""
    def keys() -> list[str] | None:
        diags = client.diagnostics.get(uri)
        return None if diags is None else [d.data["key"] for d in diags if d.code == "unknown-key"]

    async def wait() -> None:
        while keys() != want:
            await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

    try:
        await asyncio.wait_for(wait(), 60)
    except asyncio.TimeoutError:
        raise AssertionError(f"{uri}: unknown keys {keys()}, expected {want}") from None


async def test_a_preamble_edit_republishes_the_open_chapter(project_client: LanguageClient, library_dir):
    client = project_client
    chapter = open_doc(client, library_dir / "thesis" / "chapters" / "epilogue.tex", "latex")
    preamble_path = library_dir / "thesis" / "preamble.tex"
    preamble = open_doc(client, preamble_path, "latex")
    # \longcite takes one argument: its key is "Knuth"; \seecite cites nothing yet
    await _unknown_keys_once(client, chapter, ["Knuth"])
    text = preamble_path.read_text(encoding="utf-8")

    def edit(version: int, new_text: str) -> None:
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=preamble, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=new_text)]))

    # a new definition in the (unsaved) preamble: the key is the second argument; the
    # chapter's warning goes without touching the chapter
    text += "\\renewcommand{\\longcite}[2]{\\footnote{#1: \\fullcite{#2}}}\n"
    edit(2, text)
    await _unknown_keys_once(client, chapter, [])
    # a new citation command: the chapter's \seecite{shared202} is a mistyped key now
    text += "\\newcommand{\\seecite}[1]{see \\cite{#1}}\n"
    edit(3, text)
    await _unknown_keys_once(client, chapter, ["shared202"])
    (diag,) = client.diagnostics[chapter]
    assert diag.range == types.Range(start=position(CHAPTER, CHAPTER.index("shared202}")),
                                     end=position(CHAPTER, CHAPTER.index("shared202}") + len("shared202")))
    # the preamble closed unsaved: the chapter reads it from disk again
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=preamble)))
    await _unknown_keys_once(client, chapter, ["Knuth"])


async def test_the_root_dropping_a_chapter_republishes_it(project_client: LanguageClient, library_dir):
    """The chapter's project held the root last time, not any more: it is republished too."""
    client = project_client
    chapter = open_doc(client, library_dir / "thesis" / "chapters" / "epilogue.tex", "latex")
    root_path = library_dir / "thesis" / "thesis.tex"
    root = open_doc(client, root_path, "latex")
    await _unknown_keys_once(client, chapter, ["Knuth"])
    dropped = root_path.read_text(encoding="utf-8").replace("\\include{chapters/epilogue}\n", "")
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=root, version=2),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=dropped)]))
    # alone, the chapter knows no \longcite: nothing it cites is a key
    await _unknown_keys_once(client, chapter, [])


async def test_opening_a_bib_file_keeps_its_duplicate_key_warning(project_client: LanguageClient, library_dir):
    """Its draft diagnostics (none) are published with its duplicate keys, not instead of them."""
    client = project_client
    bib = library_dir / "thesis" / "references.bib"
    (before,) = await _diagnostics_of(client, bib.as_uri())
    assert before.code == "duplicate-key"

    async def next_for_bib() -> types.PublishDiagnosticsParams:
        while True:
            params = await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == bib.as_uri():
                return params

    # the task starts waiting before the loop reads the server's answer (created first)
    waiting = asyncio.ensure_future(asyncio.wait_for(next_for_bib(), 60))
    open_doc(client, bib, "bibtex")
    published = await waiting
    assert [d.code for d in published.diagnostics] == ["duplicate-key"]
