"""EnergyLab's page in the browser: the only package that imports Gradio.

    layout.py   the page, built from explorer/ui/tabs/ (one module per tab: layout and wiring)
    server.py   `python app.py`: launch, warm-up, the first view served in the page
The page's logic is plain Python in explorer/page/, tested without a browser.
"""
from explorer.ui.layout import build_app, build_page
from explorer.ui.server import main

__all__ = ["build_app", "build_page", "main"]
