"""A JSON-LD document read into a flat graph of nodes, offline and within caps.

Every payload goes through :func:`read_graph`: size, nesting depth and node count are capped
before pyld sees it; pyld's document loader serves only the vendored DFC context
(``dfc_context_1.16.0.json``, MIT, from datafoodconsortium/connector-ruby) under the URLs
platforms use for it, and refuses every other URL, so no ``@context`` is ever fetched at run
time. The result is pyld's flattened, expanded form: one node per ``@id`` (blank nodes named
``_:b…``), every property a full IRI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from pyld import jsonld  # type: ignore[import-untyped]

from core.errors import InputError, InputTooLarge, RowError
from core.safety import short_repr

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000

DFC_B = "https://github.com/datafoodconsortium/ontology/releases/latest/download/DFC_BusinessOntology.owl#"
_CONTEXT_FILE = Path(__file__).with_name("dfc_context_1.16.0.json")
#: The URLs platforms put in ``@context`` for the DFC context (served from the vendored file).
DFC_CONTEXT_URLS = (
    "https://www.datafoodconsortium.org",
    "http://www.datafoodconsortium.org",
    "http://static.datafoodconsortium.org/ontologies/context.json",
)
_DFC_CONTEXT_PREFIXES = (
    "https://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/",
    "http://www.datafoodconsortium.org/wp-content/plugins/wordpress-context-jsonld/",
    "https://w3id.org/dfc/ontology/",
)


@cache
def dfc_context() -> dict[str, Any]:
    """The vendored DFC JSON-LD context (the document, with its ``@context`` key)."""
    loaded: dict[str, Any] = json.loads(_CONTEXT_FILE.read_text(encoding="utf-8"))
    return loaded


def is_dfc_context(url: str) -> bool:
    """Whether ``url`` names the DFC context (any version we serve from the vendored file)."""
    bare = url.rstrip("/")
    return bare in DFC_CONTEXT_URLS or url.startswith(_DFC_CONTEXT_PREFIXES)


def _offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if not is_dfc_context(url):
        raise _RefusedURL(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": dfc_context(),
    }


class _RefusedURL(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


@dataclass(frozen=True, slots=True, kw_only=True)
class Graph:
    """The flattened nodes of a JSON-LD document, by ``@id``."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    name: str = "DFC document"  # the file name shown in errors

    def of_type(self, local_name: str) -> list[dict[str, Any]]:
        """Nodes typed ``dfc-b:<local_name>``, in ``@id`` order."""
        iri = DFC_B + local_name
        return [n for _, n in sorted(self.nodes.items()) if iri in n.get("@type", ())]

    def node(self, node_id: str | None) -> dict[str, Any] | None:
        """The node called ``node_id`` (None when absent)."""
        return self.nodes.get(node_id) if node_id else None


def read_graph(data: bytes, *, name: str) -> Graph:
    """Parse ``data`` (JSON-LD) into a :class:`Graph`; raise :class:`InputError` naming ``name``."""
    if len(data) > MAX_BYTES:
        raise InputTooLarge([_error(name, f"{len(data):,} bytes; at most {MAX_BYTES:,} are read")])
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except RecursionError:
        raise InputTooLarge([_error(name, f"nested deeper than {MAX_DEPTH} levels")]) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([_error(name, f"not JSON: {exc}")]) from None
    _check_shape(document, name)
    try:
        flat = jsonld.flatten(document, None, {"documentLoader": _offline_loader})
    except jsonld.JsonLdError as exc:
        refused = _refused_url(exc)
        if refused is not None:
            message = (
                f"@context {short_repr(refused)} is not fetched (no network at run time); "
                "only the DFC context is known — inline the context or use the DFC one"
            )
        else:
            message = f"not valid JSON-LD: {short_repr(str(exc).splitlines()[0], 200)}"
        raise InputError([_error(name, message)]) from None
    except RecursionError:
        raise InputTooLarge([_error(name, f"nested deeper than {MAX_DEPTH} levels")]) from None
    nodes = {n["@id"]: n for n in flat if isinstance(n, dict) and "@id" in n}
    return Graph(nodes=nodes, name=name)


def _refused_url(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _RefusedURL):
            return current.url
        cause = getattr(current, "cause", None) or current.__cause__ or current.__context__
        current = cause if isinstance(cause, BaseException) else None
    return None


def _check_shape(document: object, name: str) -> None:
    """Refuse documents nested deeper than :data:`MAX_DEPTH` or with over :data:`MAX_NODES`."""
    stack: list[tuple[object, int]] = [(document, 1)]
    objects = 0
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputTooLarge([_error(name, f"nested deeper than {MAX_DEPTH} levels")])
        if isinstance(value, dict):
            objects += 1
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        if objects > MAX_NODES:
            raise InputTooLarge([_error(name, f"more than {MAX_NODES:,} JSON objects")])


def _error(name: str, message: str, column: str | None = None) -> RowError:
    return RowError(file=name, row=None, column=column, message=message)


def local_name(iri: str) -> str:
    """The part of an IRI after its last ``#`` (or ``/``, or ``:``)."""
    for sep in ("#", "/", ":"):
        if sep in iri:
            return iri.rsplit(sep, 1)[1]
    return iri


def values(node: dict[str, Any] | None, prop: str) -> list[Any]:
    """The values of ``dfc-b:<prop>``: ids as ``{"@id"}`` dicts, literals as Python values."""
    if node is None:
        return []
    out: list[Any] = []
    for item in node.get(DFC_B + prop, ()):
        if isinstance(item, dict) and "@id" in item:
            out.append({"@id": item["@id"]})
        elif isinstance(item, dict) and "@value" in item:
            out.append(item["@value"])
    return out


def literal(node: dict[str, Any] | None, prop: str) -> Any:
    """The first literal value of ``dfc-b:<prop>`` (None when absent)."""
    for value in values(node, prop):
        if not isinstance(value, dict):
            return value
    return None


def refs(node: dict[str, Any] | None, prop: str) -> list[str]:
    """The ids ``dfc-b:<prop>`` points to (an IRI written as a plain string counts too: some
    properties are not ``@id``-typed in the DFC context)."""
    out = []
    for value in values(node, prop):
        if isinstance(value, dict):
            out.append(str(value["@id"]))
        elif isinstance(value, str) and value:
            out.append(value)
    return out


def ref(node: dict[str, Any] | None, prop: str) -> str | None:
    """The first id ``dfc-b:<prop>`` points to (None when absent)."""
    found = refs(node, prop)
    return found[0] if found else None
