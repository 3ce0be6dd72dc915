"""The Gradio web app: chat, articles, reader, timeline and feeds, over ``Assistant``.

Modules: ``app`` (``WebUI``: the page and the chat and articles actions), ``articles`` (the Articles
tab's layout), ``feeds``, ``reader``, ``timeline``, ``downloads`` (those parts of the page),
``answers`` (the chat's HTML), ``links`` (safe URLs, reader links), ``templating`` (the Jinja templates
in ``templates/`` and the files in ``static/``), ``serve`` and ``login`` (serving, password, throttling).
"""
