"""Hover, definition, completion, references and diagnostics in a chapter of a LaTeX thesis:
the root document's bibliography and the preamble's citation commands decide (issue 12,
item 5).  The feature functions run in-process on a real Session and pygls Workspace."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from pygls.protocol import default_converter
from pygls.workspace import Workspace

from paperlens.lsp import convert
from paperlens.lsp.features import completion, definition, diagnostics, hover, usages
from paperlens.lsp.session import Session

from test_project import THESIS, write


class FakeServer:
    """What the feature modules use of the language server: ``session`` and ``workspace``."""

    def __init__(self, folder: Path, index: Path) -> None:
        self.session = Session()
        self.session.configure({"indexPath": str(index)}, [str(folder)])
        self.session.library.update()
        self.session.indexing, self.session.indexed_once = False, True
        self.workspace = Workspace(folder.as_uri())

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        self.workspace.put_text_document(types.TextDocumentItem(
            uri=uri, language_id="latex", version=1, text=text if text is not None else path.read_text()))
        return uri


def position(text: str, needle: str, delta: int = 0) -> types.Position:
    return convert.offset_to_position(text, text.index(needle) + delta)


@pytest.fixture
def thesis(tmp_path):
    write(tmp_path / "lib", THESIS)
    server = FakeServer(tmp_path / "lib", tmp_path / "index")
    yield server, tmp_path / "lib" / "thesis"
    server.session.library.close()


def _hover(server, uri, pos):
    return hover.hover(server, types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=pos))


def test_hover_and_definition_in_the_chapter_use_the_bib_file_the_root_names(thesis):
    server, root = thesis
    chapter = root / "chapters" / "epilogue.tex"
    text = chapter.read_text()
    uri = server.open(chapter)
    for needle in ("\\longcite{shared2020}", "\\citeauthor*{shared2020}"):
        pos = position(text, needle, needle.index("{") + 3)
        card = _hover(server, uri, pos).contents.value
        assert "The Entry the Thesis Names" in card and "Stale Copy" not in card
        (loc,) = definition.definition(server, types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=pos))
        assert loc.uri == (root / "references.bib").as_uri() and loc.range.start.line == 0
    # the same chapter, opened alone (no root): the library's default (the stale copy sorts first)
    alone = root.parent / "alone.tex"
    alone.write_text(text)
    pos = convert.offset_to_position(text, text.rindex("shared2020") + 2)   # in \\citeauthor*{}
    card = _hover(server, server.open(alone), pos).contents.value
    assert "Stale Copy" in card


def _completion(server, uri: str, position: types.Position):
    """The adapter's answer (JSON) as the editor reads it."""
    answer = completion.completion(server, types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position))
    return None if answer is None else default_converter().structure(answer, types.CompletionList)


def test_completion_after_a_user_citation_command(thesis):
    server, root = thesis
    chapter = root / "chapters" / "epilogue.tex"
    text = chapter.read_text() + "More in \\longcite{sha"
    uri = server.open(chapter, text)
    result = _completion(server, uri, convert.offset_to_position(text, len(text)))
    # one item for the key both .bib files define: the entry of the one the root names
    assert result is not None and [i.label for i in result.items] == ["shared2020"]
    assert "The Entry the Thesis Names" in result.items[0].detail
    edit = result.items[0].text_edit
    assert edit.range.end.character - edit.range.start.character == len("sha")
    # with room for one item only, it is still the root's entry and the list is complete
    server.session.settings.completion.limit = 1
    result = _completion(server, uri, convert.offset_to_position(text, len(text)))
    assert [i.label for i in result.items] == ["shared2020"] and not result.is_incomplete
    assert "The Entry the Thesis Names" in result.items[0].detail
    # a command the project does not define completes nothing
    text = chapter.read_text() + "More in \\shortcite{sha"
    uri = server.open(chapter, text)
    assert _completion(server, uri, convert.offset_to_position(text, len(text))) is None


def test_references_find_the_user_command_in_chapters_on_disk(thesis):
    server, root = thesis
    bib = root / "references.bib"
    chapter = root / "chapters" / "epilogue.tex"
    text = chapter.read_text()
    uri = server.open(chapter)
    locs = usages.references(server, types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=position(text, "shared2020", 1),
        context=types.ReferenceContext(include_declaration=True)))
    assert locs[0].uri == bib.as_uri()
    in_chapter = [loc.range.start.character for loc in locs if loc.uri == chapter.as_uri()]
    starts = [text.split("\n")[1].index("shared2020"), text.split("\n")[1].rindex("shared2020")]
    assert sorted(in_chapter) == starts
    # the chapter closed: read from disk, with the preamble's commands all the same
    server.workspace.remove_text_document(uri)
    assert chapter.as_uri() not in server.workspace.text_documents
    locs = usages.references(server, types.ReferenceParams(
        text_document=types.TextDocumentIdentifier(uri=chapter.as_uri()), position=position(text, "shared2020", 1),
        context=types.ReferenceContext(include_declaration=False)))
    assert sorted(loc.range.start.character for loc in locs if loc.uri == chapter.as_uri()) == starts


def test_unknown_keys_in_user_commands_are_reported(thesis):
    server, root = thesis
    chapter = root / "chapters" / "epilogue.tex"
    text = chapter.read_text() + "And \\longcite{shared202} too.\n"
    uri = server.open(chapter, text)
    diags = diagnostics.draft_diagnostics(server, uri)
    assert [(d.code, d.data["key"], d.data["suggestions"]) for d in diags] == \
        [("unknown-key", "shared202", ["shared2020"])]
    start = text.index("shared202}")
    assert diags[0].range == types.Range(start=convert.offset_to_position(text, start),
                                         end=convert.offset_to_position(text, start + len("shared202")))


def test_duplicate_key_warning_names_the_document_that_gets_each_entry(thesis):
    server, root = thesis
    dupes = diagnostics.duplicate_key_diagnostics(server)
    right = dupes[(root / "references.bib").as_uri()]
    stale = dupes[(root / "chapters" / "aaa-old.bib").as_uri()]
    assert [d.message for d in right] == ["key 'shared2020' is also defined in aaa-old.bib; thesis.tex gets this entry"]
    assert [d.message for d in stale] == [
        "key 'shared2020' is also defined in references.bib; a draft gets the entry of the .bib file its "
        "bibliography names (for a LaTeX file, the one its root document names)"]
