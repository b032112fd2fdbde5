"""The local web app: a JSON API over the engine and a static page that steps through backprop.

``create_app()`` builds the FastAPI app; ``standalone.render_interactive`` writes the page as one
offline HTML file. The page only formats what the API (or an embedded trace) gives it.
"""

from gradtrace.web.app import create_app

__all__ = ["create_app"]
