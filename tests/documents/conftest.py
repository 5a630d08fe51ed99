from tests.portal.conftest import _evidence_cleanup, oidc_settings, upload_max, world  # noqa: F401
