"""The service's configuration: every ``VIVRES_*`` environment variable, read in one place.

``Settings.from_env()`` reads and checks them all (a bad value is an ``InputError`` naming the
variable: exit 2 from ``vivres serve``); the API, the job queue, the upload limits and the
supervisor take their figures from it. The solvers' knobs are not here: they are the
``PlanParams`` / ``RouteParams`` / ``DemandSettings`` a door builds from its options.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core.errors import InputError

ENV_DATABASE_URL = "VIVRES_DATABASE_URL"
ENV_MAX_BODY = "VIVRES_MAX_BODY_MB"
ENV_MAX_UNCOMPRESSED = "VIVRES_MAX_UNCOMPRESSED_MB"
ENV_MAX_ROWS = "VIVRES_MAX_UPLOAD_ROWS"
ENV_MAX_ACTIVE = "VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY"
ENV_RATE_PER_MIN = "VIVRES_RATE_LIMIT_PER_MIN"
ENV_RATE_BURST = "VIVRES_RATE_LIMIT_BURST"
ENV_PIDFILE = "VIVRES_WORKER_PIDFILE"
ENV_SESSION_SECRET = "VIVRES_SESSION_SECRET"
ENV_TILE_URL = "VIVRES_TILE_URL"
ENV_BASEMAP_DIR = "VIVRES_BASEMAP_DIR"

DEFAULT_DATABASE_URL = "sqlite:///vivres.db"
DEFAULT_MAX_BODY_MB = 64
DEFAULT_MAX_ROWS = 2_000_000
DEFAULT_MAX_ACTIVE = 20
DEFAULT_RATE_PER_MIN = 600
DEFAULT_RATE_BURST = 120


def normalise_database_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs use the psycopg (3) driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Configuration of ``vivres serve``, its HTTP processes and its job worker.

    Attributes
    ----------
    database_url
        ``VIVRES_DATABASE_URL``: SQLAlchemy URL (default ``sqlite:///vivres.db`` in the working
        directory; PostgreSQL needs the ``[postgres]`` extra).
    max_body_mb
        ``VIVRES_MAX_BODY_MB``: largest request body (413 beyond); ``vivres serve --max-body-mb``
        sets it for its processes.
    max_uncompressed_mb, max_upload_rows
        ``VIVRES_MAX_UNCOMPRESSED_MB`` (default twice the body limit) and
        ``VIVRES_MAX_UPLOAD_ROWS``: what one upload may unpack to (bomb guards, 413).
    max_active_jobs_per_territory
        ``VIVRES_MAX_ACTIVE_JOBS_PER_TERRITORY``: queued + running jobs one territory may have
        (429 beyond): one hub cannot fill the shared worker's queue.
    rate_limit_per_min, rate_limit_burst
        ``VIVRES_RATE_LIMIT_PER_MIN`` (0: no limit) and ``VIVRES_RATE_LIMIT_BURST``: requests per
        key (429 beyond).
    worker_pidfile
        ``VIVRES_WORKER_PIDFILE``: set by ``vivres serve`` for its processes; where the
        supervised worker's pid is (``/v1/health`` reads it).
    session_secret
        ``VIVRES_SESSION_SECRET``: signs the web pages' session cookies (``vivres serve`` makes
        one for its processes when unset; without it each app makes its own).
    tile_url
        ``VIVRES_TILE_URL``: a raster tile URL (``https://…/{z}/{x}/{y}.png``) drawn under the
        web maps for users online; unset, the maps draw only local vector layers.
    basemap_dir
        ``VIVRES_BASEMAP_DIR``: folder of offline basemap files per territory
        (``<territory>.communes.geojson``, ``<territory>.osm.pbf|.osm|.osm.bz2`` for roads).
    """

    database_url: str = DEFAULT_DATABASE_URL
    max_body_mb: float = DEFAULT_MAX_BODY_MB
    max_uncompressed_mb: float = 2 * DEFAULT_MAX_BODY_MB
    max_upload_rows: int = DEFAULT_MAX_ROWS
    max_active_jobs_per_territory: int = DEFAULT_MAX_ACTIVE
    rate_limit_per_min: int = DEFAULT_RATE_PER_MIN
    rate_limit_burst: int = DEFAULT_RATE_BURST
    worker_pidfile: str | None = None
    session_secret: str | None = None
    tile_url: str | None = None
    basemap_dir: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``VIVRES_*`` variable (``os.environ`` by default); raise InputError
        naming the first bad one."""
        env = os.environ if environ is None else environ
        body_mb = _number(
            env, ENV_MAX_BODY, DEFAULT_MAX_BODY_MB, float, low=0.0, rule="> 0", strict=True
        )
        return cls(
            database_url=normalise_database_url(env.get(ENV_DATABASE_URL) or DEFAULT_DATABASE_URL),
            max_body_mb=body_mb,
            max_uncompressed_mb=_number(
                env, ENV_MAX_UNCOMPRESSED, 2 * body_mb, float, low=0.0, rule="> 0", strict=True
            ),
            max_upload_rows=_number(env, ENV_MAX_ROWS, DEFAULT_MAX_ROWS, int, low=1),
            max_active_jobs_per_territory=_number(
                env, ENV_MAX_ACTIVE, DEFAULT_MAX_ACTIVE, int, low=1
            ),
            rate_limit_per_min=_number(
                env,
                ENV_RATE_PER_MIN,
                DEFAULT_RATE_PER_MIN,
                int,
                low=0,
                rule=">= 0 (0 turns the limit off)",
            ),
            rate_limit_burst=_number(
                env,
                ENV_RATE_BURST,
                DEFAULT_RATE_BURST,
                int,
                low=0,
                rule=">= 0 (0 turns the limit off)",
            ),
            worker_pidfile=env.get(ENV_PIDFILE) or None,
            session_secret=env.get(ENV_SESSION_SECRET) or None,
            tile_url=_tile_url(env.get(ENV_TILE_URL)),
            basemap_dir=env.get(ENV_BASEMAP_DIR) or None,
        )


def settings() -> Settings:
    """The settings from the current environment (read at each call: cheap, and a test or
    ``vivres serve`` that changes a variable is seen at once)."""
    return Settings.from_env()


def _number(
    env: Mapping[str, str],
    name: str,
    default,
    kind: type,
    *,
    low: float,
    rule: str | None = None,
    strict: bool = False,
):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InputError(f"{name} must be {what}; got {raw[:40]!r}") from None
    if not (value > low if strict else value >= low) or value != value or value == float("inf"):
        raise InputError(f"{name} must be {rule or f'>= {low:g}'}; got {value}")
    return value


def _tile_url(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    url = raw.strip()
    if not url.startswith("https://") or not all(k in url for k in ("{z}", "{x}", "{y}")):
        raise InputError(
            f"{ENV_TILE_URL} must be an https:// URL with {{z}}, {{x}} and {{y}}; got {url[:80]!r}"
        )
    return url
