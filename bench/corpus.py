"""Deterministic benchmark corpus: a researcher's project folder with N papers.

    python bench/corpus.py --papers 1000 [--seed 42] [--pdf-share 0.05] [--force]

Built from the seed papers (``../shared/seeds``) read with paperlens' own parser and recombined,
cached under ``bench/.cache/corpus-<N>-s<seed>-p<pdf share>/``:

    library/library.bib     one entry per paper: authors from pools of first and last names
                            (accents included, some written as LaTeX accents), titles spliced from
                            seed-title words around a unique method name, CVPR/ICCV/NeurIPS/...
                            venues, Better-BibTeX-style unique keys, abstracts made of shuffled
                            seed-abstract sentences, a ``file`` field for most entries
    library/papers/*.txt    full texts as text extractions (title, authors, affiliation,
                            Abstract, numbered sections of seed paragraphs, a reference list
                            citing other papers of the library and real seed references)
    library/papers/*.pdf    the same kind of paper as a PDF for ``pdf_share`` of the papers
    library/draft.tex       a LaTeX draft citing 50 keys (``\\bibliography{library}``)
    library/draft.md        a Pandoc Markdown draft citing 50 keys (``bibliography: library.bib``)
    manifest.json           keys, cited keys, sizes (MB of text), search checks
                            (query -> expected paper) and topic queries

Paper ``i`` depends only on ``(seed, i)`` (and on the method names drawn for all papers), so
the same arguments give byte-identical files.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
CACHE = ROOT / "bench" / ".cache"
VERSION = 3

FIRST_NAMES = [
    "José", "María", "Zoë", "Björn", "Søren", "Łukasz", "Jiří", "François", "Hélène", "João",
    "Müge", "Çağrı", "İlker", "Rémi", "Noémie", "Agnès", "Chloé", "Jürgen", "Åsa", "Øystein",
    "Maël", "Ramón", "Iñaki", "Dóra", "Zsófia", "Ştefan", "Radosław", "Małgorzata", "Sébastien",
    "Andrés", "Inês", "Gonçalo", "Thắng", "Wei", "Xin", "Yu", "Jun", "Hao", "Ming", "Jing",
    "Yuki", "Hiroshi", "Kenji", "Min-jun", "Ji-woo", "Priya", "Arjun", "Rahul", "Ananya",
    "Mohamed", "Ahmed", "Fatima", "Omar", "Leila", "David", "Sarah", "Michael", "Emily", "James",
    "Anna", "Daniel", "Laura", "Thomas", "Julia", "Lucas", "Sofia", "Matteo", "Giulia", "Luca",
    "Elena", "Ivan", "Olga", "Dmitry", "Katarzyna", "Pieter", "Sanne", "Lars", "Ingrid", "Kwame",
    "Amara", "Tunde", "Chidi", "Yiwei", "Xiang", "Shengyu", "Zhenyu", "Qian", "Ruoxi", "Haoran",
]
LAST_NAMES = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
    "Ma", "Zhu", "Hu", "Guo", "Lin", "He", "Gao", "Luo", "Nguyễn", "Trần", "Lê", "Phạm", "Kim",
    "Lee", "Park", "Choi", "Tanaka", "Suzuki", "Satō", "Watanabe", "Müller", "Schäfer", "Groß",
    "Köhler", "Weiß", "Jäger", "Schmidt", "Fischer", "García", "Martínez", "Rodríguez",
    "Fernández", "López", "Núñez", "Peña", "Gómez", "Muñoz", "Álvarez", "Dubois", "Lefèvre",
    "Moreau", "Girard", "Bernard", "Rossi", "Ferrari", "Esposito", "Bianchi", "Romano", "Silva",
    "Gonçalves", "Araújo", "Sørensen", "Jørgensen", "Åberg", "Lindqvist", "Nowak", "Kowalski",
    "Wiśniewski", "Dvořák", "Novák", "Horváth", "Kovačević", "Popescu", "Yılmaz", "Öztürk",
    "Çelik", "Şahin", "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans",
    "Thompson", "Patel", "Sharma", "Gupta", "Singh", "Kumar", "Iyer", "Hassan", "Ali", "Khan",
    "Haddad", "Cohen", "Levi", "Friedman", "Ivanov", "Petrov", "Smirnov", "Okafor", "Mensah",
    "van der Berg", "de Vries", "van Dijk", "De la Torre", "O'Brien", "McAllister", "El Amrani",
    "Ben-David", "Potamias", "Escalera", "Decencière", "Poirier",
]
AFFILIATIONS = [
    "University of Cambridge", "ETH Zürich", "Tsinghua University", "Peking University",
    "Max Planck Institute for Informatics", "Inria, Université Grenoble Alpes",
    "Technical University of Munich", "University of Tokyo", "KAIST", "Carnegie Mellon University",
    "Stanford University", "Imperial College London", "Universitat de Barcelona",
    "Shanghai AI Laboratory", "Microsoft Research Asia", "Google Research", "Meta AI",
    "NVIDIA Research", "Universidade de São Paulo", "Indian Institute of Science", "EPFL",
    "University of Amsterdam", "KTH Royal Institute of Technology", "Technion",
]
# (short name, booktitle or journal, entry type)
VENUES = [
    ("CVPR", "Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition ({CVPR})", "inproceedings"),
    ("ICCV", "Proceedings of the IEEE/CVF International Conference on Computer Vision ({ICCV})", "inproceedings"),
    ("ECCV", "European Conference on Computer Vision ({ECCV})", "inproceedings"),
    ("NeurIPS", "Advances in Neural Information Processing Systems", "inproceedings"),
    ("ICLR", "International Conference on Learning Representations", "inproceedings"),
    ("ICML", "Proceedings of the International Conference on Machine Learning", "inproceedings"),
    ("AAAI", "Proceedings of the AAAI Conference on Artificial Intelligence", "inproceedings"),
    ("MICCAI", "Medical Image Computing and Computer Assisted Intervention ({MICCAI})", "inproceedings"),
    ("WACV", "IEEE/CVF Winter Conference on Applications of Computer Vision ({WACV})", "inproceedings"),
    ("BMVC", "British Machine Vision Conference ({BMVC})", "inproceedings"),
    ("TPAMI", "IEEE Transactions on Pattern Analysis and Machine Intelligence", "article"),
    ("IJCV", "International Journal of Computer Vision", "article"),
    ("arXiv", "arXiv preprint", "misc"),
]
VENUE_WEIGHTS = [22, 14, 10, 12, 8, 6, 4, 5, 4, 3, 4, 3, 5]
NAME_PARTS = [
    "Gaze", "Lite", "Neuro", "Flux", "Sparse", "Dense", "Mesh", "Point", "Diff", "Motion",
    "Sign", "Radar", "Sketch", "Geo", "Prompt", "Vox", "Splat", "Nav", "Occ", "Fusion", "Former",
    "Net", "GAN", "NeRF", "Depth", "Pose", "Scene", "Tex", "Seg", "Clip", "Align", "Track",
    "Flow", "Morph", "Warp", "Lumi", "Opti", "Hyper", "Meta", "Omni", "Uni", "Cross", "Mono",
    "Stereo", "Graph", "Edge", "Token", "Mask", "Patch", "Region", "Sonic", "Helio", "Quanta",
    "Kine", "Sculpt", "Atlas", "Prism", "Vista", "Echo", "Pixel",
]
TOPIC_QUERIES = [
    "diffusion model", "point cloud registration", "sign language production", "gaze estimation",
    "radar object detection", "semantic segmentation", "self-supervised learning",
    "positional encoding", "zero-shot", "robot navigation", "foundation models", "human motion",
]
FUNCTION_WORDS = {"a", "an", "the", "of", "for", "in", "on", "to", "from", "with", "via", "by",
                  "using", "towards", "toward", "into", "through", "and", "is", "are", "at"}
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE",
                       "đ": "d", "Đ": "D", "ı": "i", "œ": "oe"})
_LATEX_ACCENTS = {"\u0301": "'", "\u0300": "`", "\u0308": '"', "\u0302": "^", "\u0303": "~",
                  "\u0327": "c", "\u030c": "v", "\u0306": "u", "\u030a": "r"}
_WATERMARK = re.compile(r"This CVPR paper is the Open Access version.*?available on IEEE Xplore\.\s*\d*\s*",
                        re.DOTALL)
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def fold(s: str) -> str:
    """ASCII letters and digits only (Better BibTeX keys, file names)."""
    s = unicodedata.normalize("NFKD", s.translate(_FOLD))
    return "".join(c for c in s if c.isascii() and c.isalnum())


def latex_name(s: str) -> str:
    """``Müller`` -> ``M{\\"u}ller`` (what older BibTeX exports write)."""
    out = []
    for ch in s:
        d = unicodedata.normalize("NFD", ch)
        if len(d) == 2 and d[1] in _LATEX_ACCENTS and d[0].isascii():
            out.append("{\\" + _LATEX_ACCENTS[d[1]] + ("{" + d[0] + "}" if _LATEX_ACCENTS[d[1]].isalpha() else d[0]) + "}")
        else:
            out.append(ch)
    return "".join(out)


def wrap(text: str, width: int = 62) -> list[str]:
    lines, cur, n = [], [], 0
    for w in text.split():
        if cur and n + 1 + len(w) > width:
            lines.append(" ".join(cur))
            cur, n = [w], len(w)
        else:
            cur.append(w)
            n += len(w) + (1 if n else 0)
    if cur:
        lines.append(" ".join(cur))
    return lines


# --- seed material --------------------------------------------------------------------------

@dataclass
class Material:
    titles: list[str] = field(default_factory=list)
    abstract_sentences: list[str] = field(default_factory=list)
    intro: list[str] = field(default_factory=list)
    conclusion: list[str] = field(default_factory=list)
    sections: list[tuple[str, list[str]]] = field(default_factory=list)   # (heading, paragraphs)
    references: list[str] = field(default_factory=list)
    vocabulary: set[str] = field(default_factory=set)


def load_material(seeds: Path = SEEDS) -> Material:
    """Sections, abstracts, titles and reference texts of the seed papers (paperlens' parser)."""
    from paperlens.core.parse import parse_file

    m = Material()
    for f in sorted((seeds / "cvpr2024").glob("*.txt")):
        res = parse_file(f)
        paper = res.papers[0]
        m.titles.append(paper.title)
        m.abstract_sentences += [s for s in _SENT.split(" ".join(paper.abstract.split())) if len(s) > 30]
        m.references += [r.text for r in paper.references if len(r.text) > 40]
        current: tuple[str, list[str]] | None = None
        for p in res.passages:
            if p.section == "abstract":
                continue
            text = " ".join(_WATERMARK.sub("", p.text).split())
            m.vocabulary.update(w.lower() for w in re.findall(r"[A-Za-z]+", text))
            heading = re.sub(r"^\d+(\.\d+)*\.?\s*", "", p.section).strip()
            junk = (not heading or not heading[:1].isupper() or len(heading) > 60
                    or not re.search(r"[a-z]{3}", heading) or "." in heading)
            if len(text) < 120:
                continue
            if junk and current is not None:
                current[1].append(text)
                continue
            low = heading.lower()
            if low.startswith("introduction"):
                m.intro.append(text)
            elif low.startswith(("conclusion", "discussion")):
                m.conclusion.append(text)
            elif low.startswith(("acknowledg", "references")):
                continue
            else:
                if current is None or current[0] != heading:
                    current = (heading, [])
                    m.sections.append(current)
                current[1].append(text)
    table = seeds / "iccv2023-medical-papers-table.md"
    if table.is_file():
        for paper in parse_file(table).papers:
            if paper.title:
                m.titles.append(paper.title)
            if paper.abstract:
                m.abstract_sentences += [s for s in _SENT.split(" ".join(paper.abstract.split())) if len(s) > 30]
    m.sections = [s for s in m.sections if s[1]]
    return m


# --- papers -------------------------------------------------------------------------------------

@dataclass
class GenPaper:
    i: int
    key: str
    name: str
    title: str
    desc: str                 # the title without the method name
    authors: list[tuple[str, str]]   # (first, last)
    year: int
    venue: int                # index into VENUES
    abstract: str
    affiliation: str
    sections: list[tuple[str, str]] = field(default_factory=list)    # (heading, body: paragraphs \n\n)
    references: list[str] = field(default_factory=list)
    fmt: str = "txt"          # "txt" | "pdf"
    file_field: str = ""      # how the bib entry names the file ("" when the entry has none)
    doi: str = ""
    latex_authors: bool = False

    @property
    def rel(self) -> str:
        return f"papers/{self.key}.{self.fmt}"


def method_names(n: int, seed: int, vocabulary: set[str]) -> list[str]:
    rng = random.Random(f"{seed}:names")
    out, seen = [], set()
    while len(out) < n:
        k = 2 if rng.random() < 0.7 else 3
        name = "".join(rng.choice(NAME_PARTS) for _ in range(k))
        if rng.random() < 0.1:
            name += str(rng.randint(2, 9))
        low = name.lower()
        if low in seen or low in vocabulary or len(set(re.findall(r"[A-Z][a-z]*", name))) < 2:
            continue
        seen.add(low)
        out.append(name)
    return out


def _title_desc(rng: random.Random, titles: list[str]) -> str:
    a, b = rng.sample(titles, 2)
    a = a.split(":", 1)[-1].split()
    b = b.split(":", 1)[-1].split()
    ka = rng.randint(2, max(2, min(len(a) - 1, 6)))
    kb = rng.randint(1, max(1, len(b) - 3))
    words = a[:ka] + b[kb:]
    while words and words[-1].lower() in FUNCTION_WORDS:
        words.pop()
    return " ".join(words[:14])


def _key_base(last: str, year: int, desc: str) -> str:
    surname = fold(last.split()[-1]).lower() or "anon"
    first = next((fold(w).lower() for w in re.findall(r"[^\W_]+", desc) if w.lower() not in FUNCTION_WORDS
                  and fold(w)), "paper")
    return f"{surname}{year}{first}"


def make_papers(n: int, seed: int, pdf_share: float, m: Material) -> list[GenPaper]:
    names = method_names(n, seed, m.vocabulary)
    papers: list[GenPaper] = []
    taken: set[str] = set()
    n_pdf = round(n * pdf_share)
    pdf_rng = random.Random(f"{seed}:pdf")
    pdf_ids = set(pdf_rng.sample(range(n), n_pdf)) if n_pdf else set()
    for i in range(n):
        rng = random.Random(f"{seed}:{i}")
        name = names[i]
        desc = _title_desc(rng, m.titles)
        title = f"{name}: {desc}" if rng.random() < 0.65 else f"{desc} with {name}"
        k = rng.choices([1, 2, 3, 4, 5, 6, 8], [5, 15, 25, 25, 15, 10, 5])[0]
        authors = [(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)) for _ in range(k)]
        year = rng.choices(range(2012, 2025), [1, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10])[0]
        venue = rng.choices(range(len(VENUES)), VENUE_WEIGHTS)[0]
        base = _key_base(authors[0][1], year, title)
        key, suffix = base, 0
        while key in taken:
            key = base + "abcdefghijklmnopqrstuvwxyz"[suffix % 26] * (1 + suffix // 26)
            suffix += 1
        taken.add(key)
        sents = rng.sample(m.abstract_sentences, rng.randint(4, 7))
        sents.insert(rng.randint(1, min(3, len(sents))),
                     f"We call our approach {name}, and evaluate it on {rng.randint(2, 6)} benchmarks.")
        p = GenPaper(i=i, key=key, name=name, title=title, desc=desc, authors=authors, year=year,
                     venue=venue, abstract=" ".join(sents), affiliation=rng.choice(AFFILIATIONS),
                     fmt="pdf" if i in pdf_ids else "txt", latex_authors=rng.random() < 0.3)
        # sections: introduction, 7-11 seed sections, conclusion; the method name in a few places
        intro = rng.sample(m.intro, min(len(m.intro), rng.randint(3, 6)))
        intro[0] = intro[0] + f" In this paper we propose {name}."
        secs = [("Introduction", intro)]
        for heading, paras in rng.sample(m.sections, rng.randint(7, 11)):
            paras = paras[:]
            rng.shuffle(paras)
            secs.append((heading, paras[: rng.randint(2, 8)]))
        secs[1][1][0] = f"{name} builds on this idea. " + secs[1][1][0]
        secs.append(("Conclusion", [rng.choice(m.conclusion) + f" {name} is available to the community."]))
        p.sections = [(h, "\n\n".join(ps)) for h, ps in secs]
        papers.append(p)
    # reference lists (other papers of the library and real seed references), DOIs, file fields
    for p in papers:
        rng = random.Random(f"{seed}:{p.i}:refs")
        refs = []
        for _ in range(rng.randint(15, 40)):
            if n > 1 and rng.random() < 0.4:
                q = papers[rng.randrange(n)]
                if q.i == p.i:
                    continue
                who = ", ".join(f"{f} {l}" for f, l in q.authors[:4]) + (" et al" if len(q.authors) > 4 else "")
                refs.append(f"{who}. {q.title}. In {VENUES[q.venue][1].replace('{', '').replace('}', '')}, "
                            f"{q.year}.")
            else:
                refs.append(rng.choice(m.references))
        p.references = refs
        if rng.random() < 0.5:
            p.doi = f"10.{rng.choice([1109, 1007, 1145, 48550])}/bench.{p.year}.{p.i:05d}"
        r = rng.random()
        if r < 0.55:
            p.file_field = f"Full Text {p.fmt.upper()}:{p.rel}:application/{'pdf' if p.fmt == 'pdf' else 'text'}"
        elif r < 0.85:
            p.file_field = p.rel
        # else: no file field; the text is linked to its entry by title (or DOI)
    return papers


def paper_text(p: GenPaper) -> str:
    authors = ", ".join(f"{f} {l}" for f, l in p.authors)
    out = [p.title, authors, p.affiliation, f"{VENUES[p.venue][0]} {p.year}." + (f" doi:{p.doi}" if p.doi else ""),
           "Abstract", *wrap(p.abstract)]
    for k, (h, body) in enumerate(p.sections, 1):
        out.append(f"{k}. {h}")
        for para in body.split("\n\n"):
            out += wrap(para)
    out.append("References")
    for k, r in enumerate(p.references, 1):
        lines = wrap(f"[{k}] {r}")
        out += lines
    return "\n".join(out) + "\n"


def _bib_escape(s: str) -> str:
    return s.replace("&", "\\&").replace("%", "\\%").replace("#", "\\#").replace("_", "\\_")


def bib_entry(p: GenPaper) -> str:
    short, full, etype = VENUES[p.venue]

    def person(f: str, l: str) -> str:
        if p.latex_authors:
            f, l = latex_name(f), latex_name(l)
        return f"{{{l}}}, {f}" if " " in l else f"{l}, {f}"

    title = re.sub(rf"\b{re.escape(p.name)}\b", "{" + p.name + "}", _bib_escape(p.title), count=1)
    fields = [("title", "{" + title + "}"), ("author", "{" + " and ".join(person(f, l) for f, l in p.authors) + "}")]
    if etype == "article":
        fields += [("journal", "{" + full + "}"), ("volume", f"{{{p.year - 1978}}}")]
    elif etype == "misc":
        fields += [("eprint", f"{{{p.year % 100:02d}{(p.i % 12) + 1:02d}.{p.i:05d}}}"), ("archiveprefix", "{arXiv}")]
    else:
        fields.append(("booktitle", "{" + full + "}"))
    fields.append(("year", f"{{{p.year}}}"))
    if etype != "misc":
        fields.append(("pages", f"{{{100 + p.i % 900}--{108 + p.i % 900}}}"))
    if p.doi:
        fields.append(("doi", "{" + p.doi + "}"))
    fields.append(("abstract", "{" + _bib_escape(p.abstract) + "}"))
    fields.append(("keywords", "{" + ", ".join(sorted({p.name.lower(), short.lower()})) + "}"))
    if p.file_field:
        fields.append(("file", "{" + p.file_field + "}"))
    body = ",\n".join(f"\t{k} = {v}" for k, v in fields)
    return f"@{etype}{{{p.key},\n{body},\n}}\n"


def _pdf_job(args) -> tuple[str, int]:
    path, title, authors, abstract, sections, references, columns = args
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.pdfs import latin1, make_paper_pdf

    make_paper_pdf(Path(path), title=latin1(title), authors=[latin1(a) for a in authors],
                   abstract=latin1(abstract), sections=[(latin1(h), latin1(b)) for h, b in sections],
                   references=[latin1(r) for r in references], columns=columns)
    from paperlens.core.parse.pdf import extract_pages

    try:
        text_bytes = sum(len(t.encode("utf-8")) for t in extract_pages(Path(path)))
    except Exception:
        text_bytes = 0
    return path, text_bytes


def drafts(papers: list[GenPaper], m: Material, seed: int) -> tuple[str, str, list[str]]:
    rng = random.Random(f"{seed}:drafts")
    cited = [p.key for p in rng.sample(papers, min(50, len(papers)))]
    sentences = [s for para in m.intro for s in _SENT.split(para) if 40 < len(s) < 300 and "[" not in s]
    commands = ["\\cite", "\\citep", "\\citet", "\\parencite", "\\citep"]
    tex = ["\\documentclass[11pt]{article}", "\\usepackage[utf8]{inputenc}", "\\usepackage[round]{natbib}",
           "\\title{A Survey Draft}", "\\author{A. Student}", "\\begin{document}", "\\maketitle", "",
           "\\section{Introduction}"]
    md = ["---", "title: Reading notes", "bibliography: library.bib", "---", "", "# Notes", ""]
    k = 0
    para_t, para_m = [], []
    first = True
    while k < len(cited):
        n = 1 if first else rng.choice([1, 1, 2, 3])
        group, k = cited[k:k + n], k + n
        s = rng.choice(sentences).rstrip(".")
        cmd = "\\cite" if first else rng.choice(commands)
        para_t.append(f"{s} {cmd}{{{','.join(group)}}}.")
        para_m.append(f"{s} [{'; '.join('@' + g for g in group)}].")
        first = False
        if len(para_t) >= 4:
            tex += para_t + [""]
            md += para_m + [""]
            if rng.random() < 0.3:
                tex.append(f"\\section{{{rng.choice(m.sections)[0]}}}")
                md.append(f"## {rng.choice(m.sections)[0]}")
            para_t, para_m = [], []
    tex += para_t + ["", "\\bibliographystyle{plainnat}", "\\bibliography{library}", "\\end{document}", ""]
    md += para_m + [""]
    return "\n".join(tex), "\n".join(md), cited


def corpus_dir(n: int, seed: int = 42, pdf_share: float = 0.05, cache: Path = CACHE) -> Path:
    return Path(cache) / f"corpus-{n}-s{seed}-p{pdf_share:g}"


def build(n: int, seed: int = 42, pdf_share: float = 0.05, seeds: Path = SEEDS, cache: Path = CACHE,
          force: bool = False, jobs: int = 2, log=lambda msg: print(msg, file=sys.stderr)) -> dict:
    """Build (or reuse) the corpus; returns its manifest (with ``root`` and ``library`` paths)."""
    dest = corpus_dir(n, seed, pdf_share, cache)
    mpath = dest / "manifest.json"
    ident = {"version": VERSION, "papers": n, "seed": seed, "pdf_share": pdf_share}
    if mpath.exists() and not force:
        data = json.loads(mpath.read_text(encoding="utf-8"))
        if data.get("ident") == ident and data.get("complete"):
            return data
    t0 = time.perf_counter()
    shutil.rmtree(dest, ignore_errors=True)
    lib = dest / "library"
    (lib / "papers").mkdir(parents=True)
    m = load_material(seeds)
    papers = make_papers(n, seed, pdf_share, m)
    log(f"corpus: {n} papers planned ({sum(p.fmt == 'pdf' for p in papers)} PDFs)")
    txt_bytes = 0
    pdf_jobs = []
    for p in papers:
        if p.fmt == "txt":
            data = paper_text(p).encode("utf-8")
            (lib / p.rel).write_bytes(data)
            txt_bytes += len(data)
        else:
            pdf_jobs.append((str(lib / p.rel), p.title, [f"{f} {l}" for f, l in p.authors], p.abstract,
                             p.sections, p.references, 1 + p.i % 2))
    bib = "".join(bib_entry(p) + "\n" for p in papers).encode("utf-8")
    (lib / "library.bib").write_bytes(bib)
    tex, md, cited = drafts(papers, m, seed)
    (lib / "draft.tex").write_text(tex, encoding="utf-8")
    (lib / "draft.md").write_text(md, encoding="utf-8")
    pdf_text = 0
    if pdf_jobs:
        t = time.perf_counter()
        with ProcessPoolExecutor(max_workers=max(1, jobs)) as ex:
            for done, (_, nbytes) in enumerate(ex.map(_pdf_job, pdf_jobs, chunksize=4), 1):
                pdf_text += nbytes
                if done % 50 == 0 or done == len(pdf_jobs):
                    log(f"corpus: {done}/{len(pdf_jobs)} PDFs ({time.perf_counter() - t:.0f} s)")
    pdf_bytes = sum((lib / p.rel).stat().st_size for p in papers if p.fmt == "pdf")

    # search checks: method names (one rare word) and title phrases unique in the library
    rng = random.Random(f"{seed}:queries")
    sample = rng.sample(papers, min(30, n))
    checks = [{"kind": "method-name", "query": p.name, "expected_key": p.key, "expected_file": p.rel}
              for p in sample[:20]]
    descs: dict[str, int] = {}
    for p in papers:
        descs[p.desc.lower()] = descs.get(p.desc.lower(), 0) + 1
    for p in sample[20:]:
        if descs[p.desc.lower()] == 1 and len(p.desc.split()) >= 4:
            checks.append({"kind": "title-phrase", "query": p.desc, "expected_key": p.key,
                           "expected_file": p.rel})
    # a two-letter prefix that starts many keys (completion with a typed prefix)
    counts: dict[str, int] = {}
    for p in papers:
        counts[p.key[:2]] = counts.get(p.key[:2], 0) + 1
    prefix2 = max(sorted(counts), key=lambda k: counts[k])
    data = {
        "ident": ident, "complete": True, "root": str(dest), "library": str(lib),
        "bib": str(lib / "library.bib"), "draft_tex": str(lib / "draft.tex"), "draft_md": str(lib / "draft.md"),
        "papers": n, "pdf_papers": len(pdf_jobs), "txt_papers": n - len(pdf_jobs),
        "keys": [p.key for p in papers], "files": {p.key: p.rel for p in papers},
        "cited_keys": cited, "hover_key": cited[0], "prefix2": prefix2, "prefix2_keys": counts[prefix2],
        "search_checks": checks, "topic_queries": TOPIC_QUERIES,
        "sizes": {"txt_mb": round(txt_bytes / 1e6, 2), "pdf_text_mb": round(pdf_text / 1e6, 2),
                  "pdf_file_mb": round(pdf_bytes / 1e6, 2), "bib_mb": round(len(bib) / 1e6, 2),
                  "text_mb": round((txt_bytes + pdf_text + len(bib)) / 1e6, 2)},
        "build_s": round(time.perf_counter() - t0, 1),
    }
    mpath.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    log(f"corpus: built in {data['build_s']} s: {data['sizes']}")
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--papers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--pdf-share", type=float, default=0.05)
    ap.add_argument("--seeds", default=str(SEEDS))
    ap.add_argument("--cache", default=str(CACHE))
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args()
    data = build(args.papers, args.seed, args.pdf_share, Path(args.seeds), Path(args.cache), args.force)
    print(json.dumps({k: data[k] for k in ("root", "papers", "pdf_papers", "sizes", "build_s", "prefix2")}, indent=2))


if __name__ == "__main__":
    main()
