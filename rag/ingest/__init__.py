"""Ingest: sources (files, folders, URLs, feeds) into cleaned, dated articles, chunked into passages and written to the store.

Modules: ``corpus`` (finding and reading sources), ``clean`` (boilerplate, dates, titles), ``fetch`` (URLs
under a deadline and address rules), ``chunk`` (passages), ``pipeline`` (``Ingestor``: incremental,
resumable writes), ``library`` (the articles a user manages: uploads, removal), ``feeds`` and
``feed_parse`` (RSS/Atom subscriptions as a source). Embedding is ``rag.embed``; storage ``rag.store``.
"""
