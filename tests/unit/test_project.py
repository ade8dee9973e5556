"""LaTeX projects (paperlens.core.project): root document, bibliography and citation commands
of a file, as the document that includes it decides (issue 12, item 5)."""
from __future__ import annotations

import os
from pathlib import Path

from paperlens.core import citations, project as project_module
from paperlens.core.drafts import DraftIndex
from paperlens.core.project import ProjectIndex, scan

# A thesis as reported: the chapter has no \bibliography of its own; the root inputs a
# preamble that names references.bib; a stale copy of the same key sits next to the chapter
# (and sorts first by path, so without the project it wins).
THESIS = {
    "thesis/thesis.tex": "\\documentclass{book}\n\\input{preamble}\n\\begin{document}\n"
                         "\\include{chapters/epilogue}\n\\printbibliography\n\\end{document}\n",
    "thesis/preamble.tex": "\\usepackage[backend=biber]{biblatex}\n"
                           "\\newcommand{\\longcite}[1]{\\footnote{\\fullcite{#1}}}\n"
                           "\\bibliography{references}\n",
    "thesis/chapters/epilogue.tex": "\\chapter{Epilogue}\n"
                                    "As \\longcite{shared2020} shows, and \\citeauthor*{shared2020} agrees.\n",
    "thesis/references.bib": "@article{shared2020,\n  title = {The Entry the Thesis Names},\n"
                             "  author = {Root, Rita},\n  year = {2020},\n}\n",
    "thesis/chapters/aaa-old.bib": "@article{shared2020,\n  title = {A Stale Copy Next to the Chapter},\n"
                                   "  author = {Stale, Sam},\n  year = {2019},\n}\n",
}


def write(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base


def later(path: Path) -> None:
    """Move a file's or folder's mtime a second on (a change the coarse clock cannot hide)."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def resolve(index: ProjectIndex, path: Path, open_docs=None):
    return index.project(str(path), path.read_text(encoding="utf-8"), open_docs)


def rel(base: Path, paths) -> list[str]:
    return [os.path.relpath(p, base) for p in paths]


# --- the reported case -------------------------------------------------------------------

def test_chapter_gets_the_root_documents_bibliography_and_preamble_macros(tmp_path):
    write(tmp_path, THESIS)
    chapter = tmp_path / "thesis/chapters/epilogue.tex"
    project = resolve(ProjectIndex([tmp_path]), chapter)
    assert project.root == str(tmp_path / "thesis/thesis.tex")
    assert rel(tmp_path, project.files) == ["thesis/thesis.tex", "thesis/preamble.tex",
                                            "thesis/chapters/epilogue.tex"]
    # relative to the root's folder (where LaTeX runs), not the preamble's or the chapter's
    assert list(project.bib_files) == [str(tmp_path / "thesis/references.bib")]
    assert {m.name for m in project.macros} == {"longcite"}
    text = chapter.read_text(encoding="utf-8")
    found = citations.find_citations(text, "latex", project.macros)
    assert [(c.key, c.command) for c in found] == [("shared2020", "\\longcite"), ("shared2020", "\\citeauthor*")]
    # without the project the chapter's own command is unknown
    assert [c.command for c in citations.find_citations(text, "latex")] == ["\\citeauthor*"]


def test_the_root_resolves_to_itself_and_the_preamble_to_the_root(tmp_path):
    write(tmp_path, THESIS)
    index = ProjectIndex([tmp_path])
    for name in ("thesis/thesis.tex", "thesis/preamble.tex"):
        project = resolve(index, tmp_path / name)
        assert project.root == str(tmp_path / "thesis/thesis.tex")
        assert list(project.bib_files) == [str(tmp_path / "thesis/references.bib")]


def test_bibliography_in_a_subfolder_preamble_is_relative_to_the_root(tmp_path):
    write(tmp_path, {
        "main.tex": "\\documentclass{report}\n\\input{setup/preamble.tex}\n\\begin{document}\n"
                    "\\input{./chapters/one}\n\\bibliography{refs, more}\n\\end{document}\n",
        "setup/preamble.tex": "\\addbibresource{lib/extra.bib}\n\\addbibresource[location=remote]"
                              "{https://example.org/x.bib}\n% \\addbibresource{commented.bib}\n",
        "chapters/one.tex": "\\cite{a}\n",
    })
    project = resolve(ProjectIndex([tmp_path]), tmp_path / "chapters/one.tex")
    assert rel(tmp_path, project.bib_files) == ["lib/extra.bib", "refs.bib", "more.bib"]


# --- how the root is found -----------------------------------------------------------------

def test_magic_root_comment(tmp_path):
    write(tmp_path, {
        # the root is not in a folder above the chapter: only the comment finds it
        "src/main.tex": "\\documentclass{article}\n\\addbibresource{refs.bib}\n"
                        "\\newcommand\\seecite[2][]{see \\cite[#1]{#2}}\n"
                        "\\begin{document}\n\\input{../chapters/ch}\n\\end{document}\n",
        "chapters/ch.tex": "% !TeX root = ../src/main.tex\n\\seecite[p. 3]{k1}\n",
        "chapters/plain.tex": "\\seecite{k2}\n",
    })
    index = ProjectIndex([tmp_path])
    project = resolve(index, tmp_path / "chapters/ch.tex")
    assert project.root == str(tmp_path / "src/main.tex")
    assert rel(tmp_path, project.bib_files) == ["src/refs.bib"]
    assert {m.name for m in project.macros} == {"seecite"}
    alone = resolve(index, tmp_path / "chapters/plain.tex")
    assert alone.root == str(tmp_path / "chapters/plain.tex") and alone.bib_files == ()


def test_magic_root_variants_are_read():
    for line in ("% !TEX root = ../thesis.tex", "%!TeX root=../thesis.tex", "  %% !tex root = ../thesis.tex  "):
        assert scan(line + "\n\\chapter{x}\n").magic_root == "../thesis.tex"
    assert scan("\\chapter{x} % not a magic comment: !TEX root = a.tex\n").magic_root == ""


def test_subfiles_document_uses_its_main_document(tmp_path):
    write(tmp_path, {
        "main.tex": "\\documentclass{article}\n\\usepackage{subfiles}\n\\addbibresource{refs.bib}\n"
                    "\\DeclareCiteCommand{\\bracecite}{}{}{}{}\n"
                    "\\begin{document}\n\\subfile{sections/intro}\n\\end{document}\n",
        "sections/intro.tex": "\\documentclass[../main.tex]{subfiles}\n\\begin{document}\n"
                              "\\bracecite[p. 1]{k}\n\\end{document}\n",
    })
    intro = tmp_path / "sections/intro.tex"
    facts = scan(intro.read_text())
    assert facts.subfiles_main == "../main.tex" and not facts.is_root
    project = resolve(ProjectIndex([tmp_path]), intro)
    assert project.root == str(tmp_path / "main.tex")
    assert rel(tmp_path, project.files) == ["main.tex", "sections/intro.tex"]
    assert rel(tmp_path, project.bib_files) == ["refs.bib"]
    keys = citations.find_citations(intro.read_text(), "latex", project.macros)
    assert [(c.key, c.command) for c in keys] == [("k", "\\bracecite")]


def test_import_and_subimport_change_the_folder_of_what_they_input(tmp_path):
    write(tmp_path, {
        "main.tex": "\\documentclass{book}\n\\begin{document}\n\\import{parts/}{one}\n\\end{document}\n",
        "parts/one.tex": "\\input{two}\n\\subimport{sub/}{three.tex}\n",
        "parts/two.tex": "\\def\\twocite#1{\\parencite{#1}}\n",
        "parts/sub/three.tex": "\\cite{x}\n",
    })
    project = resolve(ProjectIndex([tmp_path]), tmp_path / "parts/sub/three.tex")
    assert project.root == str(tmp_path / "main.tex")
    assert rel(tmp_path, project.files) == ["main.tex", "parts/one.tex", "parts/two.tex", "parts/sub/three.tex"]
    assert {m.name for m in project.macros} == {"twocite"}


def test_the_nearest_folder_with_a_root_decides(tmp_path):
    write(tmp_path, {
        "all.tex": "\\documentclass{book}\n\\bibliography{outer}\n\\begin{document}\\input{book/ch}\\end{document}\n",
        "book/book.tex": "\\documentclass{book}\n\\bibliography{inner}\n\\begin{document}\\input{ch}\\end{document}\n",
        "book/other.tex": "\\documentclass{book}\n\\bibliography{other}\n\\begin{document}\\input{ch}\\end{document}\n",
        "book/ch.tex": "\\cite{k}\n",
        "book/alone.tex": "\\documentclass{article}\n\\bibliography{alone}\n",
    })
    project = resolve(ProjectIndex([tmp_path]), tmp_path / "book/ch.tex")
    assert rel(tmp_path, project.roots) == ["book/book.tex", "book/other.tex"]
    assert rel(tmp_path, project.bib_files) == ["book/inner.bib", "book/other.bib"]


# --- robustness ------------------------------------------------------------------------------

def test_input_cycles_end(tmp_path):
    write(tmp_path, {
        "main.tex": "\\documentclass{book}\n\\begin{document}\\input{a}\\end{document}\n",
        "a.tex": "\\input{b}\n\\bibliography{ra}\n",
        "b.tex": "\\input{a}\n\\input{main}\n\\bibliography{rb}\n",
        # no root at all, and two magic comments pointing at each other
        "loop/x.tex": "\\input{y}\n", "loop/y.tex": "\\input{x}\n",
        "magic/p.tex": "% !TEX root = q.tex\n", "magic/q.tex": "% !TEX root = p.tex\n",
    })
    index = ProjectIndex([tmp_path])
    project = resolve(index, tmp_path / "b.tex")
    assert rel(tmp_path, project.files) == ["main.tex", "a.tex", "b.tex"]
    assert rel(tmp_path, project.bib_files) == ["rb.bib", "ra.bib"]
    assert resolve(index, tmp_path / "loop/x.tex").root == str(tmp_path / "loop/x.tex")
    assert resolve(index, tmp_path / "magic/p.tex").files


def test_missing_and_odd_inputs_are_ignored(tmp_path):
    write(tmp_path, {
        "main.tex": "\\documentclass{book}\n\\input{nothere}\n\\include{gone/away}\n\\input{\\jobname-x}\n"
                    "\\newcommand{\\inc}[1]{\\input{#1}}\n\\import{nowhere/}{x}\n\\usepackage{notlocal}\n"
                    "\\begin{document}\\input{ch}\\end{document}\n",
        "ch.tex": "\\cite{k}\n",
    })
    project = resolve(ProjectIndex([tmp_path]), tmp_path / "ch.tex")
    assert rel(tmp_path, project.files) == ["main.tex", "ch.tex"]


def test_files_outside_the_folders_are_never_read(tmp_path, monkeypatch):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    write(tmp_path, {
        "outside/evil.tex": "\\newcommand{\\evilcite}[1]{\\cite{#1}}\n\\bibliography{evil}\n",
        "inside/main.tex": "\\documentclass{book}\n\\input{../outside/evil}\n\\input{link}\n\\input{pipe}\n"
                           "\\input{/etc/passwd}\n\\begin{document}\\input{ch}\\end{document}\n",
        "inside/ch.tex": "\\evilcite{k}\n",
    })
    (inside / "link.tex").symlink_to(outside / "evil.tex")
    os.mkfifo(inside / "pipe.tex")
    read: list[str] = []
    real_read = project_module._read_regular
    monkeypatch.setattr(project_module, "_read_regular", lambda p: read.append(p) or real_read(p))
    project = resolve(ProjectIndex([inside]), inside / "ch.tex")
    assert project.root == str(inside / "main.tex")
    assert project.macros == frozenset() and project.bib_files == ()
    assert rel(inside, project.files) == ["main.tex", "ch.tex"]
    assert all(p.startswith(str(inside) + os.sep) for p in read) and str(inside / "pipe.tex") not in read


def test_a_document_outside_every_folder_reads_only_its_own_folder(tmp_path):
    write(tmp_path, {
        "solo/main.tex": "\\documentclass{book}\n\\bibliography{refs}\n\\begin{document}\\input{ch}\\end{document}\n",
        "solo/ch.tex": "\\cite{k}\n",
        "above.tex": "\\documentclass{book}\n\\bibliography{above}\n\\begin{document}\\input{solo/ch}\\end{document}\n",
    })
    project = resolve(ProjectIndex([tmp_path / "elsewhere"]), tmp_path / "solo/ch.tex")
    assert rel(tmp_path, project.roots) == ["solo/main.tex"]
    assert rel(tmp_path, project.bib_files) == ["solo/refs.bib"]


def test_bounded_work_on_a_folder_full_of_documents(tmp_path):
    files = {f"many/doc{i:03d}.tex": "\\documentclass{article}\n\\input{doc%03d}\n" % (i + 1) for i in range(600)}
    files["many/ch.tex"] = "\\cite{k}\n"
    write(tmp_path, files)
    index = ProjectIndex([tmp_path])
    project = resolve(index, tmp_path / "many/ch.tex")
    assert project.root == str(tmp_path / "many/ch.tex")       # nobody inputs it
    assert len(project.files) == 1
    # typing in the chapter (its citations, not its structure) reuses the resolved project
    assert index.project(str(tmp_path / "many/ch.tex"), "\\cite{k} and \\cite{l}\n") is project


# --- caches: open buffers, changes on disk ------------------------------------------------

def test_open_buffers_win_over_the_disk(tmp_path):
    write(tmp_path, THESIS)
    chapter = tmp_path / "thesis/chapters/epilogue.tex"
    preamble = tmp_path / "thesis/preamble.tex"
    index = ProjectIndex([tmp_path])
    edited = preamble.read_text() + "\\NewDocumentCommand{\\seecite}{O{} m}{\\cite[#1]{#2}}\n"
    project = resolve(index, chapter, {str(preamble): edited})
    assert {m.name for m in project.macros} == {"longcite", "seecite"}
    # the chapter's own text is the one given, not the file's
    project = index.project(str(chapter), "% !TEX root = ../other.tex\n\\cite{x}\n", {})
    assert project.root == str(tmp_path / "thesis/thesis.tex")      # other.tex does not exist


def test_changes_on_disk_are_seen_and_unchanged_projects_come_from_the_cache(tmp_path):
    write(tmp_path, {"book/ch.tex": "\\longcite{k}\n"})
    chapter = tmp_path / "book/ch.tex"
    index = ProjectIndex([tmp_path])
    text = chapter.read_text()
    first = index.project(str(chapter), text)
    assert first.root == str(chapter) and first.macros == frozenset()
    assert index.project(str(chapter), text) is first               # nothing changed: cached
    # a root document appears in the folder above
    write(tmp_path, {"main.tex": "\\documentclass{book}\n\\input{setup}\n\\begin{document}\\input{book/ch}\\end{document}\n",
                     "setup.tex": "\\bibliography{a}\n"})
    later(tmp_path)
    second = index.project(str(chapter), text)
    assert second.root == str(tmp_path / "main.tex") and second.macros == frozenset()
    # the preamble gains a citation command
    (tmp_path / "setup.tex").write_text("\\bibliography{a}\n\\newcommand{\\longcite}[1]{\\fullcite{#1}}\n")
    later(tmp_path / "setup.tex")
    third = index.project(str(chapter), text)
    assert {m.name for m in third.macros} == {"longcite"}


# --- drafts on disk (find references) -----------------------------------------------------

def test_draft_index_reads_each_draft_with_its_projects_commands(tmp_path):
    write(tmp_path, THESIS)
    write(tmp_path, {"notes/notes.md": "---\nbibliography: ../thesis/chapters/aaa-old.bib\n---\nSee [@shared2020].\n"})
    drafts = DraftIndex([str(tmp_path)])
    found = drafts.citations()
    chapter = str(tmp_path / "thesis/chapters/epilogue.tex")
    assert [(c.key, c.command) for c in found[chapter][1]] == [("shared2020", "\\longcite"),
                                                              ("shared2020", "\\citeauthor*")]
    assert drafts.bibliographies() == {
        str(tmp_path / "notes/notes.md"): [str(tmp_path / "thesis/chapters/aaa-old.bib")],
        str(tmp_path / "thesis/thesis.tex"): [str(tmp_path / "thesis/references.bib")],
    }
    # an open, edited preamble changes how the chapter on disk is read
    preamble = str(tmp_path / "thesis/preamble.tex")
    found = drafts.citations({preamble: "\\bibliography{references}\n"})
    assert [c.command for c in found[chapter][1]] == ["\\citeauthor*"]
