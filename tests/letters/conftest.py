"""The letters tests use the workspace fixtures: the real local OpenID provider, the regions and the demo rows."""

from tests.workspace.conftest import dev_op, oidc_settings, world  # noqa: F401 - fixtures
