"""The index format version (kept apart from schema.py so reading it does not import Whoosh).

Bump it whenever fields, analyzers or the paper table's rows change: an index written with
another version is rebuilt by itself on open.
"""
SCHEMA_VERSION = 19      # 12: references.jsonl, search side files (fast.py); 13: record docs;
                         # 14: heads.jsonl (joins), PDF metadata from the layout;
                         # 15: references.jsonl lines are JSON objects with named fields, side
                         # files in topk/, Whoosh classes under core/index/whoosh/;
                         # 16: passages' and records' ``doc`` ids stored, not indexed;
                         # 17: abstract and body without positions (phrases checked on the text);
                         # 18: reference lists read anew from PDFs and texts (issue 15's parser);
                         # 19: references.jsonl keeps each entry's year and the matcher's
                         # evidence (authors, after, years): the graph reads no entry again.
# Not bumped by 521ba00, on purpose: references.jsonl lines became columns (one named list per
# field) but lines of the earlier shape are still read, to the same References (a bump would
# rebuild every library on upgrade). An earlier version reading a columnar line calls it
# damage and rebuilds its index in its own shape; its graph meanwhile lacks those lists.
