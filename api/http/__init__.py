"""The FastAPI service: ``create_app`` builds it; ``vivres serve`` runs it with its worker."""

from api.http.app import create_app

__all__ = ["create_app"]
