"""Remake the UI screenshots in docs/ from processes run on a fresh SQLite file.

    python docs/screenshots.py

Needs the ``test`` extra and Debian's ``chromium``; it uses the same browser
set-up as the UI's tests.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))

from tests.cli.browser import Chromium, UiServer, chromium_path  # noqa: E402
from tests.cli.processes import run  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        config = work / "pyworkflow.yaml"
        config.write_text(
            f"backend: {{type: sqlite, path: {work / 'pyworkflow.db'}}}\n"
            "workflows: [pyworkflow.examples.multiplication]\n"
            "logging: {format: json}\n"
        )
        shown = ""
        for numbers, tags in (("[2,5]", ["nightly"]), ("[11,4]", ["nightly"]), ("[3,4]", ["demo"])):
            tag_options = [option for tag in tags for option in ("--tag", tag)]
            ran = run(
                "process", "run", "Foo", "--input", numbers, *tag_options,
                "--config", str(config), "--json",
            )  # fmt: skip
            shown = json.loads(ran.stdout)["id"]
        run("process", "start", "Foo", "--input", "[7,6]", "--config", str(config))
        server = UiServer(work / "ui.log", str(config))
        try:
            chromium = Chromium(chromium_path(), work / "chromium")
            page = f"{server.url}/processes/{shown}"
            chromium.screenshot(page, DOCS / "ui-process.png", "1200,740")
            chromium.screenshot(f"{server.url}/", DOCS / "ui-processes.png", "1200,520")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
