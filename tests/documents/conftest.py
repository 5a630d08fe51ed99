from tests.portal.conftest import _evidence_cleanup, dev_op, oidc_settings, upload_max, world  # noqa: F401
