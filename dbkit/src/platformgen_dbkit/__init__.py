"""dbkit: preflight checks and checksum verification for a MySQL migration (DigitalOcean -> RDS)."""

__version__ = "1.0.0"
