# For the `piccolo` command line run from the repository root; the application uses core.piccolo_conf.
from core.piccolo_conf import APP_REGISTRY, DB  # noqa: F401
