"""The demo workspace is deterministic for a given seed: two builds are byte-identical
(git metadata aside), whatever the day they are built on."""
import hashlib
from pathlib import Path

from golive import demo


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and ".git" not in p.relative_to(root).parts}


def test_same_seed_same_workspace_other_seed_other_data(tmp_path):
    a = demo.build(tmp_path / "a", "degraded", seed=7)
    b = demo.build(tmp_path / "b", "degraded", seed=7)
    first, second = _digests(a.root), _digests(b.root)
    assert len(first) > 50 and first == second
    c = demo.build(tmp_path / "c", "degraded", seed=8)
    assert _digests(c.root) != first
