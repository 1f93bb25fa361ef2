"""Notifications after a run (scheduled or manual), when a scheduled check is missed and when
``golive evidence verify`` finds problems.

Rules (:mod:`.rules`) say which events (:mod:`.events`) go to which apprise channels; messages
(:mod:`.message`) name the requirements with metric vs threshold and the dashboard link, masked
for secrets; delivery (:mod:`.send`) is deduplicated, rate-limited and recorded in the ledger as
``notification`` entries. :mod:`.hooks` is what ``golive run``, the scheduler and verify call.
"""
from golive.notify.hooks import notify_after_run, notify_after_verify, notify_misfire, watch_misfires

__all__ = ["notify_after_run", "notify_after_verify", "notify_misfire", "watch_misfires"]
