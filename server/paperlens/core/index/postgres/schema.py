"""The tables of a folder's index in PostgreSQL, in a schema of their own (``paperlens`` by
default; one database can hold several folders' indexes, one schema each).

- ``meta``: one row: the format (``FORMAT``) and the generation, +1 per committed change set;
- ``files``: the indexed files' states (the manifest: mtime, size, hash, paper ids, error);
- ``papers``: one row per paper: its paper-table row (``row``, a JSON list, paths relative to
  the folder), its full record (``data``, ``Paper.to_dict``) and the top of its first page
  (``head``, for joins.py);
- ``passages``: the searchable documents: a paper's passages (``kind`` 0) and its record
  (``kind`` 1: title, authors, key, year, venue), each with a weighted ``tsvector`` under a GIN
  index (the heads, records and abstracts, also under one of their own: ``HEADS``). Weights
  follow the Whoosh schema's field boosts (title > abstract > authors > body):
  A title (and a record's key), B abstract, C authors, D body (and a record's year and venue).
  The title is in the heads only (a record, an abstract passage), not in the body's passages:
  there a common title word would be in each of a paper's tens of passages;
  ``shadowed``: a bibliography entry's passages (its abstract) while the entry's paper text is
  merged into it (core/joins.py): the text has them, search leaves them out;
- ``refs``: each paper's reference list, what the citation graph needs of it (the columns of
  whoosh/store.py's REF_FIELDS; ``authors`` NULL when not kept).

Citus: ``passages`` and ``refs`` distribute on ``paper_id`` (every query of one paper stays on
one node; a search fans out to all of them).
"""
from __future__ import annotations

FORMAT = 4          # bump when the tables or what is indexed change: the index is rebuilt by its
                    # writer; an editor reading another format says so and does not search it
                    # (2: refs keep the year and the matcher's evidence: authors, after, years;
                    # 3: the heads' own GIN index, passages_heads; passages.shadowed;
                    # 4: a paper's title only in its heads, not in each of its passages)

# ts_rank's weights for {D, C, B, A}: Whoosh's boosts body 1.0, authors 1.5, abstract 2.0,
# title 3.0 (core/index/whoosh/schema.py FIELD_BOOSTS), scaled to A = 1
WEIGHTS = [1.0 / 3.0, 1.5 / 3.0, 2.0 / 3.0, 1.0]

CHANNEL = "paperlens_changes"     # NOTIFY on each committed change set; payload: "<schema> <generation>"

PASSAGE = 0
RECORD = 1

# the heads of a paper: its record and its abstract (one or two rows a paper, against tens of
# passages), searched first for words in a title or an abstract, through their own GIN index
# (the search's WHERE repeats this condition word for word: the planner matches it to the index)
HEADS = "(kind = 1 OR section LIKE 'abstract%%')"


def ddl(schema: str) -> list[str]:
    s = f'"{schema}"'
    return [
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"CREATE TABLE IF NOT EXISTS {s}.meta (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
        " format integer NOT NULL, generation bigint NOT NULL DEFAULT 0, folder text NOT NULL DEFAULT '')",
        f"CREATE TABLE IF NOT EXISTS {s}.files (path text PRIMARY KEY, mtime_ns bigint NOT NULL,"
        " size bigint NOT NULL, sha1 text NOT NULL, paper_ids text[] NOT NULL, error text NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS {s}.papers (id text PRIMARY KEY, path text NOT NULL,"
        " row jsonb NOT NULL, data jsonb NOT NULL, head text NOT NULL DEFAULT '')",
        f"CREATE INDEX IF NOT EXISTS papers_path ON {s}.papers (path)",
        f"CREATE TABLE IF NOT EXISTS {s}.passages (paper_id text NOT NULL, n integer NOT NULL,"
        " path text NOT NULL, kind smallint NOT NULL, section text NOT NULL, line_start integer NOT NULL,"
        " line_end integer NOT NULL, page integer, text text NOT NULL, seg text, tsv tsvector NOT NULL,"
        " shadowed boolean NOT NULL DEFAULT false, PRIMARY KEY (paper_id, kind, n))",
        f"CREATE INDEX IF NOT EXISTS passages_tsv ON {s}.passages USING gin (tsv)",
        f"CREATE INDEX IF NOT EXISTS passages_heads ON {s}.passages USING gin (tsv) WHERE {HEADS.replace('%%', '%')}",
        f"CREATE INDEX IF NOT EXISTS passages_path ON {s}.passages (path)",
        f"CREATE TABLE IF NOT EXISTS {s}.refs (paper_id text NOT NULL, n integer NOT NULL,"
        " label text NOT NULL, title text NOT NULL, doi text NOT NULL, arxiv text NOT NULL,"
        " year text NOT NULL DEFAULT '', authors text, after text NOT NULL DEFAULT '',"
        " years text NOT NULL DEFAULT '',"
        " PRIMARY KEY (paper_id, n))",
    ]


def drop(schema: str) -> list[str]:
    return [f'DROP TABLE IF EXISTS "{schema}".{t}' for t in ("refs", "passages", "papers", "files", "meta")]
