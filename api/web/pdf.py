"""HTML → PDF with the server's Chromium (``apt-get install chromium``), headless, from a
self-contained page (styles inline, no script, nothing to fetch): the print-all page becomes
its PDF download."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 120


class PdfUnavailable(Exception):
    """No Chromium on the server, or it failed."""


def chromium() -> str | None:
    return next((p for p in map(shutil.which, CHROMIUM) if p), None)


def html_to_pdf(html: bytes) -> bytes:
    """Print a self-contained HTML page (styles inline) to an A4 PDF."""
    binary = chromium()
    if binary is None:
        raise PdfUnavailable(
            "Le PDF n'est pas disponible sur ce serveur (Chromium manquant) : utilisez "
            "« Imprimer » puis « Enregistrer au format PDF »."
        )
    with tempfile.TemporaryDirectory(prefix="vivres-pdf-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_bytes(html)
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfUnavailable(f"Le PDF n'a pas pu être fait ({type(exc).__name__}).") from None
        if not out.exists() or out.stat().st_size == 0:
            raise PdfUnavailable("Le PDF n'a pas pu être fait (Chromium n'a rien écrit).")
        return out.read_bytes()
