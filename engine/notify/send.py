"""Delivering messages to channels through apprise, deduplicated, rate-limited and recorded.

- **Deduplication**: an event (kind and subject, e.g. ``p1-failure:RISK-06``) delivered to a
  channel is not sent to it again within ``dedup_hours``; a channel whose events were all sent
  recently gets no message.
- **Rate limit**: at most ``max_per_hour`` messages per channel in any hour; the events held
  back stay unsent, so a later run sends them.
- **Ledger**: every delivery attempt is a ``notification`` entry (run id ``-``, unsigned) with
  the channel's *name* (never its URL, which may hold credentials), the event kinds, the
  requirement ids, the message's sha256, the time and the outcome (``sent`` or ``failed``).

The state of the first two lives in the evidence database (tables ``notify_sent`` and
``notify_messages``): it is bookkeeping, not evidence, and is never read by ``verify``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Optional

from sqlalchemy import func, select
from sqlmodel import Field, SQLModel

from golive.ledger.chain import NO_RUN, Ledger
from golive.ledger.secrets import redact
from golive.notify.events import Event
from golive.notify.message import Message
from golive.notify.rules import Channel, Rules

Clock = Callable[[], datetime]


class NotifySent(SQLModel, table=True):
    """An event delivered to a channel (for deduplication)."""

    __tablename__ = "notify_sent"
    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(index=True)
    event_key: str = Field(index=True)
    sent_at: str = Field(index=True)


class NotifyMessage(SQLModel, table=True):
    """A message handed to a channel, sent or not (for the rate limit)."""

    __tablename__ = "notify_messages"
    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(index=True)
    sent_at: str = Field(index=True)
    digest: str
    outcome: str


@dataclass(frozen=True)
class Delivery:
    channel: str
    outcome: str            # sent | failed | rate-limited | deduplicated
    events: tuple[str, ...] = ()
    digest: str = ""
    detail: str = ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def ensure_tables(store) -> None:
    with store.write() as conn:
        SQLModel.metadata.create_all(conn, tables=[NotifySent.__table__, NotifyMessage.__table__])


def deliver(store, rules: Rules, events: list[Event], compose: Callable[[list[Event]], Message],
            run_id: str | None = None, clock: Clock | None = None, sender: Callable | None = None) -> list[Delivery]:
    """Send ``events`` to every channel that wants some of them; ``compose`` builds the message
    for one channel's share. Returns one :class:`Delivery` per channel considered."""
    now = (clock or (lambda: datetime.now(timezone.utc)))()
    sender = sender or send_apprise
    ensure_tables(store)
    done = []
    for channel in rules.channels:
        wanted = [e for e in events if e.kind in channel.events]
        if not wanted:
            continue
        fresh = _not_sent_recently(store, channel, wanted, now - timedelta(hours=rules.dedup_hours))
        if not fresh:
            done.append(Delivery(channel.name, "deduplicated", tuple(e.key for e in wanted)))
            continue
        if _messages_in_last_hour(store, channel, now) >= channel.max_per_hour:
            done.append(Delivery(channel.name, "rate-limited", tuple(e.key for e in fresh),
                                 detail=f"{channel.max_per_hour} message(s) an hour"))
            continue
        message = compose(fresh)
        ok, detail = sender(channel, message)
        outcome = "sent" if ok else "failed"
        _remember(store, channel, fresh if ok else [], message, outcome, now)
        _record(store, channel, fresh, message, outcome, now, run_id)
        done.append(Delivery(channel.name, outcome, tuple(e.key for e in fresh), message.digest, detail))
    return done


def send_apprise(channel: Channel, message: Message) -> tuple[bool, str]:
    """Hand ``message`` to apprise; (delivered, why not). The URL never appears in the reason."""
    import logging

    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(channel.url):
        return False, f"channel {channel.name}: apprise does not accept its URL (check the scheme and fields)"
    try:
        with apprise.LogCapture(level=logging.WARNING) as captured:
            ok = notifier.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # noqa: BLE001 -- a plugin's own failure must not stop the others
        return False, f"channel {channel.name}: {exc.__class__.__name__}"
    if ok:
        return True, ""
    return False, f"channel {channel.name}: {_apprise_reason(captured.getvalue(), channel.url)}"


def _apprise_reason(log_text: str, url: str) -> str:
    """apprise's last warning, without its time stamp, the URL or its password (apprise
    names only the host, but a plugin could do otherwise)."""
    from urllib.parse import urlsplit

    lines = [line.split(" - ", 2)[-1].strip() for line in log_text.splitlines() if line.strip()]
    reason = lines[-1] if lines else "delivery failed"
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in (url, password):
        if secret:
            reason = reason.replace(secret, "***")
    return redact(reason)[:300]


def _not_sent_recently(store, channel: Channel, events: list[Event], since: datetime) -> list[Event]:
    keys = {e.key for e in events}
    with store.read() as conn:
        sent = set(conn.execute(select(NotifySent.event_key).where(
            NotifySent.channel == channel.name, NotifySent.sent_at >= _iso(since),
            NotifySent.event_key.in_(keys))).scalars())
    seen, fresh = set(), []
    for e in events:
        if e.key not in sent and e.key not in seen:
            seen.add(e.key)
            fresh.append(e)
    return fresh


def _messages_in_last_hour(store, channel: Channel, now: datetime) -> int:
    with store.read() as conn:
        return conn.execute(select(func.count()).select_from(NotifyMessage).where(
            NotifyMessage.channel == channel.name, NotifyMessage.sent_at > _iso(now - timedelta(hours=1)))).scalar()


def _remember(store, channel: Channel, events: list[Event], message: Message, outcome: str, now: datetime) -> None:
    with store.write() as conn:
        conn.execute(NotifyMessage.__table__.insert().values(channel=channel.name, sent_at=_iso(now),
                                                             digest=message.digest, outcome=outcome))
        if events:
            conn.execute(NotifySent.__table__.insert(), [{"channel": channel.name, "event_key": e.key,
                                                          "sent_at": _iso(now)} for e in events])


def _record(store, channel: Channel, events: list[Event], message: Message, outcome: str, now: datetime,
            run_id: str | None) -> dict[str, Any]:
    payload = {"channel": channel.name, "events": sorted({e.kind for e in events}),
               "requirements": sorted({e.requirement_id for e in events if e.requirement_id}),
               "subjects": [e.key for e in events], "message_sha256": message.digest, "time": _iso(now),
               "outcome": outcome, "entry": uuid.uuid4().hex}  # the nonce: two equal payloads are never a replay
    if run_id:
        payload["run_id"] = run_id
    payload = redact(payload)
    Ledger(store).append(NO_RUN, "notification", payload)
    return payload
