"""The git-history part of the secret scan on real repositories made here: the streamed,
parallel walk reports exactly what the legacy single ``git log --all -p`` reported, and it
survives shallow clones, partial clones (never fetching), missing objects and timeouts, saying
what it could not scan."""
from __future__ import annotations

import logging
import os
import random
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive.model import CheckContext, Requirement, Status, Target
from golive.plugins.config_security import secret_scan, secrets_at_rest
from golive.plugins.monitoring import gitrepo

from secret_history_legacy import legacy_scan_history

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
# Fake keys in real formats, built at run time so this file holds no key-like literal.
DATABENTO = "db-" + "Q7vXk2LmP9rT4wZa8NcY3hJ6sDfG5"
AWS = "AKIA" + "Z7QW3XK5PL2MN8RT"
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
SECRET = "Xk9" + "fQ2mLp7Rt4ZwB8nC3vY6hJ"
PEM = ("-----BEGIN RSA " + "PRIVATE KEY-----\n" + "\n".join(["MIIEowIBAAKCAQEA7Zq3kLmP9rT4wZa8NcY3hJ6sDfG5Q7vXk2LmP9rT4w"] * 4)
       + "\n-----END RSA " + "PRIVATE KEY-----\n")
ENV = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x.example", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@x.example", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", *args], check=True, env=ENV,
                          capture_output=True, timeout=60, input=input).stdout.decode()


def fast_import(root: Path, commits: list[tuple[str, dict[str, str | None]]], start: int = 1_700_000_000) -> None:
    """Commits (branch, {path: content or None to delete}) in one `git fast-import` run."""
    out, mark = [], 0
    heads: dict[str, int] = {}
    for i, (branch, files) in enumerate(commits):
        mark += 1
        out.append(f"commit refs/heads/{branch}\nmark :{mark}\ncommitter t <t@x.example> {start + i * 60} +0000\n"
                   f"data 4\nc{i:03}\n")
        if branch in heads:
            out.append(f"from :{heads[branch]}\n")
        for path, content in files.items():
            if content is None:
                out.append(f"D {path}\n")
            else:
                data = content.encode()
                out.append(f"M 100644 inline {path}\ndata {len(data)}\n")
                out.append(data.decode() + "\n")
        heads[branch] = mark
    git(root, "init", "-q", "-b", "main")
    git(root, "fast-import", "--quiet", input="".join(out).encode())
    git(root, "checkout", "-q", "main")


def generated_repo(root: Path, n: int = 260) -> None:
    """A history of ``n`` commits over three branches with keys planted, moved and removed."""
    rng = random.Random(7)
    commits: list[tuple[str, dict[str, str | None]]] = []
    for i in range(n):
        branch = "main" if i % 5 else ("feature" if i % 10 else "release")
        files: dict[str, str | None] = {
            f"src/mod{i % 17}.py": "\n".join(f"value_{j} = {rng.randint(0, 10**6)}" for j in range(rng.randint(3, 40))),
            f"data/t{i % 7}.csv": "\n".join(f"{j},{rng.random()}" for j in range(50)),
        }
        if i % 23 == 0:
            files[f"config/prod{i % 3}.yaml"] = f"broker:\n  host: x\n  api_key: {DATABENTO}\n  user: u{i}\n"
        if i % 31 == 0:
            files["deploy/aws.env"] = f"# rotated {i}\nAWS_ACCESS_KEY_ID={AWS}\nAPI_SECRET={SECRET}{i % 3}\n"
        if i % 37 == 0:
            files["deploy/id_rsa"] = PEM
        if i % 41 == 0:
            files["ci/workflow.yml"] = f"steps:\n  - run: echo {GITHUB}\n" + "x: 1\n" * (i % 4)
        if i % 29 == 0 and i:
            files["deploy/aws.env"] = None  # the key removed later: still in history
        if i % 19 == 0:
            files["web/app.min.js"] = "var a=1;" * 500 + f'var token="{SECRET}";' + "var b=2;" * 500
        commits.append((branch, files))
    fast_import(root, commits)


def key(findings):
    return [(f.commit, f.path, f.line, f.rule, f.fingerprint, f.context) for f in findings]


def test_streamed_parallel_walk_reports_exactly_the_legacy_findings(tmp_path, monkeypatch):
    generated_repo(tmp_path)
    legacy = legacy_scan_history(tmp_path, now=NOW)
    assert len({f.commit for f in legacy}) > 10 and {"databento-api-key", "aws-access-key-id", "private-key",
                                                      "github-token"} <= {f.rule for f in legacy}
    one, info = secret_scan.scan_history(tmp_path, now=NOW, workers=1)
    assert key(one) == key(legacy) and info["commits_scanned"] == 260 and not info["truncated"]
    parallel, _ = secret_scan.scan_history(tmp_path, now=NOW, workers=2)
    assert key(parallel) == key(legacy)
    monkeypatch.setattr(secret_scan, "PARALLEL_MIN_COMMITS", 1)
    many, _ = secret_scan.scan_history(tmp_path, now=NOW, workers=4)  # 8 git processes, order kept
    assert key(many) == key(legacy)
    capped, info = secret_scan.scan_history(tmp_path, now=NOW, max_commits=50, workers=2)
    assert key(capped) == key(legacy_scan_history(tmp_path, now=NOW, max_commits=50))
    assert "the 210 oldest of 260 were not scanned (max_commits)" in info["history"] and info["truncated"]


def test_parser_gives_the_same_findings_whatever_the_chunk_boundaries(tmp_path):
    generated_repo(tmp_path, n=120)
    out = subprocess.run(["git", "-C", str(tmp_path), *secret_scan.LOG_P, *secret_scan.HISTORY_PATHSPEC],
                         input=git(tmp_path, "rev-list", "--all").encode(), capture_output=True, check=True).stdout
    whole = secret_scan._LogParser(3.0, (), NOW)
    whole.feed(out, final=True)
    rng = random.Random(1)
    for _ in range(3):
        parts = secret_scan._LogParser(3.0, (), NOW)
        pos = 0
        while pos < len(out):
            step = rng.choice([1, 7, 100, 4096, 65536])
            parts.feed(out[pos:pos + step])
            pos += step
        parts.feed(b"", final=True)
        assert parts.headers == whole.headers and parts.found == whole.found
    assert sum(map(len, whole.found.values())) > 5


def test_orphan_branch_key_is_found_via_all_refs(tmp_path):
    fast_import(tmp_path, [("main", {"README": "hello\n"}), ("main", {"src/app.py": "x = 1\n"})])
    git(tmp_path, "checkout", "-q", "--orphan", "scratch")
    (tmp_path / "notes.env").write_text(f"DATABENTO_API_KEY={DATABENTO}\n")
    git(tmp_path, "add", "notes.env")
    git(tmp_path, "commit", "-qm", "orphan")
    git(tmp_path, "checkout", "-q", "main")
    found, info = secret_scan.scan_history(tmp_path, now=NOW)
    assert [(f.path, f.line, f.rule) for f in found] == [("notes.env", 1, "databento-api-key")]
    assert found[0].commit == git(tmp_path, "rev-parse", "scratch").strip()[:12]
    assert info["history"] == "3 commit(s) scanned on all refs"


def test_paths_with_spaces_and_non_ascii_names_keep_their_findings(tmp_path):
    fast_import(tmp_path, [("main", {"deploy dir/prod.env": f"API_SECRET={SECRET}\n",
                                     "café/prod.env": f"API_SECRET={SECRET}x\n"})])
    found, _ = secret_scan.scan_history(tmp_path, now=NOW)
    assert sorted(f.path for f in found) == ["café/prod.env", "deploy dir/prod.env"]


def test_shallow_clone_says_how_much_history_it_holds(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    generated_repo(src, n=40)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{src}", str(clone)],
                   check=True, env=ENV, capture_output=True, timeout=60)
    found, info = secret_scan.scan_history(clone, now=NOW)
    assert info["shallow"] and info["history"].startswith("shallow clone: 3 commit(s) scanned")
    assert "history before the clone's depth is not in the repository" in info["history"]
    # the boundary commit shows its whole tree as added: the keys still in the tree are found there
    assert "databento-api-key" in {f.rule for f in found}


def _delete_loose_object(root: Path, oid: str) -> None:
    path = root / ".git" / "objects" / oid[:2] / oid[2:]
    path.chmod(0o644)
    path.unlink()


def test_missing_blob_scans_the_rest_and_names_the_commit_and_file(tmp_path):
    root = tmp_path
    git(root, "init", "-q", "-b", "main")
    for i, (path, text) in enumerate([("config/a.yaml", f"api_key: {DATABENTO}\n"),
                                      ("deploy/b.env", f"AWS_ACCESS_KEY_ID={AWS}\n"),
                                      ("ci/c.yml", f"run: echo {GITHUB}\n"),
                                      ("deploy/b.env", "AWS_ACCESS_KEY_ID=${AWS_KEY}\n")]):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        git(root, "add", path)
        git(root, "commit", "-qm", f"c{i}")
    assert legacy_scan_history(root, now=NOW)  # intact: the legacy scan works
    blob = git(root, "rev-parse", "HEAD~2:deploy/b.env").strip()
    _delete_loose_object(root, blob)
    with pytest.raises(gitrepo.GitError):
        legacy_scan_history(root, now=NOW)  # before: the whole history failed
    found, info = secret_scan.scan_history(root, now=NOW)
    assert sorted(f.rule for f in found) == ["databento-api-key", "github-token"]
    bad = {u["commit"] for u in info["unreadable_commits"]}
    assert bad == {git(root, "rev-parse", c).strip()[:12] for c in ("HEAD~2", "HEAD")}  # added, then changed
    assert all("deploy/b.env" in u["reason"] for u in info["unreadable_commits"])
    assert "warning: 2 commit(s) not read completely" in info["history"] and info["commits_scanned"] == 4
    req = Requirement(id="PRE-CONF-05", title="t", statement="s", category="c", priority="P1", plan_lines=(1, 1))
    ctx = CheckContext(target=Target(root=root), params={}, settings={}, log=logging.getLogger("t"), clock=lambda: NOW)
    result = secrets_at_rest.secrets_at_rest(req, ctx)
    assert result.status is not Status.ERROR and "not read completely" in result.details["history_scan"]


def test_missing_tree_isolates_the_commit_that_cannot_be_read(tmp_path):
    root = tmp_path
    git(root, "init", "-q", "-b", "main")
    for i in range(4):
        (root / f"d{i}").mkdir()
        (root / f"d{i}" / "s.env").write_text(f"API_SECRET={SECRET}{i}\n")
        git(root, "add", ".")
        git(root, "commit", "-qm", f"c{i}")
    tree = git(root, "rev-parse", "HEAD~1:d2").strip()  # a subtree only commit HEAD~1 introduced
    _delete_loose_object(root, tree)
    found, info = secret_scan.scan_history(root, now=NOW)
    bad = git(root, "rev-parse", "HEAD~1").strip()[:12]
    assert [u["commit"] for u in info["unreadable_commits"]] == [bad]
    assert {f.path for f in found} >= {"d0/s.env", "d1/s.env"} and "d2/s.env" not in {f.path for f in found}


def test_nothing_readable_is_an_error_not_a_clean_pass(tmp_path):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a.env").write_text(f"API_SECRET={SECRET}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "c")
    _delete_loose_object(tmp_path, git(tmp_path, "rev-parse", "HEAD^{tree}").strip())
    with pytest.raises(gitrepo.GitError, match="no commit could be read"):
        secret_scan.scan_history(tmp_path, now=NOW)


def test_partial_clone_is_scanned_offline_without_fetching(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    generated_repo(src, n=30)
    git(src, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{src}", str(clone)], check=True, env=ENV,
                   capture_output=True, timeout=60)
    before = gitrepo.present_objects(clone)
    found, info = secret_scan.scan_history(clone, now=NOW)
    assert gitrepo.present_objects(clone) == before  # no blob was fetched
    assert info["partial_clone"] == ["origin"] and "partial clone (promisor remote origin)" in info["history"]
    assert info["unreadable_commits"] and info["commits_scanned"] >= 1
    assert all("blob missing" in u["reason"] for u in info["unreadable_commits"])


def test_offline_environment_refuses_any_transport(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    fast_import(src, [("main", {"a": "1\n"})])
    run = gitrepo.run_offline(tmp_path, "ls-remote", f"file://{src}")
    assert not run.ok and "not allowed" in run.stderr


def test_a_git_process_over_its_budget_is_killed_with_its_children(tmp_path):
    git(tmp_path, "init", "-q")
    stream = gitrepo.GitStream(tmp_path, ["-c", "alias.wait=!sleep 30", "wait"], timeout=0.2)
    assert list(stream) == [] and stream.timed_out and not stream.ok and "timed out" in stream.stderr
    with pytest.raises(gitrepo.GitError, match="timed out"):
        secret_scan.scan_history(tmp_path, timeout=1e-9)
