"""A small site for one page's tests: a store with the tiny territory (and ``other``), the
app, and a client signed in with each key (imported by name: ``from web_sites import …``)."""

from __future__ import annotations

from pathlib import Path

from web_helpers import make_client, put_tiny, sign_in

from api.store.db import Store
from api.store.keys import create_key

#: (label, role, territory) of the keys made: a planner and a logistics key of ``tiny``, a
#: planner of ``other`` only
STAFF = (
    ("planner", "planner", "tiny"),
    ("logistics", "logistics", "tiny"),
    ("other", "planner", "other"),
)


def open_site(folder: Path, prepare=None, keys=STAFF):
    """(store, {label: signed-in client}); ``prepare(store)`` runs before the app starts."""
    store = Store.open(f"sqlite:///{folder / 'vivres.db'}")
    put_tiny(store)
    put_tiny(store, "other")
    if prepare is not None:
        prepare(store)
    from api.http import create_app

    app = create_app(store, max_body_mb=2, rate_limit=(0, 0))
    clients = {}
    for label, role, territory in keys:
        token, _ = create_key(store, role, territories=[territory])
        client = make_client(app)
        client.__enter__()
        sign_in(client, token)
        clients[label] = client
    return store, clients
