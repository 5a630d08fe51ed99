"""Piccolo's configuration: the engine and the registry of Trede's apps (one per bounded context)."""

from piccolo.conf.apps import AppRegistry

from core.db import database_url_from_env, engine_for

DB = engine_for(database_url_from_env())

APP_REGISTRY = AppRegistry(
    apps=[
        "apps.tenancy.piccolo_app",
        "apps.providers.piccolo_app",
        "apps.accounts.piccolo_app",
        "apps.ladders.piccolo_app",
        "apps.escalations.piccolo_app",
        "apps.documents.piccolo_app",
        "apps.evidence.piccolo_app",
        "apps.quality.piccolo_app",
        "apps.notifications.piccolo_app",
        "apps.audit.piccolo_app",
        "apps.workers.piccolo_app",
    ]
)
