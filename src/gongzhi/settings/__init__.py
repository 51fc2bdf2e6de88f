"""Settings in layers: ``base`` (code defaults, environment), ``test``, ``production``."""
