"""What counts as a plaintext secret in one line: the rules and the false-positive filters.

Two kinds of rule (docs/secret-scanning.md):

* **Known formats** -- a value whose shape alone says it is a credential (AWS access key id,
  GitHub/Slack/Stripe/OpenAI tokens, Google API key, Databento key, a PEM private key block
  *with a body*, an unexpired JSON web token, a high-entropy bearer token). These are findings
  wherever they are, tests and docs included; only documented example values
  (``AKIAIOSFODNN7EXAMPLE``...), sequences and truncated/placeholder bodies are not.
* **Assignments** -- ``name = value`` where the name says secret (``api_key``, ``token``,
  ``password``...) and the value looks random. In code files (.py .rs .go .ts .js ...) only
  quoted string literals count, so ``cancellation_token: CancellationToken::new()`` or
  ``api_key: Box<str>`` are never values; config files (.env .yaml .ini .toml .sh...) may
  hold bare values. Values that are references (``${ENV}``, ``os.environ[...]``, vault),
  identifiers, types, placeholders (``SuperSecurePassword``, ``your_api_key``, ``<key>``)
  are not secrets; neither are assignments in documentation (Markdown, RST, notebooks,
  ``*.example`` configs) or test fixtures, unless the value has the strength of a real key.

The Yelp ``detect-secrets`` library supplies the format detectors (AWS, GitHub, Slack,
Stripe, OpenAI, basic auth, JWT validation) and its heuristic filters (templated,
sequential, UUID, id-like, indirect reference, lock and swagger files). Its keyword and
entropy plugins are not used: measured on real repositories they report thousands of
false positives (docs/secret-scanning.md).
"""
from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import PurePosixPath

from detect_secrets.filters import heuristic
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.stripe import StripeDetector

try:  # RE2 runs the one-pass line pre-filter as a DFA: ~20x faster than `re` on alternations
    import re2 as _fast_re
except ImportError:  # pragma: no cover - the pure-Python engine gives the same answers, slower
    _fast_re = re

# ---------------------------------------------------------------------------------------------
# Pre-filter: one compiled regex over a file's bytes finds the only lines worth a closer look.
# Every rule below needs one of these fragments on its line.
_FRAGMENTS = (
    # a secret word inside an identifier, then an assignment or key/value operator
    r"(?i:key|secret|token|passw|pwd|passphrase|credential)[\w$.\-@]*[\"'`\]]*\s*(?:[:=]|=>|\?=|\|\|=)"
    r"|(?i:bearer)\s"
    r"|A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA|(?i:aws)|gh[pousr]_|github_pat_|xox[abposr]-|hooks\.slack|[rs]k_live_|sk-"
    r"|AIza|db-|-----BEGIN|eyJ|://[^/\s:@]+:[^/\s@]+@"
)
CANDIDATE_LINE = _fast_re.compile(("[^\n]*(?:" + _FRAGMENTS + ")[^\n]*").encode())
CANDIDATE = re.compile(_FRAGMENTS)  # the same test on one str line

# ---------------------------------------------------------------------------------------------
# Known formats. (rule, library detector or own regex); library detectors run on the line.
_AWS = AWSKeyDetector()
_AWS_ID = _AWS.denylist[0]
# GitHubTokenDetector is not used: its pattern's capture group makes findall yield only the
# prefix ("ghp"), not the token (detect-secrets 1.5.0); the own pattern below replaces it.
_LIBRARY_FORMATS = [  # (rule, detector, substrings one of which the line must hold)
    ("slack-token", SlackDetector(), ("xox", "hooks.slack")),
    ("stripe-live-key", StripeDetector(), ("k_live_",)),
    ("openai-api-key", OpenAIDetector(), ("T3BlbkFJ",)),
]
_OWN_FORMATS = [
    ("github-token", ("gh", "github_pat_"), re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{30,})(?![A-Za-z0-9_])")),
    ("google-api-key", ("AIza",), re.compile(r"\b(AIza[0-9A-Za-z_\-]{35})(?![0-9A-Za-z_\-])")),
    ("databento-api-key", ("db-",), re.compile(r"(?<![A-Za-z0-9])(db-[A-Za-z0-9]{29})(?![A-Za-z0-9])")),
]
KNOWN_FORMATS = sorted({"aws-access-key-id", "aws-secret-access-key", "private-key", "json-web-token",
                        "bearer-token"} | {r for r, *_ in _LIBRARY_FORMATS} | {r for r, *_ in _OWN_FORMATS})
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{20,}=*)")
PEM_BEGIN = re.compile(r"-----BEGIN ((?:RSA|EC|DSA|OPENSSH|ENCRYPTED|PGP|SSH2 ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----")
PEM_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
PEM_BODY_MIN = 64  # base64 characters: a truncated "MIIE...==" in a doc is no key
# Documented example values and obvious stand-ins inside an otherwise real-format key.
FORMAT_PLACEHOLDER = re.compile(r"(?i)example|x{6,}|0{8,}|<|>|\.\.\.|…|your|dummy|fake|sample|redacted")

# ---------------------------------------------------------------------------------------------
# Assignments.
SECRET_WORD = re.compile(
    r"(?i)(secret|passw(?:or)?d|passwd|pwd|passphrase|token|api_?key|apikey|access_?key|private_?key|"
    r"secret_?key|auth_?key|client_?key|signing_?key|credentials?|bearer)")
SECRET_NAME = (r"(?:api[_-]?key|apikey|secret(?:[_-]?key)?|client[_-]?secret|access[_-]?key|auth[_-]?token|token|"
               r"password|passwd|pwd|private[_-]?key)")  # config field names (secrets_at_rest)
# Names that contain a secret word but hold no secret: pagination/cancellation tokens, token
# metadata, public or structural keys, switches and pointers to where the secret lives.
NOT_SECRET_NAME = re.compile(
    r"(?i)(cancel\w*|continuation|page|next|prev|pagination|fee|collateral|base|quote|mint|native|sort|primary|"
    r"foreign|public|partition|cache|idempotency|dedup|lookup|hash|csrf|xsrf|sync|resume|lexer|parse)_?(token|key)s?$"
    r"|(token|key|secret|password|credentials?)s?_?(ids?|names?|types?|kinds?|address|symbol|decimals|count|len|"
    r"length|size|path|file|filename|dir|env|var|field|prefix|suffix|ttl|expiry|expires?|expiration|endpoint|url|"
    r"uri|header|index|idx|hint|label|format|encoding|version|policy|rotation|store|manager|provider|source|"
    r"location|ref|reference|required|enabled|mode|refresh_s|timeout)$"
    r"|^(is|has|use|with|require|requires|should|needs?|enable|disable|allow)_"
    r"|(token|key)_?(izer|ization|ize|ized|type)$")
TEST_NAME = re.compile(r"(?i)^_*(test|mock|fake|dummy|example|sample|smoke|stub|fixture|bogus)_|_(test|mock|fake|dummy)$")
_NAME = r"(?P<name>[A-Za-z_$@][\w$.\-]*)"
# After a secret-named identifier: optional closing quote/bracket, an optional type annotation
# (`TOKEN: &str =`, `api_key: str =`), an operator, then a quoted literal. The identifier is the
# whole run of IDENT_CHARS around a secret word (KEYWORD); QUOTED_TAIL must match at its end.
KEYWORD = re.compile(r"(?i)key|secret|token|passw|pwd|passphrase|credential|bearer")
IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$.-@")
QUOTED_TAIL = re.compile(
    r"""["'`\]]*\s*(?:(?::\s*[\w&<>\[\]:,' ]{1,40}?\s*)?(?::=|=>|===?|!==?|\?\?=|\|\|=|\?=|=)|:)\s*"""
    r"""(?:[@rRbBuUfF]{0,2})(?P<q>["'`])(?P<value>[^"'`\n]*)(?P=q)""")

# ---------------------------------------------------------------------------------------------
# RE2 pre-tests for the line rules (docs/secret-scanning.md, "Speed"). Minified bundles and
# search indexes are lines of 10-500 KB full of "key" and "token"; Python's `re` walking them
# (a case-insensitive alternation, then a regex per detector) cost ~0.1 ms per KB. One RE2 pass
# (a DFA, linear) finds where a rule *could* match; the exact rule (unchanged, in `re`) runs only
# there. Each pre-test is a superset of its rule, so findings are the same
# (tests/test_secret_rules_equivalence.py): lookarounds and \b are dropped, counted repeats
# cut to their minimum, and every non-ASCII character is allowed where `re` has \s, \d or \w
# (Unicode classes there, ASCII in RE2).
#
# Python's re.IGNORECASE also matches four non-ASCII characters to ASCII letters (K KELVIN SIGN
# for k, LONG S for s, dotted and dotless I for i); RE2 knows only the first two, and they are
# not identifier characters. A line holding one of them is judged by the rules alone.
FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
_RE2 = _fast_re is not re
_NON_ASCII = r"\x{80}-\x{10FFFF}" if _RE2 else r"\x80-\U0010FFFF"
_WS = r"[\t\n\x0b\f\r \x1c-\x1f" + _NON_ASCII + "]"  # contains every character re's \s matches in a str
_IDENT = r"[A-Za-z0-9_$.\-@]"  # IDENT_CHARS
# A secret word, the rest of its identifier run, closing quotes/brackets, blanks and the first
# character of every operator QUOTED_TAIL accepts (`:` `=` `!` `?` `|`). Nothing after the run
# is an identifier character, so a match never swallows the next identifier.
QUOTED_CANDIDATE = _fast_re.compile(
    r"(?i:key|secret|token|passw|pwd|passphrase|credential|bearer)(" + _IDENT + r"*)[\"'`\]]*" + _WS + r"*[:=!?|]")


def _fast_text(line: str) -> str | bytes:
    """What RE2 reads: an ASCII line as bytes (offsets are the same, the binding skips its
    UTF-8 to character offset conversion), any other line as is."""
    return line.encode("ascii") if _RE2 and line.isascii() else line


def _no_fast_path(line: str) -> bool:
    """The line holds a character Python's case folding and RE2's disagree on."""
    return any(c in line for c in FOLDS_TO_ASCII)


def quoted_assignments(line: str) -> list[tuple[str, str]]:
    """(name, value) of ``name <op> "literal"`` where the name holds a secret word."""
    if _no_fast_path(line):
        return _quoted_assignments(line)
    try:
        found = list(QUOTED_CANDIDATE.finditer(_fast_text(line)))
    except UnicodeEncodeError:  # lone surrogates: RE2 reads UTF-8 only
        return _quoted_assignments(line)
    out = []
    for m in found:
        start, end = m.start(), m.end(1)
        while start > 0 and line[start - 1] in IDENT_CHARS:
            start -= 1
        tail = QUOTED_TAIL.match(line, end)
        if tail:
            out.append((line[start:end], tail.group("value")))
    return out


def _quoted_assignments(line: str) -> list[tuple[str, str]]:
    """quoted_assignments without the RE2 pre-test: every secret word's identifier, in order."""
    out, done = [], -1
    for m in KEYWORD.finditer(line):
        if m.start() < done:
            continue
        start, end = m.start(), m.end()
        while start > 0 and line[start - 1] in IDENT_CHARS:
            start -= 1
        while end < len(line) and line[end] in IDENT_CHARS:
            end += 1
        done = end
        tail = QUOTED_TAIL.match(line, end)
        if tail:
            out.append((line[start:end], tail.group("value")))
    return out


BARE_ASSIGNMENT = re.compile(
    r"""^\s*(?:-\s+)?(?:export\s+|set\s+|readonly\s+|local\s+)?""" + _NAME
    + r"""\s*(?::|=|:=|\?=)\s*(?P<value>[^\s"'`#;,{}\[\]]+)\s*(?:[#;].*)?$""")
CODE_SUFFIXES = {".py", ".pyi", ".pyx", ".pxd", ".rs", ".go", ".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".java",
                 ".kt", ".kts", ".scala", ".cs", ".c", ".h", ".cc", ".cpp", ".hpp", ".rb", ".php", ".swift", ".m",
                 ".r", ".jl", ".lua", ".dart", ".ex", ".exs", ".erl", ".hs", ".ml", ".vue", ".svelte", ".sql"}
DOC_SUFFIXES = {".md", ".markdown", ".rst", ".adoc", ".asciidoc", ".txt", ".ipynb", ".html", ".htm", ".tex", ".org"}
DOC_DIRS = {"docs", "doc", "documentation", "site", "website", "mkdocs"}
TEST_DIRS = {"tests", "test", "__tests__", "testing", "testdata", "test_data", "test-data", "fixtures", "fixture",
             "spec", "specs", "benches", "mocks", "mock", "integration_tests", "unit_tests"}
EXAMPLE_NAME = re.compile(r"(?i)(^|[._-])(example|examples|sample|template|dist|tmpl|tpl)([._-]|$)")
TEST_FILE = re.compile(r"(?i)(^test_.*|.*_test\.\w+|.*\.(test|spec)\.\w+|^conftest\.py|^test\.\w+)$")

# Values that are references, code or placeholders, not literals.
REFERENCE = re.compile(r"(?i)^(?:\$\{[^}]*\}?|\$\(|\$[A-Z_][A-Z0-9_]*|%\(|ENC\[|enc:|vault:|!vault|sops:|ref\+|"
                       r"arn:|projects/|secretsmanager|ssm:|keyvault|op://|os\.environ|env\(|getenv|process\.env|"
                       r"std::env|<[^>]*>?$|\{\{|\{%|@Value|\#\{)")
CODE_VALUE = re.compile(r"::|\(\)|\w\(|\)$|^&|^\*|<[\w&\[\]:, ]*>|^(self|this|cls|super|ctx|config|cfg|settings|"
                        r"args|kwargs|options|opts|params|env|os|std|crate)\.|^(Some|Ok|Err|None|Option|Box|Arc|Rc|"
                        r"String|Vec|str|bool|bytes|int|float|null|nil|true|false|undefined)\b")
PLACEHOLDER = re.compile(
    r"(?i)example|placeholder|change.?me|changeit|your[_\- .]?|dummy|redacted|x{3,}|\*{3,}|\.\.\.|…|sample|fake|mock|"
    r"test|demo|secret|passw(or)?d|passwd|hunter2|qwerty|letmein|foobar|lorem|todo|fixme|replace|insert|enter_|"
    r"supersecure|something|random|not.?a.?real|invalid|unauthori[sz]ed|default|admin|guest|root|my[_-]?(key|token)|"
    r"^(none|null|nil|true|false|yes|no|on|off|required|optional|string|str|int|bytes)$")
PATH_LIKE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|/|\./|\.\./|~/|[A-Za-z]:\\)|\.(?:pem|key|json|ya?ml|txt|crt|p12|pfx|"
                       r"env|ini|toml|cfg|conf|gpg|asc|der)$", re.IGNORECASE)
LOCK_FILE = re.compile(r"(^|/)([^/]+\.lock|pnpm-lock\.yaml|go\.sum|[^/]*lock\.json|\.terraform\.lock\.hcl)$")
HEX = re.compile(r"^(0x)?[0-9a-fA-F]+$")
RUNS = re.compile(r"[A-Za-z]+|\d+|[_.:/-]|.")


def wordlike(value: str) -> bool:
    """Letters and short numbers joined by separators: "1-HOUR-EXTERNAL", "0xTOKEN_YES"."""
    runs = RUNS.findall(value)
    return all(r in "_.:/-" or r.isalpha() and (len(r) >= 2 or len(runs) > 1) or r.isdigit() and len(r) <= 4
               for r in runs)
B64 = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def decodes_to_placeholder(value: str) -> bool:
    """A base64 value whose plain text is a placeholder ("dGVzdF9zZWNyZXQ=" is "test_secret")."""
    if not B64.fullmatch(value):
        return False
    try:
        raw = base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
        text = raw.decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return False
    return text.isprintable() and bool(PLACEHOLDER.search(text))


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def char_classes(value: str) -> int:
    return sum((any(c.islower() for c in value), any(c.isupper() for c in value), any(c.isdigit() for c in value)))


@functools.lru_cache(maxsize=4096)
def path_context(path: str) -> str:
    """``doc``, ``test`` or ``code`` (anything else) for a repository-relative path."""
    if not path:
        return "code"
    p = PurePosixPath(path)
    parts = {part.lower() for part in p.parts[:-1]}
    if p.suffix.lower() in DOC_SUFFIXES or parts & DOC_DIRS or EXAMPLE_NAME.search(p.name):
        return "doc"
    if parts & TEST_DIRS or TEST_FILE.match(p.name):
        return "test"
    return "code"


@functools.lru_cache(maxsize=4096)
def quotes_required(path: str) -> bool:
    """Code files hold secrets only in string literals; config files may hold bare values."""
    return PurePosixPath(path).suffix.lower() in CODE_SUFFIXES | DOC_SUFFIXES


@functools.lru_cache(maxsize=4096)
def skipped_file(path: str) -> bool:
    """Lock files and swagger specs hold hashes and schema examples, never a deployed secret."""
    return heuristic.is_lock_file(path) or heuristic.is_swagger_file(path) or bool(LOCK_FILE.search(path))


def is_secret_name(name: str) -> bool:
    leaf = re.split(r"[.\[\]$@]", name.strip("\"'`[]"))[-1] or name
    leaf = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", leaf).strip("_-")
    if not leaf or NOT_SECRET_NAME.search(leaf):
        return False
    return bool(SECRET_WORD.search(leaf)) or leaf.lower() == "key"


def value_rejection(value: str, line: str, name: str, min_entropy: float) -> str | None:
    """Why an assigned value is not a secret, or None when it looks like one."""
    if len(value) < 8:
        return "short"
    if REFERENCE.search(value) or heuristic.is_templated_secret(value) or heuristic.is_prefixed_with_dollar_sign(value):
        return "reference"
    if CODE_VALUE.search(value):
        return "code"
    if any(c.isspace() for c in value) or "{" in value or "%s" in value:
        return "text"
    if PLACEHOLDER.search(value):
        return "placeholder"
    if PATH_LIKE.search(value):
        return "path"
    if heuristic.is_not_alphanumeric_string(value) and not value.isdigit():
        return "no letters"
    if heuristic.is_sequential_string(value) or heuristic.is_potential_uuid(value):
        return "sequence or uuid"
    if heuristic.is_likely_id_string(value, line):
        return "id"
    if len(set(value)) < 6 or char_classes(value) < 2 or entropy(value) < min_entropy:
        return "low entropy"
    if wordlike(value) and entropy(value) < 3.8:
        return "word"  # "ApiKeyName", "prod_secret_2", "1-HOUR-EXTERNAL" are names, not keys
    if decodes_to_placeholder(value):
        return "encoded placeholder"  # base64 of "test_secret..."
    if name.lower().strip("\"'`") == "key" and (len(value) < 16 or entropy(value) < 3.5):
        return "low entropy"
    return None


def strong_value(value: str) -> bool:
    """The bar for an assignment in a test fixture or a document: the strength of a real key
    (long, three character classes, high entropy). Hex digests and readable fixtures fail it."""
    return len(value) >= 24 and char_classes(value) == 3 and entropy(value) >= 4.2 and not HEX.match(value)


def format_placeholder(secret: str) -> bool:
    return bool(FORMAT_PLACEHOLDER.search(secret)) or len(set(secret)) < 6 or heuristic.is_sequential_string(secret)


def _bounded(line: str, secret: str) -> bool:
    """The match is not a slice of a longer token (base64 blobs contain AKIA... by chance)."""
    i = line.find(secret)
    if i < 0:
        return True
    before = line[i - 1] if i else " "
    after = line[i + len(secret)] if i + len(secret) < len(line) else " "
    return not (before.isalnum() or after.isalnum())


def jwt_state(token: str, now: datetime | None = None) -> str:
    """``invalid`` (not a JWT), ``expired`` (``exp`` in the past: cannot authenticate) or ``live``."""
    if not JwtTokenDetector.is_formally_valid(token):
        return "invalid"
    try:
        part = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (ValueError, UnicodeDecodeError):
        return "invalid"
    if isinstance(exp, (int, float)) and not isinstance(exp, bool):
        current = (now or datetime.now(timezone.utc)).timestamp()
        if exp < current:
            return "expired"
    return "live"


def jwt_matches(line: str) -> list[re.Match]:
    """``JWT.finditer(line)``, tried only where "eyJ" occurs (every match starts there): on a
    100 KB line `re` would try the word boundary at every position."""
    out, pos = [], 0
    while (i := line.find("eyJ", pos)) >= 0:
        m = JWT.match(line, i)  # \b still sees line[i - 1]
        if m:
            out.append(m)
            pos = m.end()
        else:
            pos = i + 1
    return out


def pem_body(rest: str, following: list[str]) -> str:
    """The base64 body after a BEGIN PRIVATE KEY header: the rest of its line (one-line keys in
    JSON with ``\\n`` escapes) and the lines below, up to the END marker; "" when placeholder."""
    chunks = [rest] + following
    body = []
    for chunk in chunks:
        end = PEM_END.search(chunk)
        text = chunk[:end.start()] if end else chunk
        text = text.replace("\\n", "\n").replace("\\r", "")
        for piece in text.split("\n"):
            piece = piece.strip().strip("\"',+;").strip()
            if not piece or re.match(r"^[A-Za-z-]+:\s", piece):  # Proc-Type: / DEK-Info: headers
                continue
            if FORMAT_PLACEHOLDER.search(piece) or not re.fullmatch(r"[A-Za-z0-9+/=]+", piece):
                return ""
            body.append(piece)
        if end:
            break
    joined = "".join(body)
    return joined if len(joined) >= PEM_BODY_MIN and len(set(joined)) >= 16 else ""


# Per known-format rule, a pattern every match of it contains (a superset of the rule, see above).
_FORMAT_GATES = {
    "aws": r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}"  # AWSKeyDetector.denylist, as written there
           r"|(?i:aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"][0-9a-zA-Z/+]{40}['\"])",
    "slack-token": r"(?i:xox[abposr]-(?:[0-9" + _NON_ASCII + r"]+-)+[a-z0-9]"
                   r"|https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_])",
    "stripe-live-key": r"[rs]k_live_[0-9a-zA-Z]{24}",
    "openai-api-key": r"sk-[A-Za-z0-9_\-]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
    "github-token": r"gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{30}",
    "google-api-key": r"AIza[0-9A-Za-z_\-]{35}",
    "databento-api-key": r"db-[A-Za-z0-9]{29}",
    "private-key": PEM_BEGIN.pattern,
    "json-web-token": r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8}",
    "bearer-token": r"(?i:bearer)" + _WS + r"+[A-Za-z0-9\-._~+/]{20}",
}
FORMAT_GATE = _fast_re.compile("|".join(f"(?:{g})" for g in _FORMAT_GATES.values()))
_FORMAT_GATE = {rule: _fast_re.compile(g) for rule, g in _FORMAT_GATES.items()}
_ALL_FORMATS = frozenset(_FORMAT_GATES)


def possible_formats(line: str) -> frozenset[str]:
    """The known-format rules (``aws`` for both AWS rules) that can match somewhere on the line:
    one RE2 pass over it, then one per rule only when that pass found something."""
    if _no_fast_path(line):
        return _ALL_FORMATS
    try:
        text = line.encode() if _RE2 else line  # a yes/no answer needs no character offsets
        if not FORMAT_GATE.search(text):
            return frozenset()
        return frozenset(rule for rule, gate in _FORMAT_GATE.items() if gate.search(text))
    except UnicodeEncodeError:  # lone surrogates: RE2 reads UTF-8 only
        return _ALL_FORMATS


def known_formats(line: str, following: list[str] | None = None,
                  now: datetime | None = None) -> list[tuple[str, str]]:
    """(rule, secret) for real-format credentials on the line."""
    possible = possible_formats(line)
    return _known_formats(line, following, now, possible) if possible else []


def _known_formats(line: str, following: list[str] | None, now: datetime | None,
                   possible: frozenset[str] = _ALL_FORMATS) -> list[tuple[str, str]]:
    """known_formats, each rule run only when in ``possible``."""
    hits: list[tuple[str, str]] = []
    aws = "aws" in possible
    if aws and "A" in line:  # every AWS key id and the secret's "aws" context hold one (case-sensitive fast test)
        for secret in _AWS.analyze_string(line):
            rule = "aws-access-key-id" if _AWS_ID.fullmatch(secret) else "aws-secret-access-key"
            if _bounded(line, secret) and not format_placeholder(secret):
                hits.append((rule, secret))
    elif aws and "aws" in line.lower():
        for secret in _AWS.analyze_string(line):
            if not format_placeholder(secret):
                hits.append(("aws-secret-access-key", secret))
    for rule, detector, needles in _LIBRARY_FORMATS:
        if rule in possible and any(n in line for n in needles):
            for secret in detector.analyze_string(line):
                if not format_placeholder(secret):
                    hits.append((rule, secret))
    for rule, needles, pattern in _OWN_FORMATS:
        if rule in possible and any(n in line for n in needles):
            for m in pattern.finditer(line):
                if not format_placeholder(m.group(1)):
                    hits.append((rule, m.group(1)))
    if "private-key" in possible and "-----BEGIN" in line:
        m = PEM_BEGIN.search(line)
        body = pem_body(line[m.end():], following or []) if m else ""
        if body:
            hits.append(("private-key", body))
    tokens = set()
    for m in (jwt_matches(line) if "json-web-token" in possible else ()):
        tokens.add(m.group(0))
        if jwt_state(m.group(0), now) == "live":
            hits.append(("json-web-token", m.group(0)))
    for m in (BEARER.finditer(line) if "bearer-token" in possible and ("earer" in line or "EARER" in line) else ()):
        value = m.group(1)
        if any(value.startswith(t) or t.startswith(value) for t in tokens) or value.startswith("eyJ"):
            continue  # a JWT: judged above (an expired one is no credential)
        if (not FORMAT_PLACEHOLDER.search(value) and not PLACEHOLDER.search(value) and char_classes(value) >= 2
                and entropy(value) >= 3.5 and not CODE_VALUE.search(value)):
            hits.append(("bearer-token", value))
    return hits


def assignments(line: str, path: str, min_entropy: float, known: set[str],
                context: str | None = None) -> list[tuple[str, str]]:
    """(rule, value) for secret-named assignments with random-looking literal values."""
    hits = []
    context = context or path_context(path)
    if skipped_file(path):
        return hits
    candidates = quoted_assignments(line)
    if not quotes_required(path):
        m = BARE_ASSIGNMENT.match(line)
        if m and not heuristic.is_indirect_reference(line):
            candidates.append((m.group("name"), m.group("value")))
    seen = set()
    for name, value in candidates:
        if value in seen or not is_secret_name(name):
            continue
        seen.add(value)
        if any(value in s or s in value for s in known):
            continue  # already reported under its format
        if JWT.fullmatch(value) or value_rejection(value, line, name, min_entropy):
            continue  # a JWT is judged by its own rule (an expired one authenticates nothing)
        if context == "doc":
            continue  # documentation examples: only real-format keys count
        fixture = context == "test" or TEST_NAME.search(name.rsplit(".", 1)[-1])
        if fixture and not strong_value(value):
            continue  # documentation example or test fixture: only a real-strength key counts
        leaf = name.strip("\"'`[]$@").rsplit(".", 1)[-1].lower()
        hits.append((f"assignment:{leaf}", value))
    return hits


def _fast_fragments() -> str:
    """_FRAGMENTS for RE2 on a str line: where `re` has a Unicode class (\\w, \\s) the ASCII
    characters it holds, plus every non-ASCII character. Exact on an ASCII line, a superset
    on any other."""
    ws = r"\t\n\x0b\f\r \x1c-\x1f"
    out = _FRAGMENTS
    for old, new in ((r"[\w$.\-@]", r"[\w$.\-@" + _NON_ASCII + "]"), (r"\s*(?:", "[" + ws + _NON_ASCII + "]*(?:"),
                     (r"(?i:bearer)\s", "(?i:bearer)[" + ws + _NON_ASCII + "]"),
                     (r"[^/\s:@]", "[^/" + ws + ":@]"), (r"[^/\s@]", "[^/" + ws + "@]")):
        assert out.count(old) == 1, old
        out = out.replace(old, new)
    assert "\\s" not in out, out
    return out


FAST_CANDIDATE = _fast_re.compile(_fast_fragments())


def candidate(text: str) -> bool:
    """``CANDIDATE.search(text)``: RE2 alone on an ASCII line, RE2 then `re` on any other."""
    if _no_fast_path(text):
        return bool(CANDIDATE.search(text))
    try:
        if not FAST_CANDIDATE.search(text.encode() if _RE2 else text):
            return False
    except UnicodeEncodeError:  # lone surrogates
        pass
    return text.isascii() or bool(CANDIDATE.search(text))


def scan_line(text: str, path: str = "", min_entropy: float = 3.0, following: list[str] | None = None,
              now: datetime | None = None, context: str | None = None) -> list[tuple[str, str]]:
    """(rule, secret) pairs found in one line of the file at ``path`` (relative); ``context``
    overrides the path's (``test`` for a line inside a Rust ``#[cfg(test)]`` module)."""
    if not candidate(text):
        return []
    hits = known_formats(text, following, now)
    hits += assignments(text, path, min_entropy, {s for _, s in hits}, context)
    return hits
