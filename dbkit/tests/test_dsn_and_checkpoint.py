"""DSN parsing and the checkpoint file, without a server."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from platformgen_dbkit.checkpoint import Checkpoint, decode_key, encode_key
from platformgen_dbkit.db import parse_dsn
from platformgen_dbkit.errors import DbkitError


def test_dsn_fields_and_secure_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    d = parse_dsn("mysql://dms%40x:p%3Ass@db.example.com:25060/prospa", "source")
    assert (d.user, d.password, d.host, d.port, d.database) == ("dms@x", "p:ss", "db.example.com", 25060, "prospa")
    assert d.ssl_mode == "VERIFY_IDENTITY"  # anything beyond loopback verifies the certificate
    assert "p:ss" not in d.label and "p:ss" not in json.dumps(d.public())
    assert parse_dsn("mysql://u@127.0.0.1/db", "target").ssl_mode == "PREFERRED"
    assert parse_dsn("mysql://u@127.0.0.1/db", "target").port == 3306
    monkeypatch.setenv("DBKIT_TARGET_PASSWORD", "from-env")
    assert parse_dsn("mysql://u@h/db?ssl-mode=required", "target").password == "from-env"
    monkeypatch.setenv("DBKIT_SOURCE_DSN", "mysql://u:pw@h2/db2")
    assert parse_dsn(None, "source").host == "h2"
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    assert parse_dsn(f"mysql://u@h/db?ssl-mode=VERIFY_CA&ssl-ca={ca}", "source").ssl_ca == str(ca)


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("mysql://u@h/db?ssl-mode=sometimes", "ssl-mode=SOMETIMES"),
        ("mysql://u@h/db?sslmode=require", "unknown options: sslmode"),
        ("mysql://u@h/db?ssl-ca=/no/such/ca.pem", "does not exist"),
        ("mysql://u@h/a/b", "names no database"),
        ("http://u@h/db", "must start with mysql://"),
        ("mysql://u@:3306/db", "has no host"),
    ],
)
def test_bad_dsns_are_refused_with_the_fix(dsn: str, message: str) -> None:
    with pytest.raises(DbkitError) as exc:
        parse_dsn(dsn, "source")
    assert message in exc.value.message and exc.value.fix


def test_key_values_round_trip() -> None:
    key = (1, "Zoë 🦘", b"\x00\xff", Decimal("1.50"), dt.datetime(2024, 2, 29, 1, 2, 3, 4), dt.date(2024, 1, 1),
           dt.timedelta(hours=-1, microseconds=5), 0.1, None)  # fmt: skip
    assert decode_key(json.loads(json.dumps(encode_key(key)))) == key


def test_a_torn_last_line_is_dropped_and_the_rest_resumed(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    cp = Checkpoint(path, "fp", "salt1", restart=False)
    cp.append({"kind": "chunk", "table": "t", "n": 0})
    cp.close()
    with path.open("ab") as f:
        f.write(b'{"kind": "chunk", "tab')  # kill -9 in the middle of a write
    cp = Checkpoint(path, "fp", "other-salt", restart=False)
    assert cp.resumed and cp.salt == "salt1"  # the run's salt, so digests stay comparable
    assert cp.records == [{"kind": "chunk", "table": "t", "n": 0}]
    cp.append({"kind": "chunk", "table": "t", "n": 1})
    cp.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r.get("n") for r in lines] == [None, 0, 1]
    with pytest.raises(DbkitError, match="unfinished run"):
        Checkpoint(path, "another-fingerprint", "s", restart=False)
    fresh = Checkpoint(path, "another-fingerprint", "s", restart=True)
    assert not fresh.resumed
    fresh.close()
    assert len(path.read_text().splitlines()) == 1


def test_a_finished_run_is_not_resumed(tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    cp = Checkpoint(path, "fp", "salt1", restart=False)
    cp.append({"kind": "chunk", "table": "t", "n": 0})
    cp.finish()
    cp.close()
    again = Checkpoint(path, "fp", "salt2", restart=False)
    assert not again.resumed and again.records == [] and again.salt == "salt2"
    again.close()
    assert len(path.read_text().splitlines()) == 1


def test_the_spec_source_is_the_default_source(tmp_path: Path) -> None:
    from platformgen_dbkit.config import load_config, source_dsn

    config = tmp_path / "dbkit.json"
    config.write_text(json.dumps({"database": "app", "migration": {"source": {
        "host": "db.example.com", "port": 25060, "database": "prospa", "user": "dms", "tls": "verify-ca"}}}))  # fmt: skip
    dsn = parse_dsn(source_dsn(load_config(config)), "source")
    assert (dsn.host, dsn.port, dsn.database, dsn.user, dsn.ssl_mode) == (
        "db.example.com",
        25060,
        "prospa",
        "dms",
        "VERIFY_CA",
    )
    config.write_text(json.dumps({"database": "app", "migration": None}))
    assert source_dsn(load_config(config)) is None


def test_the_config_comes_from_dbkit_config_when_not_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed kit has no rendered file beside it: $DBKIT_CONFIG names it, a wrong name is an error."""
    from platformgen_dbkit.config import load_config

    config = tmp_path / "dbkit.json"
    config.write_text(json.dumps({"database": "app", "migration": {"dms": {"lobMaxSizeKb": 64}}}))
    monkeypatch.delenv("DBKIT_CONFIG", raising=False)
    assert load_config(None) == {}
    monkeypatch.setenv("DBKIT_CONFIG", str(config))
    assert load_config(None) == {"dms": {"lobMaxSizeKb": 64}}
    for wrong in (tmp_path / "missing.json", tmp_path):
        monkeypatch.setenv("DBKIT_CONFIG", str(wrong))
        with pytest.raises(DbkitError, match=r"\$DBKIT_CONFIG"):
            load_config(None)
