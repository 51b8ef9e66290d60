"""The API's persistence: SQLAlchemy models, engine and migrations, keys, territory files."""

from api.store.db import Store, database_url, migrate

__all__ = ["Store", "database_url", "migrate"]
