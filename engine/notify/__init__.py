"""Notifications after a run (scheduled or manual) and when a scheduled check is missed.

Rules (:mod:`.rules`) say which events (:mod:`.events`) go to which apprise channels; messages
(:mod:`.message`) name the requirements with metric vs threshold and the dashboard link, masked
for secrets; delivery (:mod:`.send`) is deduplicated, rate-limited and recorded in the ledger as
``notification`` entries. :mod:`.hooks` is what ``golive run`` and the scheduler call.
"""
from golive.notify.hooks import notify_after_run, notify_misfire, watch_misfires

__all__ = ["notify_after_run", "notify_misfire", "watch_misfires"]
