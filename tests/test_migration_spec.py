"""The `migration:` spec fields' rules that no invalid spec file shows on its own."""

from __future__ import annotations

from pathlib import Path

from platformgen_dbkit.names import HEARTBEAT_TABLE

from generator.spec import load_spec
from generator.spec.migration_checks import HEARTBEAT_TABLE as CHECKED_HEARTBEAT
from generator.spec.migration_checks import dms_pattern_matches

INVALID = Path(__file__).parent / "specs" / "invalid"


def test_the_checks_protect_the_kits_heartbeat_table() -> None:
    assert CHECKED_HEARTBEAT == HEARTBEAT_TABLE


def test_dms_patterns_match_like_dms() -> None:
    assert dms_pattern_matches("%", "dbkit_heartbeat")
    assert dms_pattern_matches("DBKIT_%", "dbkit_heartbeat")
    assert dms_pattern_matches("dbkit_heart%", "dbkit_heartbeat")
    assert not dms_pattern_matches("dbkit", "dbkit_heartbeat")
    assert not dms_pattern_matches("audit_%", "dbkit_heartbeat")


def test_an_open_window_with_a_near_last_day_is_valid(tmp_path: Path) -> None:
    """The tests validate as of 2026-11-30 (conftest): a window open until 2026-12-14 passes,
    and resolves with the spec's tables and CA path."""
    text = (INVALID / "migration-window.yaml").read_text().replace('"2026-11-29"', '"2026-12-14"')
    spec = tmp_path / "platform.yaml"
    spec.write_text(text)
    result = load_spec(spec)
    assert result.ok, "\n".join(d.format() for d in result.errors)
    assert result.resolved is not None
    migration = result.resolved["migration"]
    assert migration["window"] == "open" and migration["windowUntil"] == "2026-12-14"
    assert migration["tables"] == {"include": ["%"], "exclude": []}
    assert migration["source"]["caCertificate"] == "database/digitalocean-ca.pem"
