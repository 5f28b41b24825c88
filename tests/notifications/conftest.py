from .smtp import smtp, smtp_down  # noqa: F401  (fixtures)
