"""paperlens' features as plain functions, free of protocol types (the language server's
``lsp/features`` adapters convert): each is a function of a document snapshot
(:class:`.document.Snapshot`), an offset in it (code points) and a library view
(:class:`.view.LibraryView`), returning plain results (code-point spans, paths and lines,
Markdown).

    document     Snapshot (text, language, LaTeX project: bib files and citation commands), Location
    view         LibraryView: what the features read of the library; LocalView over a Library
    hover        a citation key's card ("cited by N papers in your library"), unknown keys
    completion   citation keys being typed, the card of an item (resolve)
    definition   a key's .bib entry
    usages       find references (drafts, citing papers) and the "cited by" code lens
    diagnostics  unknown keys with their fixes, keys defined in several .bib files
    links        DOIs, arXiv ids and URLs
    symbols      passage search (workspace symbols), the search and papers commands
    reading      inside a paper: numeric citations [n], from an entry to the library paper
    insertion    what to write for a key at the cursor, in the document's citation syntax
    paper_text   the read-only text view of a PDF
"""
