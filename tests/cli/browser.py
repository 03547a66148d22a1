"""A real browser for the UI's tests: headless Chromium, as Debian packages it.

Nothing is downloaded: the browser is the system's, run with a fresh profile
and with every background connection turned off (this network answers none).
Where Chromium is missing the tests skip, except under CI, which installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from .processes import GUARD, Background, eventually

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "headless Chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must install it")
        pytest.skip(message)
    return path


class Chromium:
    def __init__(self, executable: str, profiles: Path) -> None:
        self.executable = executable
        self.profiles = profiles
        self.runs = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        self.runs += 1
        profile = self.profiles / f"profile-{self.runs}"
        result = subprocess.run(
            [self.executable, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=GUARD,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def dom(self, url: str) -> str:
        """The page's DOM once loaded, serialised: what the browser made of the HTML."""
        return self._run("--dump-dom", url).stdout

    def screenshot(self, url: str, path: Path, size: str = "1200,900") -> Path:
        self._run(f"--window-size={size}", f"--screenshot={path}", url)
        assert path.read_bytes().startswith(b"\x89PNG"), "not a PNG"
        return path


class Page(HTMLParser):
    """A DOM dump read back: its elements and its text, as a reader sees it."""

    def __init__(self, dom: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.links: list[str] = []
        self._text: list[str] = []
        self.feed(dom)
        self.text = " ".join(" ".join(self._text).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "a":
            self.links.extend(value for name, value in attrs if name == "href" and value)

    def handle_data(self, data: str) -> None:
        self._text.append(data)


class UiServer:
    """``pyworkflow ui`` in its own process, on a free port."""

    def __init__(self, log: Path, config: str) -> None:
        self.process = Background(log, "ui", "--config", config, "--port", "0")
        eventually(lambda: "pyworkflow UI at" in log.read_text(), "the UI to listen")
        match = re.search(r"pyworkflow UI at (http://\S+/)", log.read_text())
        assert match, log.read_text()
        self.url = match.group(1).rstrip("/")

    def stop(self) -> int:
        import signal

        self.process.signal(signal.SIGTERM)
        return self.process.wait()
