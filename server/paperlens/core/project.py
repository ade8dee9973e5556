"""LaTeX projects: the root document of a file, and what the whole project names.

A chapter (``chapters/epilogue.tex``) usually has no ``\\bibliography`` of its own and uses
commands defined in a preamble somewhere else: the document that includes it decides.  For a
LaTeX file this module finds

* its **root** document:

  1. the ``% !TEX root = ../thesis.tex`` magic comment (TeXShop, TeXstudio, LaTeX Workshop),
     relative to the file's folder;
  2. for a subfile (``\\documentclass[../main.tex]{subfiles}``) its main document;
  3. a file with ``\\documentclass`` or ``\\begin{document}`` (not a subfile) is its own root;
  4. else a root document whose tree contains the file.  As texlab does, candidates are the
     ``.tex`` files of the file's folder and of every folder above it, up to the workspace or
     paper folder that holds it, plus the LaTeX documents open in the editor;

* the project's **tree**: from the root, ``\\input``, ``\\include``, ``\\subfile``,
  ``\\InputIfFileExists``, ``\\import``/``\\subimport`` (and ``\\inputfrom``...) in document
  order, resolved against the root's folder as LaTeX does (``\\import`` changes the folder for
  what the imported file inputs), ``.tex`` appended when missing; local packages and
  classes (``\\usepackage{mymacros}`` with ``mymacros.sty`` next to the root) are read for
  their command definitions and bibliography.  Cycles and missing files are skipped;

* its **bibliography**: the ``.bib`` files named anywhere in the tree, relative to the
  root's folder, in the order LaTeX reads them; and its **citation commands**: the user's
  ``\\newcommand``/``\\def``/``\\DeclareCiteCommand``... that cite
  (:func:`paperlens.core.citations.citation_macros`).

What is read: open editor buffers first; else regular files (no FIFOs or devices) inside the
allowed folders, symlinks resolved and checked to stay inside, each at most
:data:`MAX_FILE_BYTES`, at most :data:`MAX_FILES` files per resolution.  The facts of a
file are cached by its mtime and size, a resolved project until one of the files or folders
it looked at changes, so a hover costs a few ``stat`` calls.  An editor buffer's facts are
read again only when an edit comes near something that makes one (:func:`rescan`): typing
prose in a 2 MB chapter does not re-read the chapter.
"""
from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional

from paperlens.core import citations
from paperlens.core.corpus import read_regular

__all__ = ["FACT_REACH", "MAX_FILES", "MAX_FILE_BYTES", "Project", "ProjectIndex", "TexFacts", "rescan", "scan"]

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 400            # files looked at by one resolution (buffers, cache hits and reads)
MAX_VISITS = 4000          # steps through the trees of candidate roots, per resolution
MAX_DIR_ENTRIES = 2000     # entries of one folder looked at for candidate roots
MAX_DEPTH = 32             # nesting of \input
MAX_CACHED = 4000          # facts and projects kept in memory

ROOT_SUFFIXES = (".tex", ".ltx")
READ_SUFFIXES = frozenset({".tex", ".ltx", ".sty", ".cls"})

_MAGIC_ROOT = re.compile(r"^[ \t]*%+[ \t]*!\s*tex\s+root\s*=[ \t]*([^\r\n]*?)[ \t]*\r?$", re.I | re.M)
_DOCUMENTCLASS = re.compile(r"\\documentclass(?![A-Za-z@])\s*(?:\[([^\[\]]*)\]\s*)?\{([^{}]*)\}")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_LINK = re.compile(
    r"\\(input|include|subfile|subfileinclude|InputIfFileExists"
    r"|import|subimport|inputfrom|subinputfrom|includefrom|subincludefrom"
    r"|usepackage|RequirePackage)(?![A-Za-z@])\*?"
)
_BRACED = re.compile(r"\s*\{([^{}]*)\}")
_OPTIONS = re.compile(r"\s*\[[^\[\]]*\]")
_BARE_NAME = re.compile(r"[ \t]+([^\s{}%\\]+)")       # \input file (TeX's own syntax)
_IMPORTS = {"import": False, "inputfrom": False, "includefrom": False,
            "subimport": True, "subinputfrom": True, "subincludefrom": True}


# ---------------------------------------------------------------------------------------
# What one file says
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TexFacts:
    """What one LaTeX file says about its project.

    ``items`` in document order: ``("input", name)`` (``\\input``, ``\\include``,
    ``\\subfile``...), ``("import", folder, name, relative_to_current)``,
    ``("package", "name.sty")`` (``\\usepackage``; ``"name.cls"`` for ``\\documentclass``)
    and ``("bib", name)`` (a ``.bib`` file, ``.bib`` appended).
    """

    magic_root: str = ""
    documentclass: str = ""
    class_options: str = ""
    begin_document: bool = False
    items: tuple = ()
    definitions: tuple = ()

    @property
    def is_root(self) -> bool:
        """A document LaTeX compiles (a subfile's root is its main document)."""
        return bool(self.documentclass or self.begin_document) and self.documentclass != "subfiles"

    @property
    def subfiles_main(self) -> str:
        """``main.tex`` of ``\\documentclass[main.tex]{subfiles}``."""
        return self.class_options.strip() if self.documentclass == "subfiles" else ""


def _clean_name(raw: str) -> str:
    name = raw.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].strip()
    if not name or any(ch in name for ch in "#\\{}\n") or "://" in name:
        return ""       # a macro parameter, a command or a URL: nothing to follow
    return name


def scan(text: str) -> TexFacts:
    """Read the facts of one LaTeX file (outside comments; the magic comment is a comment)."""
    if not isinstance(text, str):
        return TexFacts()
    magic = _MAGIC_ROOT.search(text)
    masked = citations.masked_text(text, "latex")
    docclass = _DOCUMENTCLASS.search(masked)
    items: list[tuple[int, tuple]] = []
    for m in _LINK.finditer(masked):
        kind, p = m.group(1), m.end()
        if kind in ("usepackage", "RequirePackage"):
            opt = _OPTIONS.match(masked, p)
            arg = _BRACED.match(masked, opt.end() if opt else p)
            if arg is not None:
                items.extend((m.start(), ("package", n + ".sty"))
                             for n in map(_clean_name, arg.group(1).split(",")) if n)
        elif kind in _IMPORTS:
            folder = _BRACED.match(masked, p)
            name = _BRACED.match(masked, folder.end()) if folder else None
            if name is not None and _clean_name(name.group(1)):
                items.append((m.start(), ("import", folder.group(1).strip(), _clean_name(name.group(1)),
                                          _IMPORTS[kind])))
        else:
            arg = _BRACED.match(masked, p) or (_BARE_NAME.match(masked, p) if kind == "input" else None)
            name = _clean_name(arg.group(1)) if arg is not None else ""
            if name:
                items.append((m.start(), ("input", name)))
    if docclass is not None and _clean_name(docclass.group(2)):
        items.append((docclass.start(), ("package", _clean_name(docclass.group(2)) + ".cls")))
    for at, name in citations.latex_bibliography_names(masked):
        if "://" not in name:
            items.append((at, ("bib", name)))
    items.sort(key=lambda item: item[0])
    return TexFacts(
        magic_root=magic.group(1).strip() if magic else "",
        documentclass=docclass.group(2).strip() if docclass else "",
        class_options=(docclass.group(1) or "") if docclass else "",
        begin_document=_BEGIN_DOCUMENT.search(masked) is not None,
        items=tuple(item for _at, item in items),
        definitions=tuple(citations.latex_macro_definitions(text)),
    )


# Everything that can make a fact, wherever it stands (in comments too, and as a prefix: a
# superset is safe).  An edit with none of these within FACT_REACH characters around it, in the
# text before and after the edit, leaves the facts of the file as they were.
_FACT_MARKS = re.compile(
    r"\\(?:input|include|subfile|subfileinclude|InputIfFileExists|import|subimport|inputfrom"
    r"|subinputfrom|includefrom|subincludefrom|usepackage|RequirePackage|documentclass"
    r"|bibliography|addbibresource|addglobalbib|addsectionbib"
    r"|newcommand|renewcommand|providecommand|DeclareRobustCommand|NewDocumentCommand"
    r"|RenewDocumentCommand|ProvideDocumentCommand|DeclareDocumentCommand|DeclareCiteCommand"
    r"|DeclareMultiCiteCommand|NewCommandCopy|RenewCommandCopy|DeclareCommandCopy|LetLtxMacro"
    r"|let|[gex]?def)(?![A-Za-z])"
    r"|\\begin\s*\{\s*document|(?i:!\s*tex)"
)
# How far a fact reads from its command: a definition's body is at most _MAX_BODY characters
# (core/citations/latex_macros.py), an argument or a list of options much less.
FACT_REACH = 32768


def rescan(old_text: str, old_facts: TexFacts, text: str) -> tuple[TexFacts, bool]:
    """``(facts of text, whether the whole text was read)``: the facts of ``old_text`` when the
    edit that made ``text`` from it is far from anything that makes a fact (the lines
    around it, :data:`FACT_REACH` characters either way in both texts, hold no
    ``\\input``, no definition, no ``\\documentclass``...: typing prose in a thesis), else
    :func:`scan` of ``text``."""
    if not isinstance(old_text, str) or not isinstance(text, str):
        return scan(text), True
    p, s = citations.common_affixes(old_text, text)
    for t, end in ((old_text, len(old_text) - s), (text, len(text) - s)):
        lo = t.rfind("\n", 0, max(0, p - FACT_REACH)) + 1
        nl = t.find("\n", min(len(t), end + FACT_REACH))
        hi = len(t) if nl < 0 else nl
        if _FACT_MARKS.search(t, lo, hi) is not None:
            break
    else:
        return old_facts, False
    return scan(text), True


# ---------------------------------------------------------------------------------------
# A resolved project
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Project:
    """The LaTeX project of a document.

    ``root`` is the root document (the document itself when it stands alone), ``roots``
    every root document found (the first one wins), ``files`` the files of the tree in the
    order LaTeX reads them, ``bib_files`` the absolute paths of the ``.bib`` files they name,
    ``macros`` the project's user-defined citation commands.
    """

    root: str
    roots: tuple = ()
    files: tuple = ()
    bib_files: tuple = ()
    macros: frozenset = frozenset()


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _disk_stamp(path: str):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, stat.S_IFMT(st.st_mode))


@dataclass
class _Tree:
    files: list = field(default_factory=list)
    bibs: list = field(default_factory=list)
    definitions: list = field(default_factory=list)


class _Resolution:
    """One resolution: reads through the index's caches, records what it looked at."""

    def __init__(self, index: "ProjectIndex", open_docs: Mapping[str, str], path: str, text: str,
                 extra_folder: Optional[str]) -> None:
        self.index = index
        self.open_docs = open_docs
        self.path, self.text = path, text
        self.extra_folder = extra_folder
        self.open_tex = frozenset(p for p in open_docs if p.lower().endswith(ROOT_SUFFIXES))
        self.deps: dict[str, tuple] = {}       # path -> ("buf", facts) | ("disk", stamp)
        self.dirs: dict[str, tuple] = {}       # folder -> stamp
        self.known: dict[str, tuple] = {}      # every dependency met in this resolution
        self.facts_of: dict[str, Optional[TexFacts]] = {}
        self.trees: dict[tuple, _Tree] = {}
        self.targets: dict[tuple, Optional[str]] = {}
        self.visits = 0
        self.max_files = MAX_FILES

    # -- reading -------------------------------------------------------------------------
    def facts(self, path: str) -> Optional[TexFacts]:
        if path in self.facts_of:
            if path in self.known:
                self.deps[path] = self.known[path]
            return self.facts_of[path]
        if len(self.facts_of) >= self.max_files:
            return None
        found = self._facts(path)
        self.facts_of[path] = found
        return found

    def _depend(self, path: str, stamp: tuple) -> None:
        self.deps[path] = self.known[path] = stamp

    def _facts(self, path: str) -> Optional[TexFacts]:
        if path == self.path:
            return self.index._facts_of_text(path, self.text)
        text = self.open_docs.get(path)
        if text is not None:
            facts = self.index._facts_of_text(path, text)
            self._depend(path, ("buf", facts))   # typing in a buffer changes no facts mostly
            return facts
        if os.path.splitext(path)[1].lower() not in READ_SUFFIXES or not self.allowed(path):
            return None
        self._depend(path, ("disk", _disk_stamp(path)))
        return self.index._facts_of_file(path)

    def allowed(self, path: str) -> bool:
        """Inside an allowed folder, lexically and once symlinks are resolved."""
        folders = self.index._folders
        extra = [self.extra_folder] if self.extra_folder else []
        if not any(_within(path, f) for f in [*folders, *self.index._real_folders, *extra]):
            return False
        real = os.path.realpath(path)
        real_extra = [os.path.realpath(self.extra_folder)] if self.extra_folder else []
        return any(_within(real, f) for f in [*self.index._real_folders, *real_extra])

    def tex_files_in(self, folder: str) -> list[str]:
        """The ``.tex`` files of one folder (not recursive), by name."""
        try:
            self.dirs[folder] = _disk_stamp(folder)
            names = []
            with os.scandir(folder) as entries:
                for n, entry in enumerate(entries):
                    if n >= MAX_DIR_ENTRIES:
                        break
                    if entry.name.lower().endswith(ROOT_SUFFIXES) and not entry.name.startswith("."):
                        names.append(entry.name)
        except OSError:
            return []
        return [os.path.join(folder, name) for name in sorted(names)]

    # -- the tree of a root ------------------------------------------------------------------
    def tree(self, root: str, root_dir: Optional[str] = None) -> _Tree:
        root_dir = root_dir or os.path.dirname(root)
        key = (root, root_dir)
        if key in self.trees:
            return self.trees[key]
        tree = _Tree()
        self.trees[key] = tree
        visited: set[str] = set()

        def first(name: str, folders: tuple) -> Optional[str]:
            key = (name, folders)
            if key not in self.targets:
                self.targets[key] = self._first_existing(_candidates(name, folders))
            return self.targets[key]

        def visit(path: str, base: str, depth: int) -> None:
            if path in visited or depth > MAX_DEPTH or self.visits >= MAX_VISITS:
                return
            self.visits += 1
            facts = self.facts(path)
            if facts is None:
                return
            visited.add(path)
            tree.files.append(path)
            tree.definitions.extend(facts.definitions)
            here = os.path.dirname(path)
            for item in facts.items:
                kind = item[0]
                if kind == "bib":
                    # biber expands "~"; a relative name is taken from the root's folder
                    bib = os.path.normpath(os.path.join(root_dir, os.path.expanduser(item[1])))
                    if bib not in tree.bibs:
                        tree.bibs.append(bib)
                elif kind == "package":
                    target = first(item[1], (root_dir,))
                    if target is not None:
                        visit(target, base, depth + 1)
                elif kind == "input":
                    target = first(item[1], (base, here) if here != base else (base,))
                    if target is not None:
                        visit(target, base, depth + 1)
                else:                                   # import
                    _kind, folder, name, relative = item
                    new_base = os.path.normpath(os.path.join(base if relative else root_dir, folder))
                    target = first(name, (new_base,))
                    if target is not None:
                        visit(target, new_base, depth + 1)

        visit(root, root_dir, 0)
        return tree

    # -- the root ---------------------------------------------------------------------------
    def roots(self) -> list[str]:
        current = self.path
        seen: set[str] = set()
        for _hop in range(8):
            facts = self.facts(current)
            if facts is None or current in seen:
                break
            seen.add(current)
            pointer = facts.magic_root or facts.subfiles_main
            if pointer:
                target = self._first_existing(_candidates(pointer, [os.path.dirname(current)], keep=True))
                if target is not None and target not in seen:
                    current = target
                    continue
            if facts.is_root:
                return [current]
            break
        return self.parents(current) or [current]

    def _first_existing(self, candidates) -> Optional[str]:
        for cand in candidates:
            if self.facts(cand) is not None:
                return cand
        return None

    def parents(self, path: str) -> list[str]:
        """Root documents whose tree holds ``path``: those of the nearest folder that has
        any, going up from the file's folder to the top allowed folder; else among the
        open LaTeX buffers.  Kept by the index until a file or folder it looked at changes
        (it does not depend on the text of ``path`` itself)."""
        cached = self.index._parents.get(path)
        if cached is not None and cached.open_tex == self.open_tex \
                and self.index._still_valid(cached, self.open_docs):
            self.deps.update(cached.deps)
            self.dirs.update(cached.dirs)
            return list(cached.project)
        outer_deps, outer_dirs = self.deps, self.dirs
        self.deps, self.dirs = {}, {}
        try:
            roots = self._search_parents(path)
        finally:
            found_deps, found_dirs = self.deps, self.dirs
            self.deps, self.dirs = {**outer_deps, **found_deps}, {**outer_dirs, **found_dirs}
        self.index._keep(self.index._parents, path,
                         _Cached(None, self.open_tex, found_deps, found_dirs, tuple(roots)))
        return roots

    def _search_parents(self, path: str) -> list[str]:
        top = self.index._top_folder(path) or self.extra_folder or os.path.dirname(path)
        folder = os.path.dirname(path)
        listed: set[str] = set()
        while True:
            files = self.tex_files_in(folder)
            listed.update(files)
            found = self._roots_holding(path, files)
            if found:
                return found
            if folder == top or not _within(folder, top):
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return self._roots_holding(path, [p for p in sorted(self.open_docs)
                                          if p.lower().endswith(ROOT_SUFFIXES) and p not in listed])

    def fresh_budget(self) -> None:
        """A new budget for building the trees of the roots found (the search may have
        spent its own), which are built again."""
        self.visits = 0
        self.max_files = len(self.facts_of) + MAX_FILES
        self.trees.clear()

    def _roots_holding(self, path: str, candidates: list[str]) -> list[str]:
        found = []
        for cand in candidates:
            if cand == path:
                continue
            facts = self.facts(cand)
            if facts is not None and facts.is_root and path in self.tree(cand).files:
                found.append(cand)
        return found


def _candidates(name: str, folders: Iterable[str], keep: bool = False) -> list[str]:
    """Files LaTeX would try for ``\\input{name}`` in each folder: ``name.tex`` unless the
    name has a LaTeX suffix (``keep``: the name as written first, for magic comments)."""
    suffix = os.path.splitext(name)[1].lower()
    names = [name] if suffix in READ_SUFFIXES else ([name, name + ".tex"] if keep else [name + ".tex"])
    out: list[str] = []
    for folder in folders:
        for n in names:
            cand = os.path.normpath(os.path.join(folder, n))
            if cand not in out:
                out.append(cand)
    return out


# ---------------------------------------------------------------------------------------
# The index: caches shared by every resolution
# ---------------------------------------------------------------------------------------

@dataclass
class _Cached:
    facts: Optional[TexFacts]   # of the document itself: its text matters only through them
    open_tex: frozenset
    deps: dict
    dirs: dict
    project: object             # a Project, or the roots found by a parent search


class ProjectIndex:
    """Resolves the LaTeX project of documents inside ``folders`` (the workspace and paper
    folders: files outside them are never read; a document outside every folder may read its
    own folder)."""

    def __init__(self, folders: Iterable[str] = ()) -> None:
        self._folders = [os.path.normpath(os.path.abspath(str(f))) for f in folders]
        self._real_folders = [os.path.realpath(f) for f in self._folders]
        self._facts: dict[str, tuple] = {}        # path -> (stamp or text, TexFacts)
        self._projects: dict[str, _Cached] = {}
        self._parents: dict[str, _Cached] = {}
        self._lock = threading.Lock()
        self.full_scans = 0                        # buffers read whole for their facts

    @property
    def folders(self) -> list[str]:
        return list(self._folders)

    def _top_folder(self, path: str) -> Optional[str]:
        """The outermost allowed folder holding ``path``."""
        holding = [f for f in self._folders if _within(path, f)]
        return min(holding, key=len) if holding else None

    # -- facts caches -------------------------------------------------------------------------
    def _remember(self, path: str, entry: tuple) -> None:
        if len(self._facts) >= MAX_CACHED:
            self._facts.clear()
        self._facts[path] = entry

    def _facts_of_text(self, path: str, text: str) -> TexFacts:
        """Facts of an editor buffer: an edit of the buffer last seen at ``path`` is read
        around the edit only (:func:`rescan`)."""
        cached = self._facts.get(path)
        if cached is not None and isinstance(cached[0], str):
            if cached[0] is text or cached[0] == text:
                return cached[1]
            facts, whole = rescan(cached[0], cached[1], text)
        else:
            facts, whole = scan(text), True
        self.full_scans += whole
        self._remember(path, (text, facts))
        return facts

    def _facts_of_file(self, path: str) -> Optional[TexFacts]:
        """Facts of a file on disk, already checked to be inside the allowed folders."""
        real = os.path.realpath(path)
        try:
            st = os.stat(real)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._facts.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        text = _read_regular(real)
        if text is None:
            return None
        facts = scan(text)
        self._remember(path, (stamp, facts))
        return facts

    # -- projects -----------------------------------------------------------------------------
    def project(self, path, text: str, open_docs: Optional[Mapping[str, str]] = None) -> Project:
        """The project of the LaTeX document at ``path`` whose current text is ``text``.

        ``open_docs`` maps the paths of the editor's open documents to their text; they are
        read instead of the files on disk.  Never raises: trouble gives a project of the
        document alone.
        """
        path = os.path.normpath(os.path.abspath(str(path)))
        docs = {os.path.normpath(str(p)): t for p, t in (open_docs or {}).items() if isinstance(t, str)}
        with self._lock:
            try:
                return self._project(path, text if isinstance(text, str) else "", docs)
            except (OSError, ValueError, RecursionError):
                return Project(root=path, roots=(path,), files=(path,))

    def _project(self, path: str, text: str, docs: dict[str, str]) -> Project:
        extra = None if self._top_folder(path) else os.path.dirname(path)
        res = _Resolution(self, docs, path, text, extra)
        own = self._facts_of_text(path, text)
        cached = self._projects.get(path)
        if cached is not None and cached.facts == own and cached.open_tex == res.open_tex \
                and self._still_valid(cached, docs):
            return cached.project
        roots = res.roots()
        res.fresh_budget()
        files: list[str] = []
        bibs: list[str] = []
        definitions: list = []
        for root in roots:
            tree = res.tree(root)
            files.extend(f for f in tree.files if f not in files)
            bibs.extend(b for b in tree.bibs if b not in bibs)
            definitions.extend(tree.definitions)
        if path not in files:        # a magic comment naming a root that does not input it
            tree = res.tree(path, os.path.dirname(roots[0]))
            files.extend(f for f in tree.files if f not in files)
            bibs.extend(b for b in tree.bibs if b not in bibs)
            definitions.extend(tree.definitions)
        project = Project(root=roots[0], roots=tuple(roots), files=tuple(files), bib_files=tuple(bibs),
                          macros=citations.citation_macros(definitions))
        self._keep(self._projects, path, _Cached(own, res.open_tex, res.deps, res.dirs, project))
        return project

    @staticmethod
    def _keep(cache: dict, path: str, entry: _Cached) -> None:
        if len(cache) >= MAX_CACHED:
            cache.clear()
        cache[path] = entry

    def _still_valid(self, cached: _Cached, docs: Mapping[str, str]) -> bool:
        for path, (kind, value) in cached.deps.items():
            current = docs.get(path)
            if kind == "buf":
                if current is None or self._facts_of_text(path, current) != value:
                    return False
            elif current is not None or _disk_stamp(path) != value:
                return False
        return all(_disk_stamp(folder) == stamp for folder, stamp in cached.dirs.items())


def _read_regular(path: str) -> Optional[str]:
    """The text of a regular file (never a FIFO, a device or a symbolic link:
    corpus.read_regular), at most MAX_FILE_BYTES, decoded as UTF-8 with replacement."""
    try:
        return read_regular(path, MAX_FILE_BYTES, follow_links=False).decode("utf-8", errors="replace")
    except (OSError, ValueError):
        return None
