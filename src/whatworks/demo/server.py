"""The production HTTP server: waitress (pure Python, threaded), serving the WSGI app.

Static files are served by WhiteNoise inside the app, so no separate web server is needed
for a small installation; larger ones put a reverse proxy with TLS in front.
"""

from __future__ import annotations


def serve_forever(*, host: str, port: int, threads: int = 8) -> None:
    from waitress import serve

    from whatworks.wsgi import application

    serve(application, host=host, port=port, threads=threads, ident="whatworks")
