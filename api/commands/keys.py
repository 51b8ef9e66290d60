"""``vivres keys create|scope|list|revoke``: API keys for the HTTP service (stored hashed),
each scoped to territories (or every territory for an admin key)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

TerritoryOpt = Annotated[
    list[str] | None,
    typer.Option("--territory", help="Territory id the key reaches (repeat for several)."),
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all-territories", help="Admin key: reaches every territory, present and future."
    ),
]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: VIVRES_DATABASE_URL, else sqlite:///vivres.db)."
    ),
]

keys_app = typer.Typer(
    help="API keys of the HTTP service: roles planner, logistics, producer.", no_args_is_help=True
)


def _store(db: str | None):
    from api.store.db import Store

    return Store.open(db)


@keys_app.command("create")
def create(
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="planner (everything), logistics (routes; "
            "read plans) or producer (only their own contract, "
            "volumes and pickup times).",
        ),
    ],
    producer: Annotated[
        str | None,
        typer.Option(
            "--producer", help="producer_id a producer key may read (required for producers)."
        ),
    ] = None,
    territory: TerritoryOpt = None,
    all_territories: AllOpt = False,
    name: Annotated[str, typer.Option("--name", help="A note to recognise the key.")] = "",
    db: DbOption = None,
) -> None:
    """Create a key scoped to territories and print it once (only its sha256 is stored)."""
    from api.cli import err_console
    from api.store.keys import create_key

    token, principal = create_key(
        _store(db),
        role,
        producer_id=producer,
        name=name,
        territories=territory or (),
        all_territories=all_territories,
    )
    scope = "every territory" if all_territories else ", ".join(sorted(principal.territories))
    err_console.print(
        f"key {principal.key_id} ({role}"
        + (f", producer {producer}" if producer else "")
        + f"; {scope}): store it now, it is not shown again",
        highlight=False,
    )
    # the token alone on the last line, so scripts can capture it: KEY=$(vivres keys create ..)
    print(token)


@keys_app.command("scope")
def scope(
    key_id: Annotated[int, typer.Argument(help="Key id (see `vivres keys list`).")],
    territory: TerritoryOpt = None,
    all_territories: AllOpt = False,
    db: DbOption = None,
) -> None:
    """Set the territories a key reaches (keys made before scopes existed reach none); a
    running server applies it within half a second."""
    from api.cli import console
    from api.store.keys import scope_key

    principal = scope_key(
        _store(db), key_id, territories=territory or (), all_territories=all_territories
    )
    console.print(
        f"key {key_id} now reaches "
        + ("every territory" if all_territories else ", ".join(sorted(principal.territories))),
        highlight=False,
    )


@keys_app.command("list")
def list_(db: DbOption = None) -> None:
    """List keys (id, prefix, role, producer, created, revoked); tokens are never shown."""
    from api.cli import console
    from api.store.keys import list_keys

    table = Table()
    for col in ("id", "prefix", "role", "territories", "producer", "name", "created", "revoked"):
        table.add_column(col)
    for k in list_keys(_store(db)):
        scope = "all" if k.all_territories else (", ".join(k.territories or ()) or "none")
        table.add_row(
            str(k.key_id),
            k.prefix + "…",
            k.role,
            scope,
            k.producer_id or "",
            k.name,
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    console.print(table)


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="Key id (see `vivres keys list`).")],
    db: DbOption = None,
) -> None:
    """Revoke a key (a running server stops accepting it within half a second)."""
    from api.cli import console
    from api.store.keys import revoke_key

    revoke_key(_store(db), key_id)
    console.print(f"key {key_id} revoked")


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Attach ``vivres keys``."""
    app.add_typer(keys_app, name="keys")
