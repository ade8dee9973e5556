# Benchmarks: paperlens side by side with citation-langserver, bibli-ls, badness and ripgrep.
# Peers are installed by the bench itself under bench/.cache/venvs/; results go to bench/results/.

PYTHON ?= .venv/bin/python
OUT ?= bench/results
BENCH_ARGS ?=

.PHONY: bench bench-10k bench-corpus bench-clean

bench:
	$(PYTHON) bench/run.py --papers 1000 --out $(OUT) $(BENCH_ARGS)

bench-10k:
	$(PYTHON) bench/run.py --papers 10000 --out $(OUT) $(BENCH_ARGS)

bench-corpus:
	$(PYTHON) bench/corpus.py --papers 1000
	$(PYTHON) bench/corpus.py --papers 10000

bench-clean:
	rm -rf bench/.cache/work-* bench/.cache/corpus-*
