"""What every process that runs actors loads (``core.broker.configure_broker`` imports this module once the
broker is set, because Dramatiq actors bind to the broker that is set when they are declared): the apps'
actors and their sweep jobs (``core.sweep``). An app with work for the worker or the sweep adds its module here;
``apps/workers`` runs them without knowing any app.
"""

import apps.escalations.dossier_jobs  # noqa: F401
import apps.escalations.jobs  # noqa: F401
import apps.evidence.jobs  # noqa: F401
import apps.notifications.actors  # noqa: F401
import apps.notifications.jobs  # noqa: F401
import apps.quality.jobs  # noqa: F401
import apps.workers.actors  # noqa: F401
import core.observability  # noqa: F401  (the domain gauges of /metrics, computed by the sweep)
