"""Secret values anywhere in a spec are refused on their line, with the Secrets Manager fix.

detect-secrets finds what it knows (vendor keys, tokens, private keys, entropy); the name
and URL rules find what it misses (`MYSQL_PWD: hunter2`, `redis://:pw@host`).
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from conftest import REFERENCE_SPEC, SPECS

from generator.spec import load_spec_text
from generator.spec.secret_scan import _PLUGINS, _scan_line, find_secrets
from generator.spec.yamlpos import load_yaml_text

REFERENCE = REFERENCE_SPEC.read_text()
ENV_ANCHOR = "      LOG_LEVEL: info\n"  # apps[1] (api), line 66 of the reference
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9l"
    "IiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
# The issue's examples, each as an environment variable of the api app.
ISSUE_EXAMPLES = {
    "MYSQL_PWD": "hunter2",
    "REDIS_URL": "redis://:pw@cache.internal:6379/0",
    "PAYMENTS": "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "ALERTS": "https://hooks.slack.com/services/T0ABCDEFG/B0ABCDEFG/abcdefghijABCDEFGHIJ1234",
    "SIGNING": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "UPSTREAM_AUTH": f"Bearer {JWT}",
}


def _with_env(var: str, value: str, comment: str = "") -> str:
    line = f"      {var}: {json.dumps(value)}{comment}\n"
    return REFERENCE.replace(ENV_ANCHOR, ENV_ANCHOR + line, 1)


def _secret_findings(text: str) -> list:
    result = load_spec_text(text, "p.yaml")
    return [d for d in result.diagnostics if d.code.startswith("policy.secret")]


@pytest.mark.parametrize("var", sorted(ISSUE_EXAMPLES))
def test_the_issue_examples_are_refused_on_their_line(var: str) -> None:
    text = _with_env(var, ISSUE_EXAMPLES[var])
    [finding] = _secret_findings(text)
    # `      VAR: "value"` on line 67: the finding points at the value.
    assert (finding.line, finding.column) == (67, len(var) + 9)
    assert text.splitlines()[66][finding.column - 1 :] == json.dumps(ISSUE_EXAMPLES[var])
    assert finding.severity == "error"
    assert finding.code == "policy.secret-in-env"
    assert finding.path == f"apps[1].env.{var}"
    assert "Secrets Manager" in finding.fix
    assert f"{{{var}: {{secret: <name>}}}}" in finding.fix


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (ISSUE_EXAMPLES["PAYMENTS"], "Stripe Access Key"),
        (ISSUE_EXAMPLES["ALERTS"], "Slack Token"),
        (ISSUE_EXAMPLES["UPSTREAM_AUTH"], "JSON Web Token"),
        (ISSUE_EXAMPLES["SIGNING"], "Hex High Entropy String"),
        ("AKIAIOSFODNN7EXAMPLE", "AWS Access Key"),
        ("ghp_" + "aB3dE5gH7j" * 3 + "K9mN1p", "GitHub Token"),
        ("xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "Slack Token"),
        (
            "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",
            "SendGrid API Key",
        ),
        (
            "dGhpcyBpcyBhIHZlcnkgc2VjcmV0IHZhbHVlIHRoYXQgc2hvdWxkIG5vdCBsZWFr",
            "Base64 High Entropy String",
        ),
    ],
)
def test_detect_secrets_finds_secrets_in_any_string_value(value: str, kind: str) -> None:
    # An env var with a neutral name: only the value can give it away...
    [in_env] = _secret_findings(_with_env("UPSTREAM", value))
    assert kind in in_env.message
    # ...and the same value in a field that is not an env var at all.
    text = REFERENCE.replace(
        "  description: Small-business loan applications for the web and mobile apps",
        f"  description: {json.dumps(value)}",
    )
    [in_field] = _secret_findings(text)
    assert (in_field.line, in_field.column, in_field.path) == (15, 16, "project.description")
    assert in_field.code == "policy.secret-in-spec"
    assert kind in in_field.message
    assert "Secrets Manager" in in_field.fix and "apps[].secrets" in in_field.fix


def test_a_private_key_in_a_block_scalar_is_found_at_the_value() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7b\n-----END RSA PRIVATE KEY-----\n"
    block = "".join(f"        {line}\n" for line in key.splitlines())
    text = REFERENCE.replace(ENV_ANCHOR, ENV_ANCHOR + "      CERT: |\n" + block, 1)
    [finding] = _secret_findings(text)
    assert (finding.line, finding.path) == (67, "apps[1].env.CERT")
    assert "Private Key" in finding.message


def test_secrets_are_found_in_per_environment_env_and_secret_references() -> None:
    text = REFERENCE.replace(
        "          LOG_LEVEL: debug\n",
        "          LOG_LEVEL: debug\n          DB_PASSWORD: s3cr3t\n",
    )
    [finding] = _secret_findings(text)
    assert finding.path == "apps[1].environments.dev.env.DB_PASSWORD"
    assert finding.code == "policy.secret-in-env"
    pasted = REFERENCE.replace(
        "passwordSecret: getprospa/migration/digitalocean-source",
        f"passwordSecret: {ISSUE_EXAMPLES['PAYMENTS']}",
    )
    [finding] = _secret_findings(pasted)
    assert finding.path == "migration.source.passwordSecret"


SECRET_NAMES = [
    "MYSQL_PWD", "DB_PASSWORD", "PASSWORD", "REDIS_PASS", "SMTP_PASSWD", "GPG_PASSPHRASE",
    "JWT_SECRET", "CLIENT_SECRET", "GITHUB_TOKEN", "AUTH_TOKEN", "API_KEY", "APIKEY",
    "X_API_KEY", "SIGNING_KEY", "SESSION_KEY", "HMAC_KEY", "ENCRYPTION_KEY", "MASTER_KEY",
    "PRIVATE_KEY", "TLS_KEY", "AWS_SECRET_ACCESS_KEY", "GCP_CREDENTIALS", "SENTRY_DSN",
    "PASSWORD_SALT", "SLACK_WEBHOOK_URL", "BASIC_AUTH", "COOKIE_SECRET", "DB_CONNECTION_STRING",
]  # fmt: skip


@pytest.mark.parametrize("var", SECRET_NAMES)
def test_variables_named_like_secrets_may_not_hold_a_value(var: str) -> None:
    [finding] = _secret_findings(_with_env(var, "plain words"))
    assert "named like a secret" in finding.message


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("PWD", "/srv/app"),
        ("OLDPWD", "/srv"),
        ("PASSWORD_MIN_LENGTH", "12"),
        ("TOKEN_TTL_SECONDS", "3600"),
        ("DB_PASSWORD", ""),
        ("DB_PASSWORD", "$(DB_PASSWORD_FROM_SECRET)"),
        ("API_KEY", "${API_KEY}"),
        ("JWT_SECRET", "arn:aws:secretsmanager:ap-southeast-2:111111111111:secret:jwt-AbCdEf"),
        ("DATABASE_URL", "mysql://app:$(DB_PASSWORD)@db.internal:3306/app"),
        ("CACHE_URL", "redis://cache.internal:6379/0"),
        ("ADMIN_EMAIL", "ops@getprospa.com.au"),
        ("DOCS_URL", "https://example.com/team@getprospa/docs"),
        ("GIT_REMOTE", "ssh://git@github.com/getprospa/platform.git"),
        ("READER_URL", "mysql://app:@db.internal/app"),
        ("FEATURE_FLAGS", "fast-decisions,open-banking"),
        ("REQUEST_ID_HEADER", "X-Request-Id"),
        ("TRACE_ID", "550e8400-e29b-41d4-a716-446655440000"),
    ],
)
def test_values_that_are_not_secrets_pass(var: str, value: str) -> None:
    assert _secret_findings(_with_env(var, value)) == []


@pytest.mark.parametrize(
    "url",
    [
        "redis://:pw@cache:6379",
        "rediss://default:pw@cache:6380/1",
        "amqp://user:pw@mq/vhost",
        "postgres://user:pw@db/app",
        "mongodb+srv://user:pw@cluster0.example.net/app",
        "mysql://user:p%40ss@db:3306/app",
        "https://x-access-token:abc@github.com/org/repo.git",
        "ftp://user:pw@files.example.com",
        "HTTP://USER:PW@EXAMPLE.COM",
    ],
)
def test_a_password_in_a_url_of_any_scheme_is_refused_anywhere(url: str) -> None:
    [finding] = _secret_findings(_with_env("UPSTREAM", url))
    assert "URL with a password" in finding.message
    text = REFERENCE.replace(
        "  owner: platform-team", f"  owner: platform-team\n  description: see {url}"
    )
    text = text.replace(
        "  description: Small-business loan applications for the web and mobile apps\n", ""
    )
    [finding] = _secret_findings(text)
    assert (finding.path, finding.code) == ("project.description", "policy.secret-in-spec")


@pytest.mark.parametrize(
    "spec", [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))], ids=lambda p: p.stem
)
def test_good_specs_hold_no_secrets(spec: Path) -> None:
    doc = load_yaml_text(spec.read_text())
    assert list(find_secrets(doc)) == []


def test_the_allowlist_pragma_silences_a_heuristic_finding_but_not_a_rule() -> None:
    pragma = "  # pragma: allowlist secret"
    assert _secret_findings(_with_env("BUILD_DIGEST", ISSUE_EXAMPLES["SIGNING"], pragma)) == []
    assert len(_secret_findings(_with_env("MYSQL_PWD", "hunter2", pragma))) == 1
    assert len(_secret_findings(_with_env("CACHE", "redis://:pw@cache", pragma))) == 1


def test_findings_are_deterministic() -> None:
    text = _with_env("PAYMENTS", ISSUE_EXAMPLES["PAYMENTS"])
    _scan_line.cache_clear()
    first = [d.format() for d in load_spec_text(text).diagnostics]
    _scan_line.cache_clear()
    assert [d.format() for d in load_spec_text(text).diagnostics] == first
    assert "Base64 High Entropy String, Stripe Access Key" in "\n".join(first)


def test_detection_makes_no_network_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import requests

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("detect-secrets tried to reach the network")

    monkeypatch.setattr(requests.Session, "request", refuse)
    _scan_line.cache_clear()
    for var, value in ISSUE_EXAMPLES.items():
        assert _secret_findings(_with_env(var, value))


def _corpus() -> list[tuple[str, str]]:
    """(key, value) lines: every string of the good specs, the examples, random tokens."""
    pairs: list[tuple[str, str]] = []
    for spec in [REFERENCE_SPEC, *sorted(SPECS.glob("*.yaml"))]:
        doc = load_yaml_text(spec.read_text())
        for path in doc.written:
            value = doc.data
            for part in path:
                value = value[part]
            if isinstance(value, str) and "\n" not in value:
                key = next((p for p in reversed(path) if isinstance(p, str)), "value")
                pairs.append((key, value))
    pairs += [("UPSTREAM", v) for v in ISSUE_EXAMPLES.values()]
    pairs += [("password", "hunter2"), ("api_key", "abcd1234efgh"), ("db_pass", "x")]
    rng = random.Random(9)
    for length in (8, 16, 24, 32, 40, 64):
        for alphabet in (string.hexdigits.lower(), string.ascii_letters + string.digits + "+/"):
            pairs.append(("TOKEN_VALUE", "".join(rng.choice(alphabet) for _ in range(length))))
    unique: dict[str, tuple[str, str]] = {}
    for key, value in pairs:
        unique.setdefault(value, (key, value))
    return sorted(unique.values())


def test_in_memory_scan_finds_what_detect_secrets_finds_in_a_file(tmp_path: Path) -> None:
    """The fast in-memory path agrees with the library scanning the same lines as a file."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import transient_settings

    corpus = _corpus()
    spec = tmp_path / "corpus.yaml"
    spec.write_text(
        "".join(f"k{i}_{key}: {json.dumps(value)}\n" for i, (key, value) in enumerate(corpus))
    )
    plugins = [{"name": name, **kwargs} for _, name, kwargs in _PLUGINS]
    with transient_settings({"plugins_used": plugins}):
        collection = SecretsCollection(root=str(tmp_path))
        collection.scan_file("corpus.yaml")
    library: dict[int, set[str]] = {}
    for _, secret in collection:
        library.setdefault(secret.line_number, set()).add(secret.type)
    ours = {
        i + 1: set(kinds)
        for i, (key, value) in enumerate(corpus)
        if (kinds := _scan_line(f"k{i}_{key}", value, ""))
    }
    assert ours == library
    assert len(ours) >= 10  # the corpus holds real secrets, and they are found


def test_real_looking_ids_are_not_secrets() -> None:
    # Account ids with as many distinct digits as 12 can hold, Cognito pool and client ids.
    text = REFERENCE.replace('account: "111111111111"', 'account: "483920175634"')
    text = text.replace('account: "222222222222"', 'account: "901827364519"')
    text = text.replace("ap-southeast-2_Dev0Pool1", "ap-southeast-2_Xk3Lm9PqR")
    text = text.replace(
        "1example0dev0web0client0id,1example0dev0mobile0client",
        "4n4fjlt2n4sl5ldsfe0hpjjnhd,7gq2r5u1c0bm3vj8h6k9p4s2tn",
    )
    assert text.count("483920175634") == 1 and text.count("4n4fjlt2n4sl5ldsfe0hpjjnhd") == 1
    result = load_spec_text(text)
    assert result.ok, [d.format() for d in result.errors]
    assert _secret_findings(text) == []
