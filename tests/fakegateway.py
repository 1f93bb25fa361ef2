"""A loopback fake of the Databento Live gateway speaking the real protocol.

The real ``databento.Live`` client connects to it with ``gateway="127.0.0.1", port=...``:
text handshake (``lsg_version``, a CRAM challenge, ``auth=<sha256(cram|key)>-<last 5 chars>``
answered by ``success=1|session_id=...`` or ``success=0|error=...``), subscription lines, then
``start_session`` and plain DBN (metadata + records) from the server. What the server does is
chosen by the scenario:

* ``good`` — streams the feed's records (a ``start=`` subscription replays from that time).
* ``bad_key`` — refuses authentication.
* ``gateway_error`` — the first session streams ``reset_after`` records, then sends an
  ``ErrorMsg`` (INTERNAL_ERROR) and closes; later sessions behave as in ``reset``.
* ``silence`` — authenticates, then never sends a byte.
* ``reset`` — the first session streams ``reset_after`` records and is reset (RST); the next
  live session resumes ``lost`` records later (those are lost); replay sessions (``start=``)
  serve everything from the requested time, so a client can backfill the gap.
"""
from __future__ import annotations

import hashlib
import secrets
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import databento_dbn
import numpy as np

SCENARIOS = ("good", "bad_key", "gateway_error", "silence", "reset")


@dataclass
class GatewayLog:
    """What the server saw, for assertions: auth results, subscriptions, sessions."""

    auth_ok: int = 0
    auth_failed: int = 0
    subscriptions: list[dict] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)  # live | replay


class FakeGateway:
    """Serve ``records`` (an MBO ndarray) to clients holding ``key``, per ``scenario``.

    Use as a context manager; ``port`` is the bound loopback port.
    """

    def __init__(self, records: np.ndarray, key: str, scenario: str = "good",
                 dataset: str = "GLBX.MDP3", reset_after: int = 200, lost: int = 50,
                 pace_s: float = 0.0):
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
        self.records, self.key, self.scenario = records, key, scenario
        self.dataset, self.reset_after, self.lost, self.pace_s = dataset, reset_after, lost, pace_s
        self.log = GatewayLog()
        self._live_sessions = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "FakeGateway":
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sock.close()
        for t in self._threads:
            t.join(timeout=2)

    def _accept(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    # -- one connection ---------------------------------------------------------------------
    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        reader = conn.makefile("rb")
        try:
            self._session(conn, reader)
        except (OSError, ValueError):
            pass  # the client went away; nothing to report
        finally:
            reader.close()
            conn.close()

    def _session(self, conn: socket.socket, reader) -> None:
        cram = secrets.token_hex(16)
        conn.sendall(b"lsg_version=0.0.0-fake\n" + f"cram={cram}\n".encode())
        auth = _fields(reader.readline())
        expected = hashlib.sha256(f"{cram}|{self.key}".encode()).hexdigest() + "-" + self.key[-5:]
        if self.scenario == "bad_key" or auth.get("auth") != expected:
            self.log.auth_failed += 1
            conn.sendall(b"success=0|error=Authentication failed.\n")
            return
        self.log.auth_ok += 1
        conn.sendall(f"success=1|session_id={secrets.randbelow(10**9)}\n".encode())
        starts = []
        while True:
            line = reader.readline()
            if not line:
                return
            msg = _fields(line)
            if "start_session" in msg:
                break
            self.log.subscriptions.append(msg)
            if msg.get("start"):
                starts.append(int(msg["start"]))
        replay = bool(starts)
        self.log.sessions.append("replay" if replay else "live")
        if self.scenario == "silence":
            self._stop.wait(30)
            return
        if replay:
            from_ts = min(starts)
            recs = self.records[self.records["ts_event"] >= from_ts]
            self._send(conn, recs, start=from_ts)
            self._send_raw(conn, bytes(databento_dbn.SystemMsg(
                ts_event=int(recs["ts_recv"][-1]) if len(recs) else from_ts,
                msg="Finished replay", code=databento_dbn.SystemCode.REPLAY_COMPLETED)))
            time.sleep(0.2)
            return
        self._live_sessions += 1
        if self.scenario == "reset" and self._live_sessions == 1:
            self._send(conn, self.records[: self.reset_after])
            time.sleep(0.1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return  # closing with linger 0 sends RST
        if self.scenario == "gateway_error" and self._live_sessions == 1:
            self._send(conn, self.records[: self.reset_after])
            err = databento_dbn.ErrorMsg(ts_event=int(self.records["ts_recv"][self.reset_after]),
                                         err="Internal gateway error",
                                         code=databento_dbn.ErrorCode.INTERNAL_ERROR)
            self._send_raw(conn, bytes(err))
            time.sleep(0.1)
            return
        if self.scenario in ("reset", "gateway_error"):  # the reconnected session resumes later
            self._send(conn, self.records[self.reset_after + self.lost:])
        else:
            self._send(conn, self.records)
        # keep the session open (heartbeats) until the client leaves or the server stops
        while not self._stop.wait(0.2):
            self._send_raw(conn, bytes(databento_dbn.SystemMsg(
                ts_event=time.time_ns(), msg="Heartbeat", code=databento_dbn.SystemCode.HEARTBEAT)))

    def _send(self, conn: socket.socket, recs: np.ndarray, start: int | None = None) -> None:
        first = int(recs["ts_event"][0]) if len(recs) else time.time_ns()
        meta = databento_dbn.Metadata(
            dataset=self.dataset, start=start if start is not None else first,
            stype_in=databento_dbn.SType.RAW_SYMBOL, stype_out=databento_dbn.SType.INSTRUMENT_ID,
            schema=databento_dbn.Schema.MBO, symbols=[])
        conn.sendall(bytes(meta))
        step = 64
        for i in range(0, len(recs), step):
            conn.sendall(recs[i:i + step].tobytes())
            if self.pace_s:
                time.sleep(self.pace_s)

    @staticmethod
    def _send_raw(conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)


def _fields(line: bytes) -> dict[str, str]:
    text = line.decode("utf-8", "replace").strip()
    if not text:
        raise ValueError("connection closed during the handshake")
    return {k: v for k, _, v in (t.partition("=") for t in text.split("|"))}
