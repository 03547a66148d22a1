"""``python -m pyworkflow_cli`` runs the ``pyworkflow`` command."""

from .main import main

main()
