"""Shared plumbing of Trede: settings, database, tenant scope, clock, audit, broker, app factory.

Depends on no app under ``apps/``; the apps depend on it.
"""

import os

# Piccolo finds its configuration through this variable; point it at our module unless an operator chose.
os.environ.setdefault("PICCOLO_CONF", "core.piccolo_conf")
