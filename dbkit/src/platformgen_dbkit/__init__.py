"""dbkit: preflight checks and checksum verification for a MySQL migration (DigitalOcean -> RDS)."""

# The kit is released with platformgen, under platformgen's version (generator/__init__.py;
# tests/test_dbkit_kit.py holds them equal). hatchling reads the wheel's version from here.
__version__ = "0.2.0.dev0"
