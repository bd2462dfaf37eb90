"""EnergyLab: an interactive explorer of Kim & Bengio (2016), deep directed generative models with
energy-based probability estimation. `python app.py` opens it in the browser.

The entry point only (a Hugging Face Space runs this file): the page is explorer/ui/, its logic
explorer/page/, the runs explorer/training/.
"""
from explorer.ui import build_app, main

__all__ = ["build_app", "main"]

if __name__ == "__main__":
    main()
