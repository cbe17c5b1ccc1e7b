"""Secret values in a spec: Yelp's detect-secrets on every string, plus name and URL rules.

A spec is read by auditors and lives in version control, so it holds no secret values:
secrets are references to AWS Secrets Manager (`apps[].secrets`). This module looks at
every string value of the spec, not only environment variables:

- detect-secrets (pinned; its plugins with their entropy limits and its default
  false-positive filters, run in memory on one `key: "value"` line per value, the way its
  own YAML transformer feeds it a file). No file is written and nothing is verified over
  the network.
- environment variables named like a secret (`*_PASSWORD`, `MYSQL_PWD`, `*_TOKEN`,
  `SIGNING_KEY`, ...) that hold a value;
- URLs of any scheme with a password in them, also with an empty user
  (`redis://:pw@host`), which detect-secrets does not catch.

Values that only point at a secret are not secrets: a Kubernetes `$(VAR)` or shell
`${VAR}` reference, a `<placeholder>`, an ARN of a Secrets Manager secret or SSM
parameter. A heuristic finding of detect-secrets (entropy, keywords) that is not a
secret can be marked the library's way, with `# pragma: allowlist secret` on the line;
the name and URL rules are exact and take no exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from .yamlpos import LoadedYaml, SpecPath

# detect-secrets' plugins (module, class, arguments), listed so that an upgrade cannot
# change what validate refuses without a change here. Its IPPublicDetector is left out:
# an address is not a secret.
_PLUGINS: list[tuple[str, str, dict[str, Any]]] = [
    ("artifactory", "ArtifactoryDetector", {}),
    ("aws", "AWSKeyDetector", {}),
    ("azure_storage_key", "AzureStorageKeyDetector", {}),
    ("high_entropy_strings", "Base64HighEntropyString", {"limit": 4.5}),
    ("basic_auth", "BasicAuthDetector", {}),
    ("cloudant", "CloudantDetector", {}),
    ("discord", "DiscordBotTokenDetector", {}),
    ("github_token", "GitHubTokenDetector", {}),
    ("gitlab_token", "GitLabTokenDetector", {}),
    ("high_entropy_strings", "HexHighEntropyString", {"limit": 3.0}),
    ("ibm_cloud_iam", "IbmCloudIamDetector", {}),
    ("ibm_cos_hmac", "IbmCosHmacDetector", {}),
    ("jwt", "JwtTokenDetector", {}),
    ("keyword", "KeywordDetector", {}),
    ("mailchimp", "MailchimpDetector", {}),
    ("npm", "NpmDetector", {}),
    ("openai", "OpenAIDetector", {}),
    ("private_key", "PrivateKeyDetector", {}),
    ("pypi_token", "PypiTokenDetector", {}),
    ("sendgrid", "SendGridDetector", {}),
    ("slack", "SlackDetector", {}),
    ("softlayer", "SoftlayerDetector", {}),
    ("square_oauth", "SquareOAuthDetector", {}),
    ("stripe", "StripeDetector", {}),
    ("telegram_token", "TelegramBotTokenDetector", {}),
    ("twilio", "TwilioKeyDetector", {}),
]
# The file name tells detect-secrets' keyword plugin which syntax to expect.
_SCAN_AS = "platform.yaml"

# Names that say "this is a secret", as the last words of an environment variable.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:"
    r"PASSWORD|PASSWD|PASS|PWD|PASSPHRASE|PASSCODE"
    r"|SECRET|SECRETS|TOKEN|CREDENTIALS?|DSN|SALT|PEPPER|AUTHORIZATION|BEARER|BASIC_AUTH"
    r"|WEBHOOK|WEBHOOK_URL|COOKIE_SECRET|CONNECTION_STRING"
    r"|(?:API|APP|AUTH|SERVICE|ACCOUNT|DB|DATABASE|PRIV|PRIVATE|CLIENT|SECRET|SIGNING"
    r"|SIGNATURE|ENCRYPTION|ENCRYPT|DECRYPTION|MASTER|SESSION|HMAC|JWT|ACCESS|LICENSE|LICENCE"
    r"|SSH|GPG|PGP|AES|RSA|TLS|SSL|DEPLOY|ADMIN)_?KEY"
    r")$",
    re.IGNORECASE,
)
# The shell's own variables, which end in PWD and hold directories.
_NOT_SECRET_NAMES = {"PWD", "OLDPWD"}
# scheme://user:password@ (the user may be empty).
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://([^/\s?#@]*?):([^/\s?#@]*)@", re.IGNORECASE)
# A value, or a URL's password, that only refers to a secret kept elsewhere.
_REFERENCE = re.compile(
    r"^(?:\$\([A-Za-z_][A-Za-z0-9_]*\)|\$\{[A-Za-z_][A-Za-z0-9_]*\}|<[^<>]*>|\{\{[^{}]*\}\}"
    r"|arn:aws[a-z-]*:(?:secretsmanager|ssm):\S+)$"
)
_COMMENT = re.compile(r"\s#.*$")
_ALLOWLIST = re.compile(r"pragma: ?allowlist[ -]secret")


@dataclass(frozen=True)
class SecretFinding:
    path: SpecPath
    code: str
    message: str
    fix: str


def find_secrets(doc: LoadedYaml) -> Iterator[SecretFinding]:
    """Every string value of the spec that holds a secret, once, with what it looks like."""
    lines = doc.text.splitlines()
    data: dict[str, Any] = doc.data
    apps = data.get("apps", [])
    reasons: dict[SpecPath, str] = {}
    pending: dict[SpecPath, tuple[str, str, str]] = {}
    for path, value in _strings(data, ()):
        env_var = _env_var(path)
        reason = _by_rule(env_var, value)
        if reason is not None:
            reasons[path] = reason
        elif value.strip() and not _is_reference(value):
            line = doc.position(path).line
            comment = _comment(lines[line - 1]) if 0 < line <= len(lines) else ""
            pending[path] = (_key_for(path, env_var), value, comment)
    reasons.update(_by_detect_secrets(pending))
    for path, reason in reasons.items():
        env_var = _env_var(path)
        if env_var is not None:
            app = apps[path[1]].get("name", "?") if isinstance(path[1], int) else "?"
            yield SecretFinding(
                path,
                "policy.secret-in-env",
                f"env var {env_var} of app '{app}' holds {reason}; specs hold no secret values",
                f"store it in AWS Secrets Manager and reference it under secrets: "
                f"{{{env_var}: {{secret: <name>}}}} (and rotate it: it is in version control)",
            )
        else:
            yield SecretFinding(
                path,
                "policy.secret-in-spec",
                f"this value holds {reason}; specs hold no secret values",
                "take it out of the spec and rotate it (it is in version control); keep it in "
                "AWS Secrets Manager, and give the app that needs it a reference under "
                "apps[].secrets: {NAME: {secret: <name>}}",
            )


def _strings(node: Any, path: SpecPath) -> Iterator[tuple[SpecPath, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, i))


def _env_var(path: SpecPath) -> str | None:
    """The variable's name when `path` is an app's plain environment variable."""
    if len(path) == 4 and path[0] == "apps" and path[2] == "env":
        return str(path[3])
    if len(path) == 6 and path[0] == "apps" and path[2] == "environments" and path[4] == "env":
        return str(path[5])
    return None


def _key_for(path: SpecPath, env_var: str | None) -> str:
    """The key detect-secrets sees: the variable or field name, but never a reference's."""
    if env_var is not None:
        return env_var
    names = [p for p in path if isinstance(p, str)]
    field = names[-1] if names else "value"
    if "secrets" in names or field in ("secret", "key") or field.endswith("Secret"):
        # These fields hold the names of Secrets Manager secrets: the keyword plugin
        # would take a field called passwordSecret for a password.
        return "value"
    return field


def _is_reference(value: str) -> bool:
    return bool(_REFERENCE.match(value.strip()))


def _by_rule(env_var: str | None, value: str) -> str | None:
    for match in _URL_PASSWORD.finditer(value):
        password = match.group(2)
        if password and not _is_reference(password):
            return "a URL with a password in it"
    if (
        env_var is not None
        and env_var.upper() not in _NOT_SECRET_NAMES
        and _SECRET_NAME.search(env_var)
        and value.strip()
        and not _is_reference(value)
    ):
        return "a value for a variable named like a secret"
    return None


def _comment(line: str) -> str:
    match = _COMMENT.search(line)
    return match.group(0) if match and _ALLOWLIST.search(match.group(0)) else ""


def _by_detect_secrets(pending: dict[SpecPath, tuple[str, str, str]]) -> dict[SpecPath, str]:
    """What detect-secrets finds in each value, as one `key: "value"` line per value line."""
    found: dict[SpecPath, str] = {}
    for path, (key, value, comment) in pending.items():
        kinds: set[str] = set()
        for part in value.splitlines():
            kinds |= _scan_line(key, part, comment)
        if kinds:
            found[path] = f"a secret (detect-secrets: {', '.join(sorted(kinds))})"
    return found


class _Detector:
    """detect-secrets' plugins and its default false-positive filters, called directly.

    The library's own scan loop injects arguments by introspection for every line and
    filter, which costs a third of a millisecond per value; a spec can hold tens of
    thousands of values. The plugins find candidates; the filters, which only ever
    remove candidates, run on those alone. Nothing goes through the library's global
    settings, so its verification against vendors' APIs (network) never runs.
    """

    def __init__(self) -> None:
        import importlib

        from detect_secrets.filters import allowlist, heuristic
        from detect_secrets.plugins.base import RegexBasedDetector
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
        from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector
        from detect_secrets.util.code_snippet import get_code_snippet

        plugins = [
            getattr(importlib.import_module(f"detect_secrets.plugins.{module}"), name)(**kwargs)
            for module, name, kwargs in _PLUGINS
        ]
        self.keyword = next(p for p in plugins if isinstance(p, KeywordDetector))
        self.entropy = [p for p in plugins if isinstance(p, HighEntropyStringsPlugin)]
        self.regex = [p for p in plugins if isinstance(p, RegexBasedDetector)]
        assert len(self.regex) + len(self.entropy) + 1 == len(plugins)
        # Cheap necessary conditions, so that most values cost three regex searches:
        # - every pattern of the keyword plugin contains one of its keywords;
        # - a regex plugin finds something only where one of its patterns matches;
        # - Shannon entropy is at most log2 of the number of distinct characters.
        self.keywords = re.compile("|".join(DENYLIST), re.IGNORECASE)
        # One search per pattern: joined into one alternation they search three times slower.
        self.patterns = [pattern.search for plugin in self.regex for pattern in plugin.denylist]
        self.snippet = get_code_snippet
        self.line_allowlisted = allowlist.is_line_allowlisted
        self.indirect_reference = heuristic.is_indirect_reference
        self.likely_id = heuristic.is_likely_id_string
        self.secret_filters = (
            heuristic.is_sequential_string,
            heuristic.is_potential_uuid,
            heuristic.is_templated_secret,
            heuristic.is_prefixed_with_dollar_sign,
            heuristic.is_not_alphanumeric_string,
        )

    def candidates(self, line: str) -> list[tuple[Any, Any]]:
        """What the plugins find in `line`, before the false-positive filters."""
        plugins: list[Any] = []
        if any(search(line) for search in self.patterns):
            plugins.extend(self.regex)
        if self.keywords.search(line):
            plugins.append(self.keyword)
        for plugin in self.entropy:
            floor = 2**plugin.entropy_limit
            if any(len(set(match)) > floor for match in plugin.analyze_string(line)):
                plugins.append(plugin)
        return [
            (plugin, secret)
            for plugin in plugins
            for secret in plugin.analyze_line(
                filename=_SCAN_AS, line=line, line_number=1, context=None
            )
        ]

    def scan(self, line: str) -> frozenset[str]:
        candidates = self.candidates(line)
        if not candidates:
            return frozenset()
        context = self.snippet([line], 1)
        if self.line_allowlisted(_SCAN_AS, line, context) or self.indirect_reference(line):
            return frozenset()
        kinds = set()
        for plugin, secret in candidates:
            value = secret.secret_value or ""
            if any(f(value) for f in self.secret_filters) or self.likely_id(value, line, plugin):
                continue
            kinds.add(secret.type)
        return frozenset(kinds)


@cache
def _detector() -> _Detector:
    return _Detector()


@cache
def _scan_line(key: str, value: str, comment: str) -> frozenset[str]:
    """The secret types detect-secrets finds in one value line (cached: values repeat)."""
    if not value.strip():
        return frozenset()
    # As detect-secrets' YAML transformer writes a value: quoted, inner quotes escaped.
    escaped = value.replace('"', '\\"')
    return _detector().scan(f'{key}: "{escaped}"{comment}')
