"""HTTP/2 for the simulator's HTTPS listener (``--http2``), with Debian's python3-h2.

Huawei Cloud documents HTTP/2 for its API Gateway (the HSS endpoints' error codes are the
gateway's), and a client that multiplexes needs one TLS connection for many requests. With ``--http2`` the HTTPS listener offers
``h2`` by ALPN; a client that picks it is served here, every stream routed exactly like an
HTTP/1.1 request (``hss_sim.route_request``), logged the same way, in a thread of its own so
that a delayed answer holds no other stream. Faults other than ``hang`` are HTTP/1.1 wire
behaviours (truncated bodies, resets, trickles): over HTTP/2 such a stream is reset instead.

All socket I/O happens in the connection's thread (an OpenSSL connection must not be read and
written from two threads at once); stream threads queue frames under the lock and wake it.
"""

import os
import select
import socket
import threading
import time
import urllib.parse
import uuid

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings

# Header names HTTP/2 forbids in a response (RFC 9113, 8.2.2).
CONNECTION_HEADERS = frozenset({"connection", "keep-alive", "proxy-connection",
                                "transfer-encoding", "upgrade"})
IDLE_POLL_S = 0.5
# SETTINGS_MAX_CONCURRENT_STREAMS: python3-h2's default is 100 (nginx's 128). libcurl opens a
# connection of its own for every transfer beyond a full connection's limit, so a burst of
# more concurrent requests than the limit would measure that, not the client.
MAX_STREAMS = 1000


class H2Session:
    """One HTTP/2 connection: reads frames, starts a thread per finished request stream."""

    def __init__(self, tls, server, client_address, sim):
        self.tls = tls
        self.server = server
        self.client = client_address
        self.sim = sim  # the hss_sim module: routing, contexts, records
        self.lock = threading.Condition()
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        self.conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: MAX_STREAMS,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: 65536})
        self.streams = {}  # stream id -> [headers, body bytearray, wall, mono]
        self.closed = False
        self.wake_r, self.wake_w = os.pipe()

    def serve(self):
        """Runs the connection until the client goes away or the simulator stops."""
        try:
            with self.lock:
                self.conn.initiate_connection()
            self._loop()
        except (OSError, h2.exceptions.ProtocolError):
            pass
        finally:
            with self.lock:
                self.closed = True
                self.lock.notify_all()
            os.close(self.wake_r)
            os.close(self.wake_w)

    def _loop(self):
        self.tls.settimeout(IDLE_POLL_S)
        while not self.server.state.stopping.is_set():
            self._flush()
            if not self.tls.pending():
                ready, _, _ = select.select([self.tls, self.wake_r], [], [], IDLE_POLL_S)
                if self.wake_r in ready:
                    os.read(self.wake_r, 4096)
                if self.tls not in ready:
                    continue
            try:
                data = self.tls.recv(65536)
            except socket.timeout:
                continue
            if not data:
                return
            with self.lock:
                events = self.conn.receive_data(data)
                for event in events:
                    if self._on_event(event) is False:
                        self._flush_locked()
                        return
                self.lock.notify_all()

    def _flush(self):
        with self.lock:
            self._flush_locked()

    def _flush_locked(self):
        out = self.conn.data_to_send()
        if out:
            self.tls.sendall(out)

    def _wake(self):
        try:
            os.write(self.wake_w, b"x")
        except OSError:
            pass

    def _on_event(self, event):
        """Handles one h2 event (lock held); False ends the connection."""
        if isinstance(event, h2.events.RequestReceived):
            self.streams[event.stream_id] = [event.headers, bytearray(), time.time(),
                                             time.monotonic()]
        elif isinstance(event, h2.events.DataReceived):
            entry = self.streams.get(event.stream_id)
            if entry is not None:
                entry[1] += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            entry = self.streams.pop(event.stream_id, None)
            if entry is not None:
                threading.Thread(target=self._answer, args=(event.stream_id, *entry),
                                 daemon=True).start()
        elif isinstance(event, h2.events.StreamReset):
            self.streams.pop(event.stream_id, None)
        elif isinstance(event, h2.events.ConnectionTerminated):
            return False
        return True

    def _context(self, headers, body, wall, mono):
        """The RequestContext of one stream, as hss_sim builds it for HTTP/1.1."""
        pseudo, plain = {}, {}
        for name, value in headers:
            if name.startswith(":"):
                pseudo[name] = value
            else:
                plain[name] = f"{plain[name]}, {value}" if name in plain else value
        if ":authority" in pseudo:
            plain.setdefault("host", pseudo[":authority"])
        raw_path = pseudo.get(":path", "/")
        split = urllib.parse.urlsplit(raw_path)
        ctx = self.sim.RequestContext(
            method=pseudo.get(":method", "GET"), raw_path=raw_path, path=split.path,
            raw_query=split.query,
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            headers=plain, body=bytes(body), request_id=uuid.uuid4().hex,
            listener=self.server.listener, client_ip=self.client[0],
            client_port=self.client[1], wall_start=wall, mono_start=mono)
        ctx.protocol = "h2"
        ctx.tls_resumed = self.tls.session_reused
        return ctx

    def _answer(self, stream_id, headers, body, wall, mono):
        """Routes one request and sends its answer (in the stream's own thread)."""
        sim, state = self.sim, self.server.state
        ctx = self._context(headers, body, wall, mono)
        if ctx.path.startswith(sim.CONTROL_PREFIX):
            resp, logged = sim.handle_control(state, ctx), False
        else:
            resp, logged = sim.route_request(state, ctx), True
        if resp.delay_ms:
            time.sleep(resp.delay_ms / 1000.0)
        if logged:
            status = 0 if resp.fault in ("hang", "close") else resp.status
            sim.record_request(state, ctx, status, resp.fault)
        if resp.fault == "hang":
            state.stopping.wait()
            return
        if resp.fault is not None:
            self._send_reset(stream_id)
            return
        self._send(stream_id, resp, ctx.request_id)

    def _send_reset(self, stream_id):
        with self.lock:
            try:
                self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
            except h2.exceptions.ProtocolError:
                return
        self._wake()

    def _send(self, stream_id, resp, request_id):
        """Queues the headers and the body within the peer's flow-control windows."""
        body = b"" if resp.status in (204, 304) else resp.body
        fields = [(":status", str(resp.status))]
        length = None if resp.status == 204 else len(body)
        for name, value in self.sim.response_headers(resp, request_id, length,
                                                     self.server.state.now()):
            if name.lower() not in CONNECTION_HEADERS:
                fields.append((name.lower(), value))
        with self.lock:
            try:
                self.conn.send_headers(stream_id, fields, end_stream=not body)
            except h2.exceptions.ProtocolError:
                return  # the client reset the stream meanwhile
        self._wake()
        off = 0
        while off < len(body):
            with self.lock:
                while not self.closed:
                    try:
                        window = self.conn.local_flow_control_window(stream_id)
                    except h2.exceptions.ProtocolError:
                        return
                    if window > 0:
                        break
                    self.lock.wait(IDLE_POLL_S)
                if self.closed:
                    return
                n = min(window, self.conn.max_outbound_frame_size, len(body) - off)
                try:
                    self.conn.send_data(stream_id, body[off:off + n],
                                        end_stream=off + n == len(body))
                except h2.exceptions.ProtocolError:
                    return
            off += n
            self._wake()


def serve(tls, server, client_address, sim):
    """Serves one TLS connection on which the client chose h2."""
    H2Session(tls, server, client_address, sim).serve()
