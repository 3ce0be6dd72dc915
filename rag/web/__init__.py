"""The Gradio web app: chat, articles, reader, timeline and feeds, over ``Assistant``.

Modules: ``app`` (``WebUI``, the chat and articles tabs, ``launch``), ``news`` (reader, timeline, feeds tabs),
``render`` / ``render_news`` (HTML of typed results), ``login`` (password and throttling).
"""
