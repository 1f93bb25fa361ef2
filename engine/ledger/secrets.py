"""Keep credentials out of the evidence: mask secret-looking values before anything is
written into a ledger payload or an artifact copy.

Three nets, applied together:

* **names** -- a mapping key whose name looks like a credential (``api_key``, ``token``,
  ``secret``, ``password``, ``passphrase``, ``authorization``, ...) has its value masked;
* **shapes** -- strings matching known credential formats are masked wherever they occur:
  Databento keys (``db-`` + 29 alphanumerics), AWS access key ids (``AKIA...``), bearer tokens,
  GitHub/Slack/OpenAI-style tokens, PEM private key blocks, passwords in URLs;
* **environment** -- the current values of environment variables whose names look secret
  (``DATABENTO_API_KEY``, ``BROKER_PASSWORD``, ...) are masked wherever they occur. Only
  those: the shell's ``PWD``/``OLDPWD`` (the working directory, not a password) and agent
  sockets are locations, so the target path or ``$HOME`` is never masked. The store's signing
  key given by ``GOLIVE_STORE_KEY``/``GOLIVE_STORE_KEY_FILE`` is masked whole, line by line and
  as raw bytes in base64 and hex (``golive.ledger.keysource.secret_values``).

Masks keep no part of the secret: ``[REDACTED:<kind>]``.
"""
from __future__ import annotations

import functools
import logging
import os
import re
from typing import Any, Mapping

MASK = "[REDACTED:{}]"

# Words that make a field or variable name credential-like. Matched against the name's parts
# (split on non-alphanumerics and camelCase), so "monkey" or "tokenizer_version" do not match.
SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "passphrase",
                "credential", "credentials", "auth", "authorization", "bearer", "cookie",
                "private", "privatekey", "accesskey", "secretkey"}
# Names built from those words that hold public identifiers, never secrets.
PUBLIC_NAMES = {"key_id", "keyid", "key_ids", "public_key", "publickey", "public_key_id", "author_key_id",
                "key_fingerprint", "sort_key", "primary_key", "key_count", "keys_rotated"}

SHAPES: list[tuple[str, re.Pattern[str]]] = [
    ("pem-private-key", re.compile(
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?-----END [A-Z0-9 ]*PRIVATE KEY-----", re.S)),
    ("databento-key", re.compile(r"(?<![A-Za-z0-9])db-[A-Za-z0-9]{29}(?![A-Za-z0-9])")),
    ("aws-access-key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("bearer-token", re.compile(r"\b(?i:bearer)\s+[A-Za-z0-9\-._~+/]{8,}=*")),
    ("github-token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})")),
    ("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("api-token", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    ("url-password", re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")),
]
# "name = value" / "name: value" / "name": "value" in text artifacts (.env, YAML, TOML, JSON);
# a quoted value is taken whole (it may hold spaces), a bare one up to the next delimiter.
ASSIGNMENT = re.compile(
    r"""(?P<name>["']?[A-Za-z_][\w.-]*["']?)(?P<sep>[ \t]*[:=][ \t]*)"""
    r"""(?:(?P<quote>["'])(?P<qvalue>[^"'\n]+)(?P=quote)|(?P<value>[^\s"',}#\[{][^\s"',}#]*))""")
BARE_LITERALS = {"null", "~", "true", "false", "none", "None", "True", "False"}
MIN_ENV_SECRET_LEN = 6
# Environment variables whose names hold a secret word but whose values are locations or
# process ids set by the shell or a login session ("PWD" is the working directory).
NON_SECRET_ENV = {"PWD", "OLDPWD", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GPG_AGENT_INFO",
                  "GNOME_KEYRING_CONTROL", "GNOME_KEYRING_PID", "XAUTHORITY", "KRB5CCNAME"}
# All shapes in one pass: one scan per string instead of one per shape.
ANY_SHAPE = re.compile("|".join(f"(?P<g{i}>{p.pattern})" for i, (_, p) in enumerate(SHAPES)), re.S)
SHAPE_KINDS = {f"g{i}": kind for i, (kind, _) in enumerate(SHAPES)}


def _name_parts(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [p for p in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if p]


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """True when a field or variable name looks like it holds a credential."""
    lowered = name.strip("\"'").lower()
    if lowered in PUBLIC_NAMES:
        return False
    parts = _name_parts(name.strip("\"'"))
    return any(p in SECRET_WORDS for p in parts) or "".join(parts) in SECRET_WORDS


def env_secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    """Values of environment variables whose names look secret, longest first (so a value
    that contains another is masked whole). Never the value of any other variable."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items()
              if k.upper() not in NON_SECRET_ENV and is_secret_name(k) and len(v) >= MIN_ENV_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


_PLAIN_SCALARS = (int, float, bool, type(None))
_CACHED_LEN, _CACHE_SIZE = 200, 50_000


class Redactor:
    """Masks secrets in payloads and artifact bytes. Build one per run: it snapshots the
    secret environment values once."""

    def __init__(self, environ: Mapping[str, str] | None = None,
                 extra_values: list[str] | None = None) -> None:
        extra = list(extra_values or [])
        if environ is None:  # the store's key given by the environment, also in pieces (keysource)
            from golive.ledger.keysource import secret_values
            extra += secret_values()
        self.values = env_secret_values(environ) + sorted(extra, key=len, reverse=True)
        self._values_re = (re.compile("|".join(re.escape(v) for v in self.values))
                           if self.values else None)
        self._cache: dict[str, str] = {}

    # -- structured data ---------------------------------------------------------------
    def text(self, s: str) -> str:
        """Mask credential shapes and known secret values inside one string."""
        if self._values_re is not None:
            s = self._values_re.sub(MASK.format("environment-secret"), s)
        return ANY_SHAPE.sub(lambda m: MASK.format(SHAPE_KINDS[m.lastgroup]), s)

    def obj(self, value: Any) -> Any:
        """A copy of ``value`` (dicts, lists, strings, scalars) with secrets masked."""
        kind = type(value)
        if kind in _PLAIN_SCALARS:
            return value
        if kind is str:
            if len(value) > _CACHED_LEN:
                return self.text(value)
            masked = self._cache.get(value)
            if masked is None:  # labels and ids repeat across results: mask each once
                if len(self._cache) > _CACHE_SIZE:
                    self._cache.clear()
                masked = self._cache[value] = self.text(value)
            return masked
        if kind is list or kind is tuple:
            return [self.obj(item) for item in value]
        if kind is dict or isinstance(value, Mapping):
            return {key: self._named(item) if type(key) is str and is_secret_name(key) else self.obj(item)
                    for key, item in value.items()}
        if isinstance(value, str):
            return self.text(str(value))
        return value

    def _named(self, item: Any) -> Any:
        """The value of a field with a secret-looking name: strings are masked whole; numbers,
        booleans and nulls cannot hold a credential and are kept (``key_present: true`` is a
        finding, not a secret); containers are masked item by item."""
        if isinstance(item, str):
            return MASK.format("field") if item else item
        if isinstance(item, (list, tuple)):
            return [self._named(x) for x in item]
        return self.obj(item)

    # -- artifact copies -----------------------------------------------------------------
    def blob(self, data: bytes) -> tuple[bytes, bool]:
        """Mask secrets in an artifact's bytes. Text (UTF-8) also gets ``name = value``
        assignments with secret names masked; binary data only known shapes and values, since
        a text pattern would match random bytes. Returns (bytes, whether anything changed)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return self._binary(data)
        masked = self.text(text)
        masked = ASSIGNMENT.sub(self._mask_assignment, masked)
        return (masked.encode("utf-8"), True) if masked != text else (data, False)

    @staticmethod
    def _mask_assignment(m: re.Match[str]) -> str:
        value = m.group("qvalue") if m.group("quote") else m.group("value")
        if (not is_secret_name(m.group("name")) or value.startswith("[REDACTED")
                or (not m.group("quote") and value in BARE_LITERALS)):
            return m.group(0)
        quote = m.group("quote") or ""
        return f"{m.group('name')}{m.group('sep')}{quote}{MASK.format('field')}{quote}"

    def _binary(self, data: bytes) -> tuple[bytes, bool]:
        out = data
        patterns = [p for _, p in SHAPES[:3]]  # PEM, Databento, AWS: fixed ASCII shapes
        if self._values_re is not None:
            patterns.append(self._values_re)
        for pattern in patterns:
            out = re.sub(pattern.pattern.encode(), b"[REDACTED]", out, flags=pattern.flags & re.S)
        return out, out != data


class RedactingFilter(logging.Filter):
    """Masks secrets in log records before a handler writes them: install it on the handlers
    that write golive's log (``handler.addFilter(RedactingFilter())``), so a check that logs a
    credential does not put it on the console or into a log file."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or Redactor()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = self.redactor.text(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def redact(value: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Mask anything credential-like in ``value`` (see the module docstring)."""
    return Redactor(environ).obj(value)
