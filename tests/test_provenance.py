"""engine/run/provenance.py: who ran golive, where, and the target's git commit and dirty state."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from golive import __version__
from golive.run.provenance import git_state, provenance

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@x", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture()
def repo(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    _git(root, "init", "-q")
    (root / "a.txt").write_text("one\n")
    _git(root, "add", "a.txt")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_clean_then_dirty(repo):
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    state = git_state(repo)
    assert state["commit"] == head and len(head) == 40 and state["dirty"] is False and state["changed"] == 0
    (repo / "a.txt").write_text("two\n")
    (repo / "new.txt").write_text("untracked\n")
    state = git_state(repo)
    assert state["dirty"] is True and state["changed"] == 2 and state["commit"] == head


def test_provenance_names_user_host_version(repo):
    p = provenance(repo)
    assert p["user"] and p["host"] and p["golive_version"] == __version__
    assert p["target"] == str(repo) and p["git"]["commit"]


def test_no_repository_and_no_directory_are_reported_not_raised(tmp_path):
    assert git_state(tmp_path) == {"error": "not a git repository"}
    assert git_state(tmp_path / "absent")["error"].startswith("git: ")


def test_repository_config_cannot_run_a_command(repo, tmp_path):
    marker = tmp_path / "ran"
    _git(repo, "config", "core.fsmonitor", f"touch {marker}; false")
    state = git_state(repo)
    assert not marker.exists() and state["dirty"] is False


def test_target_identity_is_stable_across_clones_and_prefers_a_system_id(tmp_path):
    import subprocess

    from golive.run.provenance import target_identity

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
    subprocess.run([*git, "init", "-q", str(repo)], check=True)
    (repo / "a.txt").write_text("a")
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "-m", "first"], check=True)
    root = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    (repo / "b.txt").write_text("b")
    subprocess.run([*git, "-C", str(repo), "add", "."], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-q", "-m", "second"], check=True)
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    assert target_identity(repo) == target_identity(clone) == f"git:{root}"
    assert target_identity(repo, {"system_id": "ES-desk"}) == "system:ES-desk"
    plain = tmp_path / "plain"
    plain.mkdir()
    assert target_identity(plain) == f"path:{plain.resolve()}"
