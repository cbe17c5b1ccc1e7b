"""platformgen: one YAML platform spec in, a complete AWS + Kubernetes repository out."""

# The template version is the package version: a generated repository records
# `_commit: v<version>` in its answers files, and release tags use the same name.
__version__ = "0.2.0.dev0"
