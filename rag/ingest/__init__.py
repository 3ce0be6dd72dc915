"""Ingest: sources (files, folders, URLs, feeds) into cleaned, dated articles, chunked into passages and written to the store.

Modules: ``corpus`` (``load_sources``: each source to its reader), ``sources`` (finding sources),
``readers``/``records``/``decode`` (each format into an ``Article``), ``articles`` (``make_article``, ids),
``clean`` (boilerplate, dates, titles), ``fetch`` (URLs under a deadline and address rules), ``chunk`` (passages), ``pipeline`` (``Ingestor``: incremental,
resumable writes), ``library`` (the articles a user manages: uploads, removal), ``feeds`` and
``feed_parse`` (RSS/Atom subscriptions as a source). Embedding is ``rag.embed``; storage ``rag.store``.
"""
