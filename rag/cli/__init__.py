"""The ``rag`` command line: a thin shell over ``Assistant``, parsing and printing only.

Modules: ``main`` (``ingest``, ``ask``, ``list``, ``remove``, ``eval``), ``stories`` (``feeds``, ``show``,
``timeline``).
"""
