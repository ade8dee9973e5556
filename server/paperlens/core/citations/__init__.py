"""Find citation keys in LaTeX, Markdown (Pandoc), Typst and Org buffers.

Pure Python (only the standard ``re`` module); no protocol types.  Every public function
takes the whole buffer as a ``str`` and works in code-point offsets, the same unit as
:class:`~paperlens.core.models.Span`.  Import the package (``from paperlens.core import
citations``); the names below are its public API, whichever module they live in.

How it works
------------
1. *Masking* (:mod:`.masking`).  Regions in which citations do not count (LaTeX ``%``
   comments, Markdown code fences / code spans / HTML comments / autolinks, Typst raw text
   and comments, Org source blocks and comment lines) are overwritten with spaces, newlines
   kept.  The masked copy has exactly the same length as the original, so every offset
   found in it is an offset into the original text.
2. *Scanning* (:mod:`.scanning`, and one module a syntax: :mod:`.latex`, :mod:`.markdown`,
   :mod:`.typst`, :mod:`.org`).  Precompiled, backtracking-safe regular expressions find
   the citing syntax in the masked copy.  Key text is always sliced from the original
   buffer, so ``text[span.start:span.end] == key`` holds by construction.
3. *Windows*.  Whether a key is a key depends only on the text around it, from the start
   of its command to the end of its key group, a few hundred characters at most (a LaTeX
   comment reaches to the end of its line; a Markdown code fence can mask the rest of the
   document, which is why the mask is always computed as a whole, or line by line for
   LaTeX).  So the questions about the cursor (:mod:`.cursor`: :func:`citation_at`,
   :func:`completion_context`, :func:`insertion`) read a window around it, and
   :class:`CitationScan` (:mod:`.incremental`) keeps a document's keys across its edits,
   rescanning only a window around what changed: in a 2 MB draft a keystroke or a hover
   costs what a page costs.  Windows reach :data:`REACH` characters beyond what they must
   decide, more than any citation spans (a citation whose options and keys run over more
   than that, without a paragraph break, is the only thing a window can read wrongly).

Besides: :mod:`.languages` (which syntax a document uses), :mod:`.latex_macros` (the
user's own LaTeX citation commands), :mod:`.bibliographies` (the ``.bib`` files a document
names), :mod:`.common` (what the modules share).

Nothing here raises on odd input: unknown languages, non-``str`` arguments and
out-of-range offsets give ``[]`` or ``None``.
"""
from paperlens.core.models import CitationKey

from .bibliographies import bibliography_files, latex_bibliography_names
from .common import REACH, CompletionContext, Insertion
from .cursor import citation_at, completion_context, insertion
from .incremental import CitationScan, common_affixes
from .languages import LANGUAGES, language_for
from .latex import LatexMacro
from .latex_macros import MacroDefinition, citation_macros, latex_macro_definitions
from .masking import masked_text
from .scanning import find_citations, work_done

__all__ = [
    "LANGUAGES",
    "REACH",
    "CitationKey",
    "CitationScan",
    "CompletionContext",
    "Insertion",
    "LatexMacro",
    "MacroDefinition",
    "bibliography_files",
    "citation_at",
    "citation_macros",
    "common_affixes",
    "completion_context",
    "find_citations",
    "insertion",
    "language_for",
    "latex_bibliography_names",
    "latex_macro_definitions",
    "masked_text",
    "work_done",
]
