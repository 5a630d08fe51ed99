"""The region workspace's pages, one thin controller module per page family; the queries and view models they
render are in ``apps.escalations.overview`` / ``views`` / ``dashboard`` / ``dossier``, the request context in
``apps.escalations.workspace``."""

from __future__ import annotations

from apps.escalations.controllers.account_region import AccountRegionPages
from apps.escalations.controllers.disputes import DisputePages
from apps.escalations.controllers.dossier import DossierPages
from apps.escalations.controllers.escalations import EscalationPages
from apps.escalations.controllers.intake_stops import IntakeStopPages
from apps.escalations.controllers.region import RegionPages
from apps.escalations.controllers.signals import SignalPages
from apps.escalations.controllers.verdicts import VerdictPages
from apps.tenancy.pages import AccessibilityStatement

__all__ = [
    "AccountRegionPages",
    "DisputePages",
    "DossierPages",
    "EscalationPages",
    "IntakeStopPages",
    "RegionPages",
    "SignalPages",
    "VerdictPages",
    "workspace_controllers",
]


def workspace_controllers() -> list:
    """The region workspace's pages (registered in ``core.app.create_app``)."""
    return [
        RegionPages,
        IntakeStopPages,
        SignalPages,
        EscalationPages,
        VerdictPages,
        DossierPages,
        AccountRegionPages,
        DisputePages,
        AccessibilityStatement,
    ]
