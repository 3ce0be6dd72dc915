"""The ``rag`` command line: a thin shell over ``Assistant`` (``main``; feeds, timeline and show in ``news``).
"""
