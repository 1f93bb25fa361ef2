"""Who ran a check run, where, and against which state of the target (issue 14, point 6).

``provenance(target_root) -> dict`` is what an auditor asks first: the user and host that ran
golive, golive's version, and the target's git commit and whether its working tree had
uncommitted changes (results of a dirty tree cannot be reproduced from the commit alone).
The lead wires it into the run as ``run["provenance"]``; every report prints it.

Git is asked locally only (``rev-parse``, ``status --porcelain``), with a timeout, without
prompts, without taking the index lock and with ``core.fsmonitor`` off, so an untrusted
repository's configuration cannot make this run a command. Anything that goes wrong becomes a
readable ``git.error`` rather than an exception: provenance never stops a run.
"""
from __future__ import annotations

import getpass
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

GIT_TIMEOUT_S = 10.0
#: Settings that keep ``git status`` from running anything the target's config names.
_SAFE_GIT = ("-c", "core.fsmonitor=false", "-c", "core.untrackedCache=false")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers) and no LOGNAME/USER
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    return subprocess.run(["git", *_SAFE_GIT, "-C", str(root), *args], capture_output=True, text=True,
                          timeout=GIT_TIMEOUT_S, env=env, stdin=subprocess.DEVNULL, check=False)


def git_state(root: Path | str) -> dict[str, Any]:
    """``{"commit", "branch", "dirty", "changed"}`` of the repository holding ``root``, or
    ``{"error": why}`` when there is none or git cannot tell."""
    root = Path(root)
    try:
        head = _git(root, "rev-parse", "--verify", "HEAD")
        if head.returncode != 0:
            message = (head.stderr.strip().splitlines() or ["git rev-parse failed"])[-1]
            if "not a git repository" in message:
                return {"error": "not a git repository"}
            return {"error": f"git: {message[:200]}"}
        status = _git(root, "status", "--porcelain=v1", "--untracked-files=normal")
        branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD")
    except FileNotFoundError:
        return {"error": "git is not installed"}
    except subprocess.TimeoutExpired as exc:
        return {"error": f"git did not answer within {GIT_TIMEOUT_S:g} s ({' '.join(exc.cmd[-3:])})"}
    state: dict[str, Any] = {"commit": head.stdout.strip(),
                             "branch": branch.stdout.strip() if branch.returncode == 0 else None}
    if status.returncode != 0:
        state.update(dirty=None, status_error=(status.stderr.strip() or "git status failed")[:200])
    else:
        changed = [line for line in status.stdout.splitlines() if line.strip()]
        state.update(dirty=bool(changed), changed=len(changed))
    return state


def provenance(target_root: Path | str) -> dict[str, Any]:
    """User, host, golive version and the target's git state, for ``run["provenance"]``."""
    from golive import __version__

    return {"user": _user(), "host": socket.gethostname(), "golive_version": __version__,
            "python": platform.python_version(), "target": str(target_root),
            "git": git_state(target_root)}


def target_identity(target_root: Path | str, settings: dict[str, Any] | None = None) -> str:
    """Who the target is, for binding attestations, waivers and sign-offs to it: ``system:<id>``
    from golive.toml ``[settings] system_id`` when set (a system is more than one repository),
    else ``git:<root commit>`` (the first commit: the same in every clone, unlike a path or a
    remote URL), else ``path:<resolved folder>``."""
    system = (settings or {}).get("system_id")
    if system:
        return f"system:{system}"
    try:
        roots = _git(Path(target_root), "rev-list", "--max-parents=0", "HEAD")
    except (OSError, subprocess.SubprocessError):
        roots = None
    if roots is not None and roots.returncode == 0 and roots.stdout.split():
        return f"git:{sorted(roots.stdout.split())[0]}"  # several roots (merged histories): the least, stably
    return f"path:{Path(target_root).resolve()}"
