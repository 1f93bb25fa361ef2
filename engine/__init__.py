"""golive: requirements-as-code compliance for algorithmic trading systems.

The public surface for plugin authors is ``golive.hookimpl`` and the dataclasses in
``golive.model``; everything else is the engine.
"""
import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("golive")

__all__ = ["__version__", "hookimpl"]
