"""A synthetic trading repository of a given size, for the scale benchmark.

    python benchmarks/scale_repo.py DIR [--tests 10000] [--sources 5000] [--seed 1]

Writes a git repository shaped like a real trading system: a Python package with strategy,
risk, feed, broker and config modules; Rust, Go, TypeScript and YAML sources beside it; docs
with front matter; test files under ``tests/`` (about 10 test functions each, classes,
parametrize, docstrings, imports of the package) and JUnit results under
``reports/junit/``. Names are drawn from a trading vocabulary so link recovery has real text
to rank, and a few placeholder credentials (documentation examples, type names) sit where
real repositories have them. No golive markers anywhere. Deterministic for a seed.
"""
from __future__ import annotations

import argparse
import random
import subprocess
from pathlib import Path

AREAS = {
    "feed": ["mbo", "order_book", "snapshot", "reconnect", "backfill", "sequence_gap", "latency", "databento"],
    "strategy": ["expected_value", "signal", "setup", "probability", "risk_reward", "weight", "threshold"],
    "risk": ["position_limit", "drawdown", "stop_loss", "exposure", "kill_switch", "margin", "var"],
    "broker": ["order_routing", "fill", "slippage", "cancel", "reject", "execution", "commission"],
    "config": ["profile", "loader", "environment", "secret_reference", "validation", "toggle"],
    "monitoring": ["heartbeat", "uptime", "alert", "memory", "cpu", "disk", "dashboard"],
    "audit": ["trade_log", "reconstruction", "retention", "approval", "report", "change_log"],
}
VERBS = ["handles", "rejects", "computes", "recovers", "limits", "validates", "records", "reports"]
CASES = ["empty", "large", "negative", "stale", "duplicate", "missing", "normal", "extreme"]


def _words(rng: random.Random) -> tuple[str, str]:
    area = rng.choice(list(AREAS))
    return area, rng.choice(AREAS[area])


def test_file(rng: random.Random, area: str, topic: str, functions: int) -> str:
    lines = [f'"""Tests of the {area} {topic.replace("_", " ")} component."""', "import pytest", "",
             f"from tradingsys.{area}.{topic} import {topic.title().replace('_', '')}", ""]
    in_class = rng.random() < 0.5
    if in_class:
        lines += [f"class Test{topic.title().replace('_', '')}:", f'    """{topic.replace("_", " ")} behaviour."""']
    indent = "    " if in_class else ""
    self_arg = "self" if in_class else ""
    for i in range(functions):
        verb, case = rng.choice(VERBS), rng.choice(CASES)
        if rng.random() < 0.2:
            lines.append(f'{indent}@pytest.mark.parametrize("size", [1, 10, 100], ids=["small", "medium", "large"])')
            args = ", ".join(a for a in (self_arg, "size") if a)
        else:
            args = self_arg
        lines += [f"{indent}def test_{topic}_{verb}_{case}_{i}({args}):",
                  f'{indent}    """The {topic.replace("_", " ")} {verb} {case} input."""',
                  f"{indent}    component = {topic.title().replace('_', '')}()",
                  f"{indent}    assert component.{verb}({case!r}) is not None", ""]
    return "\n".join(lines) + "\n"


def python_source(rng: random.Random, area: str, topic: str) -> str:
    cls = topic.title().replace("_", "")
    return (f'"""{area} / {topic}."""\nimport os\n\n\nclass {cls}:\n'
            f'    def __init__(self, api_key: str | None = None):\n'
            f'        self.api_key = api_key or os.environ.get("{area.upper()}_API_KEY")\n'
            f'        self.token = None\n\n'
            f'    def {rng.choice(VERBS)}(self, value):\n        return value\n')


def rust_source(rng: random.Random, topic: str) -> str:
    return (f"pub struct {topic.title().replace('_', '')}Config {{\n    pub api_key: Box<str>,\n"
            f"    pub cancellation_token: CancellationToken,\n}}\n\nimpl Default for {topic.title().replace('_', '')}Config {{\n"
            f"    fn default() -> Self {{\n        Self {{ api_key: Box::from(\"\"), cancellation_token: CancellationToken::new() }}\n    }}\n}}\n")


def go_source(topic: str) -> str:
    return f'package {topic}\n\ntype Client struct {{\n\tAPIKey string\n\tToken  string\n}}\n\nfunc New(apiKey string) *Client {{\n\treturn &Client{{APIKey: apiKey}}\n}}\n'


def ts_source(topic: str) -> str:
    return (f"export interface {topic.title().replace('_', '')}Options {{\n  apiKey: string;\n  token?: string;\n}}\n\n"
            f"export const defaults = {{ apiKey: process.env.API_KEY ?? '', token: undefined }};\n")


def yaml_source(rng: random.Random, area: str) -> str:
    return (f"{area}:\n  enabled: true\n  api_key: ${{{area.upper()}_API_KEY}}\n  password: <your password>\n"
            f"  timeout_s: {rng.randint(1, 30)}\n")


def doc(area: str, topic: str) -> str:
    return (f"---\nowner: {area}-team\ndescribes: [src/tradingsys/{area}]\nreviewed: 2026-01-01\n---\n"
            f"# {topic.replace('_', ' ').title()}\n\nConfigure `api_key: YOUR_API_KEY` and "
            f"`password: SuperSecurePassword` before the first run.\n")


def junit(rng: random.Random, tests: list[tuple[str, str]]) -> str:
    cases = []
    for module, name in tests:
        body = "" if rng.random() > 0.02 else '<failure message="boom">assert False</failure>'
        cases.append(f'<testcase classname="{module}" name="{name}" time="0.01">{body}</testcase>')
    return (f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="{len(cases)}">'
            + "".join(cases) + "</testsuite></testsuites>\n")


def build(root: Path, tests: int = 10_000, sources: int = 5_000, seed: int = 1) -> dict[str, int]:
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    written = {"test_files": 0, "test_functions": 0, "source_files": 0}
    recorded: list[tuple[str, str]] = []
    n = 0
    while written["test_functions"] < tests:
        area, topic = _words(rng)
        functions = min(rng.randint(5, 15), tests - written["test_functions"])
        rel = Path("tests") / area / f"test_{topic}_{n}.py"
        text = test_file(rng, area, topic, functions)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
        module = rel.with_suffix("").as_posix().replace("/", ".")
        recorded += [(module, line.split("def ", 1)[1].split("(", 1)[0])
                     for line in text.splitlines() if line.strip().startswith("def test_")]
        written["test_files"] += 1
        written["test_functions"] += functions
        n += 1
    kinds = ["py"] * 6 + ["rs", "rs", "go", "ts", "yaml", "md"]
    for i in range(sources):
        area, topic = _words(rng)
        kind = kinds[i % len(kinds)]
        if kind == "py":
            rel, text = Path("src/tradingsys") / area / f"{topic}_{i}.py", python_source(rng, area, topic)
        elif kind == "rs":
            rel, text = Path("crates") / area / "src" / f"{topic}_{i}.rs", rust_source(rng, topic)
        elif kind == "go":
            rel, text = Path("gateway") / area / f"{topic}_{i}.go", go_source(topic)
        elif kind == "ts":
            rel, text = Path("web/src") / area / f"{topic}_{i}.ts", ts_source(topic)
        elif kind == "yaml":
            rel, text = Path("config") / area / f"{topic}_{i}.yaml", yaml_source(rng, area)
        else:
            rel, text = Path("docs") / area / f"{topic}_{i}.md", doc(area, topic)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
        written["source_files"] += 1
    (root / "reports/junit").mkdir(parents=True, exist_ok=True)
    (root / "reports/junit/results.xml").write_text(junit(rng, recorded), encoding="utf-8")
    env = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
           "GIT_AUTHOR_DATE": "2026-01-02T10:00:00Z", "GIT_COMMITTER_DATE": "2026-01-02T10:00:00Z",
           "PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(root)}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "synthetic trading repository"], check=True, env=env)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(build(args.dir, args.tests, args.sources, args.seed))


if __name__ == "__main__":
    main()
