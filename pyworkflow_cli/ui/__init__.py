"""The read-only web UI: ``pyworkflow ui`` (the ``pyworkflow[ui]`` extra).

``app`` has the routes, ``views`` what each page shows, ``server`` runs it
under Uvicorn; templates and the style sheet ship as package data, so the UI
needs no internet and no JavaScript.
"""
