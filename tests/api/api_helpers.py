"""Helpers of the API tests: the tiny territory as uploads, and a test client."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"


def test_client(app):
    """A TestClient (starlette warns that it prefers httpx2, which is not packaged here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    return TestClient(app)


test_client.__test__ = False


def tiny_files() -> dict[str, tuple[str, bytes, str]]:
    """The tiny territory as multipart fields."""
    return {p.stem: (p.name, p.read_bytes(), "text/csv") for p in sorted(TINY.glob("*.csv"))}


def tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(TINY.glob("*.csv")):
            archive.write(path, f"tiny/{path.name}")
    return buffer.getvalue()
