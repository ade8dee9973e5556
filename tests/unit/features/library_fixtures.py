"""Fixture texts the feature tests share: a .bib file and a library paper citing two of its
entries (its reference list is far enough from its first page that it joins no entry)."""
from __future__ import annotations

REFS_BIB = r"""%! refs.bib
@article{vaswani2017,
  title={Attention is all you need},
  author={Vaswani, Ashish and Shazeer, Noam},
  year={2017},
  journal={NeurIPS},
  abstract={The dominant sequence transduction models are based on recurrent networks. We propose the Transformer.},
}
@article{devlin2019,
  title={BERT: Pre-training of deep bidirectional transformers for language understanding},
  author={Devlin, Jacob and Chang, Ming-Wei},
  year={2019},
  doi={10.18653/v1/N19-1423},
}
"""

FILLER = "\n".join(
    f"Passage {n} of the method: sparse indexes are cheap to build, easy to inspect and quick to query."
    for n in range(20))

PAPER = rf"""%! papers/retrieval-notes.txt
Sparse Passage Retrieval for Reading Assistants
Mira Okafor
Abstract
Reading assistants must find the few passages that matter in a paper.
1. Introduction
Since the Transformer [1], most systems embed passages with an encoder [1, 2].
Sparse retrieval [3] has none of these drawbacks.
2. Method
{FILLER}
References
[1] A. Vaswani and N. Shazeer. Attention is all you need. In NeurIPS, 2017.
[2] Jacob Devlin and Ming-Wei Chang. BERT: Pre-training of deep bidirectional transformers for language understanding. In NAACL, 2019.
[3] Stephen Robertson. The probabilistic relevance framework: BM25 and beyond. 2009.
"""


def citing_paper(name: str, title: str, authors: str, year: int, *entries: str) -> str:
    """A fixture file: a library paper (text) of ``year`` whose reference list is ``entries``
    (``[1] ...`` lines), far enough from its first page that it joins no .bib entry."""
    refs = "\n".join(entries)
    return f"""%! papers/{name}.txt
{title}
{authors}1
1University of Testing
Preprint, {year}.
Abstract
We study things in {name}.
1. Introduction
The Transformer [1] is everywhere.
2. Method
{FILLER}
References
{refs}
"""


CITES_VASWANI = "[1] A. Vaswani and N. Shazeer. Attention is all you need. In NeurIPS, 2017."
