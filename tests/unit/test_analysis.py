"""The mixed Chinese/English analyzer, on a real Whoosh index."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from whoosh import fields, index, query
from whoosh.analysis import StemmingAnalyzer
from whoosh.qparser import OrGroup, QueryParser

from paperlens.core.index.segmentation import segment_query
from paperlens.core.index.whoosh.analysis import MixedTokenizer, mixed_analyzer

ZH = ("本文研究医学图像分割与三维场景理解问题，提出一种基于扩散模型的新方法。"
      "该方法利用卷积神经网络提取特征，在多个公开数据集上取得了领先的结果。")
# has 医学 and 图像, never as the phrase 医学图像
ZH2 = "图像生成技术在医学领域中有广泛的应用，但生成的图像质量仍然有限。"
EN = ("We present a diffusion model for medical image segmentation. Segmenting organs in CT "
      "scans remains hard, and our models outperform prior work on 3D visual grounding.")
MIXED = "我们提出了 InstanceRefer 方法用于三维视觉定位 (3D visual grounding)。"
DOCS = {"zh": ZH, "zh2": ZH2, "en": EN, "mixed": MIXED}


def _schema():
    return fields.Schema(id=fields.ID(stored=True, unique=True),
                         body=fields.TEXT(analyzer=mixed_analyzer(), phrase=True, stored=True))


@pytest.fixture
def ixdir(tmp_path):
    d = tmp_path / "ix"
    d.mkdir()
    ix = index.create_in(str(d), _schema())
    with ix.writer() as w:
        for key, text in DOCS.items():
            w.add_document(id=key, body=text)
    ix.close()
    return d


def _ids(ixdir, qstring, group=None):
    ix = index.open_dir(str(ixdir))
    parser = QueryParser("body", ix.schema, **({"group": group} if group else {}))
    with ix.searcher() as s:
        return {hit["id"] for hit in s.search(parser.parse(qstring), limit=None)}


def _texts(text, mode="query", **kw):
    return [t.text for t in mixed_analyzer()(text, mode=mode, **kw)]


# ------------------------------------------------------------------------------ analyzer only

def test_tokens_positions_and_offsets_across_languages():
    toks = [(t.text, t.pos, t.startchar, t.endchar, t.original) for t in
            mixed_analyzer()(MIXED, positions=True, chars=True, keeporiginal=True, mode="query")]
    assert [t[0] for t in toks] == ["我们", "提出", "instanceref", "方法", "用于", "三维", "视觉",
                                    "定位", "3d", "visual", "ground"]        # 了 is a stop word
    assert [t[1] for t in toks] == list(range(len(toks)))                 # sequential positions
    for text, _, sc, ec, original in toks:
        assert MIXED[sc:ec] == original                                   # offsets -> surface form
    # start_char / start_pos are honoured (multi-valued fields)
    shifted = [(t.pos, t.startchar, t.endchar) for t in
               mixed_analyzer()(MIXED, positions=True, chars=True, start_char=100, start_pos=7,
                                mode="query")]
    assert shifted == [(pos + 7, sc + 100, ec + 100) for _, pos, sc, ec, _ in toks]


def test_english_tokens_identical_to_stemming_analyzer():
    text = EN + " e.g. U.S.A. 4*width x_1 naïve Straße 42.5% don't"
    ours = [(t.text, t.pos, t.startchar, t.endchar)
            for t in mixed_analyzer()(text, positions=True, chars=True, mode="index")]
    theirs = [(t.text, t.pos, t.startchar, t.endchar)
              for t in StemmingAnalyzer()(text, positions=True, chars=True, mode="index")]
    assert ours == theirs


def test_cjk_punctuation_separates_and_single_characters_survive():
    assert _texts("一种新的方法，（医学）图像。") == ["一种", "新", "方法", "医学", "图像"]
    assert _texts("InstanceRefer方法") == ["instanceref", "方法"]      # no space needed


def test_subwords_only_when_indexing_and_share_the_position():
    idx = [(t.text, t.pos) for t in mixed_analyzer()("卷积神经网络", positions=True, mode="index")]
    assert idx[:2] == [("卷积", 0), ("神经网络", 1)]
    assert ("网络", 1) in idx and ("神经", 1) in idx
    assert _texts("卷积神经网络") == ["卷积", "神经网络"]
    assert [t.text for t in mixed_analyzer(subwords=False)("卷积神经网络", mode="index")] == \
        ["卷积", "神经网络"]


def test_analyzer_pickles_and_compares():
    a = mixed_analyzer()
    b = pickle.loads(pickle.dumps(a))
    assert a == b and b != mixed_analyzer(subwords=False)
    assert [t.text for t in b(MIXED)] == [t.text for t in a(MIXED)]
    assert pickle.loads(pickle.dumps(_schema())) == _schema()


# ---------------------------------------------------------------------------------- the index

def test_chinese_word_queries_find_the_chinese_doc(ixdir):
    assert _ids(ixdir, "扩散模型") == {"zh"}
    assert _ids(ixdir, "场景理解") == {"zh"}
    assert _ids(ixdir, "网络") == {"zh"}                      # sub-word of 神经网络
    assert _ids(ixdir, "三维") == {"zh", "mixed"}
    # an unspaced Chinese query is one parser "word" analyzed into several tokens, joined by the
    # parser's group: And by default, Or with OrGroup
    ix = index.open_dir(str(ixdir))
    q = QueryParser("body", ix.schema).parse("医学图像")
    assert isinstance(q, query.And) and [t.text for t in q.subqueries] == ["医学", "图像"]
    q = QueryParser("body", ix.schema, group=OrGroup).parse("医学图像")
    assert isinstance(q, query.Or)
    ix.close()
    assert _ids(ixdir, "医学图像") == {"zh", "zh2"}            # both words, anywhere
    assert _ids(ixdir, "医学图像", group=OrGroup) == {"zh", "zh2"}


def test_segment_query():
    assert segment_query("医学图像分割 diffusion") == "医学 图像 分割 diffusion"
    assert segment_query("title:三维场景理解 OR x") == "title:(三维 场景 理解) OR x"
    assert segment_query('"医学图像" 模型*') == '"医学图像" 模型*'
    assert segment_query("医学AND图像") == "医学 and 图像"
    assert segment_query("visual grounding AND 3D") == "visual grounding AND 3D"


def test_segmented_query_finds_the_chinese_doc(ixdir):
    assert _ids(ixdir, segment_query("医学图像分割")) == {"zh"}
    assert _ids(ixdir, segment_query("医学图像分割"), group=OrGroup) == {"zh", "zh2"}


def test_chinese_phrase_needs_consecutive_words(ixdir):
    assert _ids(ixdir, '"医学图像"') == {"zh"}                # zh2 has both words, apart
    assert _ids(ixdir, '"医学图像分割"') == {"zh"}
    assert _ids(ixdir, '"卷积神经网络"') == {"zh"}            # sub-words don't break phrases
    assert _ids(ixdir, '"网络卷积"') == set()
    assert _ids(ixdir, '"图像医学"') == set()
    assert _ids(ixdir, '"三维视觉定位"') == {"mixed"}


def test_english_phrases_and_stemming(ixdir):
    assert _ids(ixdir, '"visual grounding"') == {"en", "mixed"}
    assert _ids(ixdir, '"grounding visual"') == set()
    assert _ids(ixdir, "models") == {"en"}                   # model / models
    assert _ids(ixdir, "segmentation") == {"en"}             # segment: segmentation / segmenting
    assert _ids(ixdir, '"instancerefer 方法"') == {"mixed"}   # phrase across languages
    assert _ids(ixdir, "InstanceRefer") == {"mixed"}


def test_highlight_offsets_slice_the_original_text(ixdir):
    ix = index.open_dir(str(ixdir))
    with ix.searcher() as s:
        hits = s.search(QueryParser("body", ix.schema).parse("医学 OR grounding"), terms=True,
                        limit=None)
        by_id = {hit["id"]: hit for hit in hits}
        assert "<b class=\"match term0\">医学</b>" in by_id["zh"].highlights("body")
        assert ">grounding</b>" in by_id["mixed"].highlights("body")
    ix.close()
    text = ZH + " " + EN
    for t in mixed_analyzer()(text, chars=True, keeporiginal=True, mode="index",
                              removestops=False):
        assert text[t.startchar:t.endchar] == t.original


def test_schema_survives_reopening(ixdir):
    ix = index.open_dir(str(ixdir))
    tokenizer = ix.schema["body"].analyzer.items[0]
    assert isinstance(tokenizer, MixedTokenizer)
    assert not any(k.startswith("_") or "jieba" in k for k in vars(tokenizer))
    with ix.writer() as w:                                   # the reopened analyzer still indexes
        w.add_document(id="more", body="扩散模型用于三维场景生成")
    ix.close()
    assert _ids(ixdir, '"扩散模型"') == {"zh", "more"}


# ------------------------------------------------------------------------ jieba, quietly, lazily

def test_import_does_not_load_jieba_and_first_load_is_quiet():
    code = ("import sys, paperlens.core.index.whoosh.analysis as a\n"
            "assert 'jieba' not in sys.modules\n"
            "list(a.mixed_analyzer()('这是一段中文文本', mode='index'))\n"
            "assert 'jieba' in sys.modules\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "prefix dict" not in proc.stderr
    out = subprocess.run([sys.executable, "-c", "import paperlens.core.index.whoosh.analysis, sys; "
                          "print('jieba' in sys.modules)"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip() == "False"


def test_analysing_cjk_writes_nothing_to_stdout(capfd):
    assert _texts(ZH, mode="index")
    assert capfd.readouterr().out == ""


def test_fast_path_gives_exactly_the_chains_tokens():
    """The single-loop path for text without Han characters equals the filter chain."""
    from whoosh.analysis import CompositeAnalyzer
    text = ("The Transformers were trained on 3.5 billion tokens, e.g. in Fig. 3; running runners ran. "
            "A an the of: stop words; x y z single letters; ÉCOLE naïve café; under_score *wild*card\n") * 5
    a = mixed_analyzer()

    def toks(gen):
        return [(t.text, t.pos, getattr(t, "startchar", None), getattr(t, "endchar", None)) for t in gen]

    for kwargs in ({"positions": True, "chars": True, "mode": "index"}, {"positions": True, "mode": "query"},
                   {"start_pos": 7, "start_char": 3, "positions": True, "chars": True}):
        assert toks(a(text, **kwargs)) == toks(CompositeAnalyzer.__call__(a, text, **kwargs))


def test_jieba_cache_is_read_whole_and_marshal_put_back(tmp_path):
    import marshal

    import jieba

    from paperlens.core.index import segmentation

    obj = ({"神经网络": 3, "网络": 5, "a": 1}, 9)
    path = tmp_path / "cache"
    with open(path, "wb") as f:
        segmentation._WholeFileMarshal.dump(obj, f)
    with open(path, "rb") as f:
        assert segmentation._WholeFileMarshal.load(f) == marshal.loads(path.read_bytes()) == obj
    tok = segmentation._get_jieba()
    assert jieba.marshal is marshal
    assert tok.FREQ.get("网络") and tok.total > 0
