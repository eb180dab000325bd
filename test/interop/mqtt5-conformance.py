#!/usr/bin/python3
"""
A broker conformance run with paho-mqtt (the client library Home Assistant's MQTT integration uses),
over MQTT 5 and MQTT 3.1.1. It covers the areas the Eclipse paho interoperability tests cover, written
for chargebridge: each check prints one JSON line {"name", "protocol", "pass", "detail"} and the
vitest wrapper (conformance.test.ts) compares the embedded broker with a real Mosquitto.

    /usr/bin/python3 mqtt5-conformance.py --port 1883 [--host H] [--username U --password P]
        [--protocol 5|3.1.1|both] [--only name,name] [--list]

Standard library and paho 1.6.1 only (Debian's python3-paho-mqtt on python3.11). Checks run in a
thread pool: most time is spent waiting for brokers' timers (keepalive, expiry, will delay), so they
overlap. Every wait is bounded; "nothing arrives" is proven with a fence message where MQTT's ordering
rules allow it, and with a short wait only where they do not.
"""

import argparse
import concurrent.futures
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes
from paho.mqtt.subscribeoptions import SubscribeOptions

V5 = "5"
V311 = "3.1.1"
WAIT = 5.0  # seconds for anything that should happen promptly
QUIET = 0.6  # seconds of silence taken as "not delivered" where no fence can prove it


class CheckFailed(Exception):
    pass


def expect(condition, detail):
    if not condition:
        raise CheckFailed(detail)


# ---------------------------------------------------------------------------------------------------
# One paho client with its own network thread
# ---------------------------------------------------------------------------------------------------


class MuteableClient(mqtt.Client):
    """paho 1.6.1 acknowledges inbound QoS 1/2 itself; muting lets a check play a client that dies
    between receiving a message and acknowledging it (to see the broker redeliver it)."""

    mute_acks = False

    def _send_puback(self, mid):
        return mqtt.MQTT_ERR_SUCCESS if self.mute_acks else super()._send_puback(mid)

    def _send_pubrec(self, mid):
        return mqtt.MQTT_ERR_SUCCESS if self.mute_acks else super()._send_pubrec(mid)


def v5_props(packet_type, **values):
    props = Properties(packet_type)
    for key, value in values.items():
        setattr(props, key, value)
    return props


def prop(props, name, default=None):
    return getattr(props, name, default) if props is not None else default


class Peer:
    """A connection a check drives: every callback is recorded, and checks wait on the record."""

    def __init__(self, check, *, clean=True, keepalive=30, will=None, connect_props=None, login=True,
                 username=None, password=None, client_id=None):
        self.check = check
        self.protocol = check.protocol
        self.v5 = check.protocol == V5
        self.client_id = client_id if client_id is not None else check.new_client_id()
        self.clean = clean
        self.keepalive = keepalive
        self.connect_props = connect_props
        kwargs = {"client_id": self.client_id, "reconnect_on_failure": False}
        if self.v5:
            kwargs["protocol"] = mqtt.MQTTv5
        else:
            kwargs["protocol"] = mqtt.MQTTv311
            kwargs["clean_session"] = clean
        self.client = MuteableClient(**kwargs)
        if username is not None or password is not None:
            self.client.username_pw_set(username, password)
        elif login and check.ctx.username is not None:
            self.client.username_pw_set(check.ctx.username, check.ctx.password)
        if will is not None:
            self.client.will_set(**will)
        self.cond = threading.Condition()
        self.connack = None
        self.messages = []
        self.acks = {}  # mid -> result of SUBSCRIBE / UNSUBSCRIBE
        self.published = set()  # mids whose QoS flow completed
        self.disconnected = None  # how the connection ended, once it has
        self.error = None  # an exception paho raised in the network loop (a packet it rejects)
        self.stop = threading.Event()
        self.thread = None
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = self._on_disconnect
        check.peers.append(self)

    # callbacks (network thread) ------------------------------------------------------------------

    def _record(self, fn):
        with self.cond:
            fn()
            self.cond.notify_all()

    def _on_connect(self, client, userdata, flags, rc, props=None):
        code = rc.value if isinstance(rc, ReasonCodes) else int(rc)
        info = {"rc": code, "session_present": bool(flags.get("session present")), "props": props}
        self._record(lambda: setattr(self, "connack", info))

    def _on_message(self, client, userdata, message):
        self._record(lambda: self.messages.append(
            {
                "topic": message.topic,
                "payload": bytes(message.payload),
                "qos": message.qos,
                "retain": bool(message.retain),
                "dup": bool(message.dup),
                "props": getattr(message, "properties", None),
                "at": time.monotonic(),
            }
        ))

    def _on_subscribe(self, client, userdata, mid, codes, props=None):
        values = [c.value if isinstance(c, ReasonCodes) else int(c) for c in codes]
        self._record(lambda: self.acks.__setitem__(mid, values))

    def _on_unsubscribe(self, client, userdata, mid, props=None, codes=None):
        if isinstance(codes, ReasonCodes):
            codes = [codes]
        values = [c.value if isinstance(c, ReasonCodes) else int(c) for c in (codes or [])]
        self._record(lambda: self.acks.__setitem__(mid, values))

    def _on_publish(self, client, userdata, mid):
        self._record(lambda: self.published.add(mid))

    def _on_disconnect(self, client, userdata, rc, props=None):
        # A ReasonCodes object means the broker sent DISCONNECT (5.0); an int is paho's own error.
        if isinstance(rc, ReasonCodes):
            how = f"DISCONNECT {hexcode(rc.value)}"
        else:
            how = "connection closed" if rc else "closed by us"
        self._record(lambda: setattr(self, "disconnected", how))

    # network loop --------------------------------------------------------------------------------

    def _run(self):
        while not self.stop.is_set():
            try:
                rc = self.client.loop(timeout=0.02)
            except Exception as err:  # noqa: BLE001 - paho raises on packets it cannot parse
                with self.cond:
                    self.error = f"{type(err).__name__}: {err}"
                    self.disconnected = f"paho failed: {self.error}"
                    self.cond.notify_all()
                return
            if rc != mqtt.MQTT_ERR_SUCCESS:
                with self.cond:
                    if self.disconnected is None:
                        self.disconnected = "connection closed"
                    self.cond.notify_all()
                return

    def wait(self, predicate, timeout=WAIT):
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # Some state (paho's QoS 2 store) changes without a callback: look again every 50 ms.
                self.cond.wait(min(left, 0.05))
            return True

    # actions (check thread) ----------------------------------------------------------------------

    def connect(self, expect_ok=True, clean_start=None):
        kwargs = {"keepalive": self.keepalive}
        if self.v5:
            kwargs["clean_start"] = self.clean if clean_start is None else clean_start
            if self.connect_props is not None:
                kwargs["properties"] = self.connect_props
        self.client.connect(self.check.ctx.host, self.check.ctx.port, **kwargs)
        self.thread = threading.Thread(target=self._run, daemon=True)
        # paho writes from the calling thread unless it knows a loop thread exists; tell it about ours
        # so that only one thread ever touches the socket.
        self.client._thread = self.thread
        self.thread.start()
        got = self.wait(lambda: self.connack is not None or self.disconnected is not None)
        expect(got, f"{self.client_id}: no CONNACK within {WAIT} s")
        if expect_ok:
            expect(self.connack is not None, f"{self.client_id}: connection closed without CONNACK")
            expect(self.connack["rc"] == 0, f"{self.client_id}: CONNACK refused with {hexcode(self.connack['rc'])}")
        return self.connack

    def subscribe(self, topic, qos=0, options=None, props=None, expect_ok=True):
        """topic: a filter, or a list of (filter, qos or SubscribeOptions). Returns the SUBACK codes, or
        None when the broker closed the connection instead of answering."""
        if self.v5 and options is None and isinstance(topic, str):
            options = SubscribeOptions(qos=qos)
            qos = 0
        result, mid = self.client.subscribe(topic, qos=qos, options=options, properties=props)
        expect(result == mqtt.MQTT_ERR_SUCCESS, f"subscribe {topic}: paho refused to send ({result})")
        self.wait(lambda: mid in self.acks or self.disconnected is not None)
        codes = self.acks.get(mid)
        if expect_ok:
            expect(codes is not None, f"no SUBACK for {topic}")
            expect(all(c < 0x80 for c in codes), f"SUBACK for {topic} refused: {[hexcode(c) for c in codes]}")
        return codes

    def unsubscribe(self, topic):
        result, mid = self.client.unsubscribe(topic)
        expect(result == mqtt.MQTT_ERR_SUCCESS, f"unsubscribe {topic}: paho refused to send ({result})")
        expect(self.wait(lambda: mid in self.acks), f"no UNSUBACK for {topic}")
        return self.acks[mid]

    def publish(self, topic, payload, qos=0, retain=False, props=None, wait=True):
        if retain and payload:
            self.check.retained.add(topic)
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        expect(info.rc == mqtt.MQTT_ERR_SUCCESS, f"publish to {topic}: paho refused to send ({info.rc})")
        if wait and qos > 0:
            done = self.wait(lambda: info.mid in self.published or self.disconnected is not None)
            expect(done and info.mid in self.published, f"publish to {topic} at QoS {qos} was not acknowledged")
        return info

    def received(self, topic=None):
        with self.cond:
            return [m for m in self.messages if topic is None or m["topic"] == topic]

    def wait_for(self, topic, count=1, timeout=WAIT):
        self.wait(lambda: len([m for m in self.messages if m["topic"] == topic]) >= count, timeout)
        return self.received(topic)

    def fence(self, publisher, topic, qos=1):
        """Everything `publisher` sent before this at the same QoS has arrived once the fence has: a
        broker keeps one publisher's messages in order (3.1.1 §4.6, 5.0 §4.6)."""
        token = os.urandom(6).hex().encode()
        publisher.publish(topic, token, qos=qos)
        got = self.wait(lambda: any(m["topic"] == topic and m["payload"] == token for m in self.messages))
        expect(got, f"fence message on {topic} never arrived")

    def disconnect(self, reason=None, props=None):
        if self.thread is None or self.disconnected is not None:
            return
        if reason is not None:
            self.client.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, identifier=reason),
                                   properties=props)
        else:
            self.client.disconnect(properties=props)
        self.wait(lambda: self.disconnected is not None, 2)
        self.stop.set()
        self.thread.join(2)

    def freeze(self):
        """Stop all traffic (no PINGREQ) but keep the socket open, as a hung client would."""
        self.stop.set()
        if self.thread is not None:
            self.thread.join(2)

    def kill(self):
        """Drop the TCP connection without DISCONNECT, as a crashed client or a pulled cable would."""
        self.freeze()
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self):
        try:
            if self.disconnected is None and self.connack is not None and not self.stop.is_set():
                self.disconnect()
        except Exception:  # noqa: BLE001 - cleanup must not hide the check's own result
            pass
        self.kill()


def hexcode(code):
    return f"0x{code:02X}" if isinstance(code, int) and code >= 0 else str(code)


# ---------------------------------------------------------------------------------------------------
# Raw packets, for the few things paho will not send
# ---------------------------------------------------------------------------------------------------


def mqtt_string(value):
    data = value.encode() if isinstance(value, str) else value
    return struct.pack("!H", len(data)) + data


def remaining_length(n):
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def raw_connect_v311(ctx, client_id, clean):
    """Send a 3.1.1 CONNECT (paho refuses to build an empty client id without clean session) and
    return (CONNACK bytes, whether the broker then closed the socket)."""
    flags = 0x02 if clean else 0x00
    payload = mqtt_string(client_id)
    if ctx.username is not None:
        flags |= 0xC0
        payload += mqtt_string(ctx.username) + mqtt_string(ctx.password or "")
    body = mqtt_string("MQTT") + bytes([4, flags]) + struct.pack("!H", 30) + payload
    sock = socket.create_connection((ctx.host, ctx.port), timeout=WAIT)
    try:
        sock.sendall(b"\x10" + remaining_length(len(body)) + body)
        data = b""
        while len(data) < 4:
            chunk = sock.recv(4 - len(data))
            if not chunk:
                break
            data += chunk
        closed = False
        try:
            closed = sock.recv(1) == b""
        except socket.timeout:
            closed = False
        return data, closed
    finally:
        sock.close()


# ---------------------------------------------------------------------------------------------------
# The checks
# ---------------------------------------------------------------------------------------------------


class Context:
    def __init__(self, host, port, username, password):
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.run = os.urandom(3).hex()
        self._ids = 0
        self._lock = threading.Lock()

    def next_id(self):
        with self._lock:
            self._ids += 1
            return self._ids


class Check:
    def __init__(self, ctx, name, protocol):
        self.ctx = ctx
        self.name = name
        self.protocol = protocol
        self.peers = []
        self.retained = set()  # topics this check left a retained message on
        tag = "5" if protocol == V5 else "4"
        self.prefix = f"cbconf/{ctx.run}/{name}/{tag}"

    def topic(self, *levels):
        return "/".join([self.prefix, *levels])

    def new_client_id(self):
        # Short enough for any broker's client id limit (23 at 3.1), unique across the run.
        return f"cb{self.ctx.run}-{self.ctx.next_id()}"

    def peer(self, **kwargs):
        return Peer(self, **kwargs)

    def connected(self, **kwargs):
        p = Peer(self, **kwargs)
        p.connect()
        return p


CHECKS = []


def check(name, protocols=(V5, V311), login_only=False, alone=False):
    """alone: runs after all other checks, because it sees the whole broker's traffic."""

    def register(fn):
        CHECKS.append({"name": name, "protocols": protocols, "login_only": login_only, "alone": alone, "fn": fn})
        return fn

    return register


# --- basics ------------------------------------------------------------------------------------------


def pub_sub_at(c, qos):
    sub = c.connected()
    pub = c.connected()
    t = c.topic("t")
    codes = sub.subscribe(t, qos=qos)
    expect(codes == [qos], f"granted QoS {codes}, asked {qos}")
    payloads = [bytes([i, 0, 255]) + f"message {i}".encode() for i in range(10)]
    for p in payloads:
        pub.publish(t, p, qos=qos, wait=False)
    got = sub.wait_for(t, len(payloads))
    expect(len(got) == len(payloads), f"received {len(got)} of {len(payloads)}")
    expect([m["payload"] for m in got] == payloads, "payloads changed or out of order")
    expect(all(m["qos"] == qos for m in got), f"delivered at QoS {[m['qos'] for m in got]}")
    if qos > 0:
        expect(pub.wait(lambda: len(pub.published) >= len(payloads)), "publisher's QoS flows did not complete")
    return f"10 messages in order at QoS {qos}"


@check("pub_sub_qos0")
def _(c):
    return pub_sub_at(c, 0)


@check("pub_sub_qos1")
def _(c):
    return pub_sub_at(c, 1)


@check("pub_sub_qos2")
def _(c):
    return pub_sub_at(c, 2)


@check("qos_downgrade")
def _(c):
    """A message goes out at the lower of the publish QoS and the subscription QoS."""
    sub = c.connected()
    pub = c.connected()
    low, high = c.topic("low"), c.topic("high")
    sub.subscribe(low, qos=0)
    sub.subscribe(high, qos=2)
    pub.publish(low, b"a", qos=2)
    pub.publish(high, b"b", qos=1)
    a, b = sub.wait_for(low), sub.wait_for(high)
    expect(a and b, "a message was not delivered")
    expect(a[0]["qos"] == 0 and b[0]["qos"] == 1, f"QoS 2→sub 0 gave {a[0]['qos']}, QoS 1→sub 2 gave {b[0]['qos']}")
    return "QoS 2 to a QoS 0 subscription arrives at 0; QoS 1 to a QoS 2 subscription at 1"


@check("empty_payload_delivered")
def _(c):
    sub = c.connected()
    pub = c.connected()
    t = c.topic("t")
    sub.subscribe(t, qos=1)
    pub.publish(t, b"", qos=1)
    got = sub.wait_for(t)
    expect(got and got[0]["payload"] == b"", "a non-retained empty message was not delivered")
    return "zero-length payload delivered"


# --- retained ----------------------------------------------------------------------------------------


@check("retained_on_subscribe")
def _(c):
    pub = c.connected()
    t = c.topic("r")
    pub.publish(t, b"kept", qos=1, retain=True)
    sub = c.connected()
    sub.subscribe(t, qos=1)
    got = sub.wait_for(t)
    expect(got, "retained message not delivered on subscribe")
    m = got[0]
    expect(m["payload"] == b"kept" and m["retain"], f"payload {m['payload']!r} retain {m['retain']}")
    expect(m["qos"] == 1, f"delivered at QoS {m['qos']}")
    return "delivered with the retain flag at QoS 1"


@check("retained_replace")
def _(c):
    pub = c.connected()
    t = c.topic("r")
    pub.publish(t, b"one", qos=1, retain=True)
    pub.publish(t, b"two", qos=1, retain=True)
    sub = c.connected()
    sub.subscribe(t, qos=1)
    sub.wait_for(t)
    sub.fence(pub, t)
    kept = [m["payload"] for m in sub.received(t) if m["retain"]]
    expect(kept == [b"two"], f"retained after replace: {kept}")
    return "only the newer retained message is kept"


@check("retained_clear_empty_payload")
def _(c):
    pub = c.connected()
    t = c.topic("r")
    pub.publish(t, b"kept", qos=1, retain=True)
    pub.publish(t, b"", qos=1, retain=True)
    sub = c.connected()
    sub.subscribe(t, qos=1)
    sub.fence(pub, t)
    time.sleep(0.2)  # a retained message, if any, comes right after SUBACK; give a slow one a moment
    kept = [m["payload"] for m in sub.received(t) if m["retain"]]
    expect(kept == [], f"still retained after an empty retained publish: {kept}")
    return "an empty retained publish removes the retained message"


@check("retained_flag_on_live_delivery")
def _(c):
    """A retained publish reaching an existing subscription carries retain 0 (3.1.1 [MQTT-3.3.1-9];
    5.0 the same unless Retain As Published)."""
    sub = c.connected()
    pub = c.connected()
    t = c.topic("r")
    sub.subscribe(t, qos=1)
    pub.publish(t, b"live", qos=1, retain=True)
    got = sub.wait_for(t)
    expect(got and not got[0]["retain"], "live delivery of a retained publish had the retain flag set")
    return "retain flag cleared for an existing subscription"


@check("retain_as_published", protocols=(V5,))
def _(c):
    rap = c.connected()
    plain = c.connected()
    pub = c.connected()
    t = c.topic("r")
    rap.subscribe(t, options=SubscribeOptions(qos=1, retainAsPublished=True))
    plain.subscribe(t, options=SubscribeOptions(qos=1, retainAsPublished=False))
    pub.publish(t, b"x", qos=1, retain=True)
    a, b = rap.wait_for(t), plain.wait_for(t)
    expect(a and b, "not delivered to both subscribers")
    expect(a[0]["retain"] and not b[0]["retain"], f"RAP=1 got retain {a[0]['retain']}, RAP=0 got {b[0]['retain']}")
    return "retain flag kept only with Retain As Published"


def retained_topic(c):
    pub = c.connected()
    t = c.topic("r")
    pub.publish(t, b"kept", qos=1, retain=True)
    return pub, t


@check("retain_handling_0", protocols=(V5,))
def _(c):
    pub, t = retained_topic(c)
    sub = c.connected()
    for _ in range(2):
        sub.subscribe(t, options=SubscribeOptions(qos=1, retainHandling=0))
    sub.wait(lambda: len([m for m in sub.messages if m["retain"]]) >= 2, 2)
    sub.fence(pub, t)
    n = len([m for m in sub.received(t) if m["retain"]])
    expect(n == 2, f"{n} retained deliveries for two subscribes with Retain Handling 0")
    return "retained message sent on every subscribe"


@check("retain_handling_1", protocols=(V5,))
def _(c):
    pub, t = retained_topic(c)
    sub = c.connected()
    for _ in range(2):
        sub.subscribe(t, options=SubscribeOptions(qos=1, retainHandling=1))
    sub.fence(pub, t)
    n = len([m for m in sub.received(t) if m["retain"]])
    expect(n == 1, f"{n} retained deliveries; expected 1 (only for the new subscription)")
    return "retained message sent only when the subscription is new"


@check("retain_handling_2", protocols=(V5,))
def _(c):
    pub, t = retained_topic(c)
    sub = c.connected()
    sub.subscribe(t, options=SubscribeOptions(qos=1, retainHandling=2))
    sub.fence(pub, t)
    n = len([m for m in sub.received(t) if m["retain"]])
    expect(n == 0, f"{n} retained deliveries with Retain Handling 2")
    return "retained message never sent"


@check("no_local", protocols=(V5,))
def _(c):
    me = c.connected()
    other = c.connected()
    t, fence = c.topic("t"), c.topic("fence")
    me.subscribe(t, options=SubscribeOptions(qos=1, noLocal=True))
    me.subscribe(fence, qos=1)
    other.subscribe(t, qos=1)
    me.publish(t, b"mine", qos=1)
    me.fence(me, fence)
    expect(other.wait_for(t), "other subscriber did not get the message")
    expect(not me.received(t), "publisher got its own message despite No Local")
    return "own message not echoed; others still get it"


# --- will --------------------------------------------------------------------------------------------


def will_of(c, topic, payload=b"gone", qos=1, retain=False, delay=None, **props):
    will = {"topic": topic, "payload": payload, "qos": qos, "retain": retain}
    if c.protocol == V5 and (delay is not None or props):
        values = dict(props)
        if delay is not None:
            values["WillDelayInterval"] = delay
        will["properties"] = v5_props(PacketTypes.WILLMESSAGE, **values)
    return will


@check("will_on_abrupt_disconnect")
def _(c):
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    props = {"ContentType": "text/plain", "UserProperty": [("why", "test")]} if c.protocol == V5 else {}
    dying = c.connected(will=will_of(c, t, b"gone", **props))
    dying.kill()
    got = watcher.wait_for(t)
    expect(got and got[0]["payload"] == b"gone", "will not published after the connection dropped")
    if c.protocol == V5:
        p = got[0]["props"]
        expect(prop(p, "ContentType") == "text/plain", f"will content type {prop(p, 'ContentType')!r}")
        expect(prop(p, "UserProperty") == [("why", "test")], f"will user properties {prop(p, 'UserProperty')}")
        return "will published, with its properties"
    return "will published"


@check("will_not_on_clean_disconnect")
def _(c):
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    leaving = c.connected(will=will_of(c, t))
    leaving.disconnect()
    # The broker drops the will when it reads DISCONNECT; no message orders against that.
    time.sleep(QUIET)
    expect(not watcher.received(t), "will published after a clean DISCONNECT")
    return "no will after DISCONNECT"


@check("will_on_disconnect_with_will", protocols=(V5,))
def _(c):
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    leaving = c.connected(will=will_of(c, t))
    leaving.disconnect(reason=0x04)
    expect(watcher.wait_for(t), "DISCONNECT with reason 0x04 did not publish the will")
    return "reason 0x04 (Disconnect with Will Message) publishes the will"


@check("will_delay_interval", protocols=(V5,))
def _(c):
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    props = v5_props(PacketTypes.CONNECT, SessionExpiryInterval=30)
    dying = c.connected(clean=True, connect_props=props, will=will_of(c, t, delay=2))
    dropped = time.monotonic()
    dying.kill()
    got = watcher.wait_for(t, timeout=6)
    expect(got, "delayed will never published")
    after = got[0]["at"] - dropped
    expect(1.5 <= after <= 5, f"will published {after:.1f} s after the drop, delay was 2 s")
    return f"published {after:.1f} s after the drop (delay 2 s)"


@check("will_delay_cancelled_by_reconnect", protocols=(V5,))
def _(c):
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    props = v5_props(PacketTypes.CONNECT, SessionExpiryInterval=30)
    dying = c.connected(clean=False, connect_props=props, will=will_of(c, t, delay=2))
    dying.kill()
    back = c.peer(client_id=dying.client_id, clean=False, connect_props=props)
    back.connect()
    time.sleep(2.5)
    expect(not watcher.received(t), "will published although the client came back within the delay")
    back.disconnect()
    return "reconnecting within the will delay cancels the will"


@check("will_at_session_end", protocols=(V5,))
def _(c):
    """The will goes out when the session ends, even if the will delay is longer."""
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    props = v5_props(PacketTypes.CONNECT, SessionExpiryInterval=1)
    dying = c.connected(connect_props=props, will=will_of(c, t, delay=30))
    dropped = time.monotonic()
    dying.kill()
    got = watcher.wait_for(t, timeout=5)
    expect(got, "will not published when the 1 s session expired (will delay 30 s)")
    return f"published {got[0]['at'] - dropped:.1f} s after the drop (session expiry 1 s)"


# --- sessions ----------------------------------------------------------------------------------------


def persistent(c, expiry=60):
    if c.protocol == V5:
        return {"clean": False, "connect_props": v5_props(PacketTypes.CONNECT, SessionExpiryInterval=expiry)}
    return {"clean": False}


@check("session_offline_queue")
def _(c):
    t = c.topic("q")
    first = c.connected(**persistent(c))
    first.subscribe(t, qos=1)
    first.disconnect()
    pub = c.connected()
    for i in range(3):
        pub.publish(t, f"offline {i}".encode(), qos=1)
    back = c.peer(client_id=first.client_id, **persistent(c))
    ack = back.connect()
    expect(ack["session_present"], "CONNACK session present = 0 for a persistent session")
    got = back.wait_for(t, 3)
    expect([m["payload"] for m in got] == [f"offline {i}".encode() for i in range(3)],
           f"queued messages: {[m['payload'] for m in got]}")
    back.disconnect()
    c.peer(client_id=first.client_id, clean=True).connect()  # leave no session behind
    return "3 QoS 1 messages queued while offline, delivered in order, session present"


@check("clean_start_discards_session")
def _(c):
    t, fence = c.topic("q"), c.topic("fence")
    first = c.connected(**persistent(c))
    first.subscribe(t, qos=1)
    first.disconnect()
    pub = c.connected()
    pub.publish(t, b"queued", qos=1)
    fresh = c.peer(client_id=first.client_id, clean=True)
    ack = fresh.connect()
    expect(not ack["session_present"], "CONNACK session present = 1 with clean start")
    fresh.subscribe(fence, qos=1)
    pub.publish(t, b"after", qos=1)
    fresh.fence(pub, fence)
    expect(not fresh.received(t), f"old session's subscription or queue survived: {fresh.received(t)}")
    return "no queued messages, no old subscription, session present 0"


@check("session_expiry", protocols=(V5,))
def _(c):
    t = c.topic("q")
    first = c.connected(**persistent(c, expiry=1))
    first.subscribe(t, qos=1)
    first.disconnect()
    pub = c.connected()
    pub.publish(t, b"queued", qos=1)
    time.sleep(2.2)
    back = c.peer(client_id=first.client_id, **persistent(c, expiry=1))
    ack = back.connect()
    expect(not ack["session_present"], "session still present 2 s after a 1 s session expiry")
    time.sleep(0.3)
    expect(not back.received(t), "messages of an expired session were delivered")
    return "session gone after its 1 s expiry"


@check("session_expiry_zero_default", protocols=(V5,))
def _(c):
    """At 5.0 clean start 0 without a Session Expiry Interval still ends the session on disconnect."""
    first = c.connected(clean=False)
    first.subscribe(c.topic("q"), qos=1)
    first.disconnect()
    back = c.peer(client_id=first.client_id, clean=False)
    ack = back.connect()
    expect(not ack["session_present"], "session kept although the Session Expiry Interval was 0")
    return "no session kept with expiry 0"


@check("qos2_persistent_session")
def _(c):
    """QoS 2 to a subscriber with a persistent session: every message once, in order. (Found losing
    and reordering messages on aedes 2.0.0-beta.1, so it runs three bursts of 50.)"""
    t = c.topic("q")
    sub = c.connected(**persistent(c))
    sub.subscribe(t, qos=2)
    pub = c.connected()
    sent = [f"m{i}".encode() for i in range(150)]
    for burst in range(3):
        for p in sent[burst * 50:(burst + 1) * 50]:
            pub.publish(t, p, qos=2, wait=False)
        sub.wait_for(t, (burst + 1) * 50, timeout=1.5)
    got = [m["payload"] for m in sub.received(t)]
    missing = [p.decode() for p in sent if p not in got]
    expect(got == sent, f"{len(got)} of 150 delivered; missing {missing[:5]}; in order: {got == sorted(got, key=sent.index)}")
    sub.disconnect()
    c.peer(client_id=sub.client_id, clean=True).connect()
    return "150 QoS 2 messages, each once, in order"


@check("qos1_redelivery_after_reconnect")
def _(c):
    t = c.topic("q")
    first = c.connected(**persistent(c))
    first.subscribe(t, qos=1)
    first.client.mute_acks = True
    pub = c.connected()
    sent = [f"m{i}".encode() for i in range(3)]
    for p in sent:
        pub.publish(t, p, qos=1)
    expect(len(first.wait_for(t, 3)) == 3, "unacknowledged messages never arrived the first time")
    first.kill()
    back = c.peer(client_id=first.client_id, **persistent(c))
    back.connect()
    got = back.wait_for(t, 3)
    payloads = [m["payload"] for m in got]
    expect(payloads == sent, f"after reconnect got {payloads}, expected {sent}")
    back.disconnect()
    c.peer(client_id=first.client_id, clean=True).connect()
    return "3 unacknowledged QoS 1 messages redelivered in order"


@check("redelivery_dup_flag")
def _(c):
    """A PUBLISH sent again after a reconnect carries DUP = 1 ([MQTT-3.3.1-1])."""
    flags = {}
    for qos in (1, 2):
        t = c.topic(f"q{qos}")
        first = c.connected(**persistent(c))
        first.subscribe(t, qos=qos)
        first.client.mute_acks = True
        pub = c.connected()
        pub.publish(t, b"again", qos=qos)
        if qos == 1:
            expect(first.wait_for(t), "QoS 1 message never arrived the first time")
        else:
            expect(first.wait(lambda: len(first.client._in_messages) >= 1), "QoS 2 message never arrived")
        first.kill()
        back = c.peer(client_id=first.client_id, **persistent(c))
        back.connect()
        got = back.wait_for(t)
        expect(got, f"QoS {qos} message not redelivered")
        flags[qos] = got[0]["dup"]
        back.disconnect()
        c.peer(client_id=first.client_id, clean=True).connect()
    expect(all(flags.values()), f"DUP on redelivery: QoS 1 {flags[1]}, QoS 2 {flags[2]}")
    return "DUP set on QoS 1 and QoS 2 redelivery"


@check("qos2_redelivery_after_reconnect")
def _(c):
    t = c.topic("q")
    first = c.connected(**persistent(c))
    first.subscribe(t, qos=2)
    first.client.mute_acks = True
    pub = c.connected()
    sent = [f"m{i}".encode() for i in range(3)]
    for p in sent:
        pub.publish(t, p, qos=2)
    # paho hands a QoS 2 message over on PUBREL, which never comes without our PUBREC: wait on the wire.
    ok = first.wait(lambda: len(first.client._in_messages) >= 3)
    expect(ok, "unacknowledged QoS 2 messages never arrived the first time")
    first.kill()
    back = c.peer(client_id=first.client_id, **persistent(c))
    back.connect()
    back.wait_for(t, 3)
    time.sleep(0.2)  # a duplicate would follow right behind
    payloads = [m["payload"] for m in back.received(t)]
    expect(payloads == sent, f"after reconnect got {payloads}, expected {sent} exactly once")
    back.disconnect()
    c.peer(client_id=first.client_id, clean=True).connect()
    return "3 QoS 2 messages without PUBREC redelivered in order, exactly once"


# --- topics ------------------------------------------------------------------------------------------


@check("overlapping_subscriptions")
def _(c):
    sub = c.connected()
    pub = c.connected()
    sub.subscribe(c.topic("+", "x"), qos=0)
    sub.subscribe(c.topic("#"), qos=2)
    t = c.topic("a", "x")
    pub.publish(t, b"both", qos=2)
    sub.fence(pub, c.topic("fence"), qos=2)
    got = sub.received(t)
    expect(got, "not delivered")
    expect(max(m["qos"] for m in got) == 2, f"copies at QoS {[m['qos'] for m in got]}; max should be 2")
    return f"{len(got)} cop{'y' if len(got) == 1 else 'ies'}, highest QoS 2"


@check("wildcard_plus")
def _(c):
    sub = c.connected()
    pub = c.connected()
    sub.subscribe(c.topic("+", "c"), qos=1)
    sub.subscribe(c.topic("fence"), qos=1)
    # under the prefix is prefix + "//c": an empty level that + matches.
    topics = {c.topic("b", "c"): True, c.topic("", "c"): True, c.topic("b", "d"): False,
              c.topic("b", "c", "d"): False, c.prefix + "/c": False}
    for t in topics:
        pub.publish(t, b"x", qos=1)
    sub.fence(pub, c.topic("fence"))
    got = {m["topic"] for m in sub.received()} - {c.topic("fence")}
    want = {t for t, match in topics.items() if match}
    expect(got == want, f"matched {sorted(got)}, expected {sorted(want)}")
    return "+ matches exactly one level, empty levels too"


@check("wildcard_hash")
def _(c):
    sub = c.connected()
    pub = c.connected()
    sub.subscribe(c.topic("h", "#"), qos=1)
    sub.subscribe(c.topic("fence"), qos=1)
    topics = {c.topic("h"): True, c.topic("h", "a"): True, c.topic("h", "a", "b"): True,
              c.topic("hx", "a"): False, c.topic("x", "h"): False}
    for t in topics:
        pub.publish(t, b"x", qos=1)
    sub.fence(pub, c.topic("fence"))
    got = {m["topic"] for m in sub.received()} - {c.topic("fence")}
    want = {t for t, match in topics.items() if match}
    expect(got == want, f"matched {sorted(got)}, expected {sorted(want)}")
    return "# matches the parent level and everything below"


# Alone: its "#" would also get the other checks' delayed wills, which paho cannot parse from aedes.
@check("dollar_topics_not_matched", alone=True)
def _(c):
    wild = c.connected()
    direct = c.connected()
    pub = c.connected()
    dollar = f"$cbconf/{c.ctx.run}/{c.protocol}"
    wild.subscribe("#", qos=1)
    wild.subscribe(f"+/{c.ctx.run}/{c.protocol}", qos=1)
    direct.subscribe(dollar, qos=1)
    pub.publish(dollar, b"x", qos=1)
    direct_got = direct.wait_for(dollar)
    wild.fence(pub, c.topic("fence"))
    leaked = sorted({m["topic"] for m in wild.received() if m["topic"].startswith("$")})
    expect(not leaked, f"# or + matched $ topics: {leaked[:5]}")
    expect(direct_got, "could not publish to a $ topic: nothing to test # against")
    return "# and + do not match topics starting with $"


@check("unsubscribe")
def _(c):
    sub = c.connected()
    pub = c.connected()
    t, fence = c.topic("t"), c.topic("fence")
    sub.subscribe(t, qos=1)
    sub.subscribe(fence, qos=1)
    pub.publish(t, b"before", qos=1)
    expect(sub.wait_for(t), "not delivered while subscribed")
    codes = sub.unsubscribe(t)
    if c.protocol == V5:
        expect(codes == [0], f"UNSUBACK reason codes {codes}")
    pub.publish(t, b"after", qos=1)
    sub.fence(pub, fence)
    expect([m["payload"] for m in sub.received(t)] == [b"before"], "delivered after UNSUBSCRIBE")
    return "nothing delivered after UNSUBACK"


@check("unsubscribe_unknown_reason_code", protocols=(V5,))
def _(c):
    sub = c.connected()
    codes = sub.unsubscribe(c.topic("never"))
    expect(codes == [0x11], f"UNSUBACK {[hexcode(x) for x in codes]}; expected 0x11 (No subscription existed)")
    return "0x11 for a filter that was not subscribed"


@check("invalid_topic_filter_refused")
def _(c):
    sub = c.connected()
    # paho checks filters before sending; switch that off for this one client to send a bad one.
    sub.client._filter_wildcard_len_check = lambda _filter: mqtt.MQTT_ERR_SUCCESS
    codes = sub.subscribe("a/#/b", qos=1, expect_ok=False)
    if codes is None:
        expect(sub.disconnected is not None, "neither SUBACK nor disconnect")
        return f"refused as a protocol error: {sub.disconnected}"
    expect(all(x >= 0x80 for x in codes), f"SUBACK {[hexcode(x) for x in codes]} for 'a/#/b'")
    return f"SUBACK failure {[hexcode(x) for x in codes]}"


# --- liveness ----------------------------------------------------------------------------------------


@check("keepalive_enforced")
def _(c):
    """A silent client is cut after 1.5 × keepalive ([MQTT-3.1.2-24]), so its will goes out; one that
    sends PINGREQ in time is not. Mosquitto 2.0 looks at keepalives only every few seconds, hence the
    tolerance."""
    t = c.topic("will")
    watcher = c.connected()
    watcher.subscribe(t, qos=1)
    alive = c.connected(keepalive=1)
    hung = c.connected(keepalive=1, will=will_of(c, t, b"timed out"))
    hung.freeze()
    silent_since = time.monotonic()
    got = watcher.wait_for(t, timeout=8)
    expect(got, "the broker kept a silent client (keepalive 1 s) for 8 s")
    after = got[0]["at"] - silent_since
    expect(after <= 1.5 + 5, f"cut after {after:.1f} s of silence, keepalive 1 s")
    expect(alive.disconnected is None, f"a client that pinged every second was cut too ({alive.disconnected})")
    return f"silent client cut after {after:.1f} s (keepalive 1 s); pinging client kept"


@check("server_keep_alive", protocols=(V5,))
def _(c):
    """Keepalive 0 (no keepalive) is accepted; a Server Keep Alive in CONNACK, if any, is 1..65535."""
    p = c.peer(keepalive=0)
    ack = p.connect()
    value = prop(ack["props"], "ServerKeepAlive")
    expect(value is None or 0 < value <= 65535, f"Server Keep Alive {value}")
    p2 = c.peer(keepalive=5)
    value5 = prop(p2.connect()["props"], "ServerKeepAlive")
    expect(value5 is None or 0 < value5 <= 65535, f"Server Keep Alive {value5}")
    return f"keepalive 0 → Server Keep Alive {value}; keepalive 5 → {value5}"


# --- MQTT 5 properties ------------------------------------------------------------------------------


@check("subscription_identifiers", protocols=(V5,))
def _(c):
    sub = c.connected()
    pub = c.connected()
    sub.subscribe(c.topic("+", "a"), qos=1, props=v5_props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=7))
    sub.subscribe(c.topic("#"), qos=1, props=v5_props(PacketTypes.SUBSCRIBE, SubscriptionIdentifier=9))
    both, one = c.topic("x", "a"), c.topic("y")
    pub.publish(both, b"1", qos=1)
    pub.publish(one, b"2", qos=1)
    sub.wait_for(one)
    ids_both = sorted(i for m in sub.received(both) for i in prop(m["props"], "SubscriptionIdentifier", []))
    ids_one = sorted(i for m in sub.received(one) for i in prop(m["props"], "SubscriptionIdentifier", []))
    expect(ids_both == [7, 9], f"identifiers on a message matching both: {ids_both}")
    expect(ids_one == [9], f"identifiers on a message matching one: {ids_one}")
    return "identifiers of every matching subscription, and only those"


@check("user_properties", protocols=(V5,))
def _(c):
    sub = c.connected()
    pub = c.connected()
    t = c.topic("t")
    sub.subscribe(t, qos=1)
    sent = [("a", "1"), ("a", "2"), ("b", "ü")]
    pub.publish(t, b"x", qos=1, props=v5_props(PacketTypes.PUBLISH, UserProperty=sent))
    got = sub.wait_for(t)
    expect(got, "not delivered")
    expect(prop(got[0]["props"], "UserProperty") == sent, f"user properties {prop(got[0]['props'], 'UserProperty')}")
    return "user properties forwarded unchanged, order and duplicates kept"


@check("payload_format_and_content_type", protocols=(V5,))
def _(c):
    sub = c.connected()
    pub = c.connected()
    t = c.topic("t")
    sub.subscribe(t, qos=1)
    props = v5_props(PacketTypes.PUBLISH, PayloadFormatIndicator=1, ContentType="application/json")
    pub.publish(t, b'{"a":1}', qos=1, props=props)
    got = sub.wait_for(t)
    expect(got, "not delivered")
    p = got[0]["props"]
    expect(prop(p, "PayloadFormatIndicator") == 1 and prop(p, "ContentType") == "application/json",
           f"payload format {prop(p, 'PayloadFormatIndicator')}, content type {prop(p, 'ContentType')!r}")
    return "payload format indicator and content type forwarded"


@check("request_response", protocols=(V5,))
def _(c):
    requester = c.connected()
    responder = c.connected()
    service, reply = c.topic("service"), c.topic("reply")
    responder.subscribe(service, qos=1)
    requester.subscribe(reply, qos=1)
    correlation = b"\x00\x01req-42\xff"
    requester.publish(service, b"question", qos=1,
                      props=v5_props(PacketTypes.PUBLISH, ResponseTopic=reply, CorrelationData=correlation))
    got = responder.wait_for(service)
    expect(got, "request not delivered")
    p = got[0]["props"]
    expect(prop(p, "ResponseTopic") == reply and prop(p, "CorrelationData") == correlation,
           f"response topic {prop(p, 'ResponseTopic')!r}, correlation {prop(p, 'CorrelationData')!r}")
    responder.publish(prop(p, "ResponseTopic"), b"answer", qos=1,
                      props=v5_props(PacketTypes.PUBLISH, CorrelationData=prop(p, "CorrelationData")))
    answer = requester.wait_for(reply)
    expect(answer and prop(answer[0]["props"], "CorrelationData") == correlation, "response lost its correlation data")
    return "response topic and correlation data passed through both ways"


@check("message_expiry_forwarded", protocols=(V5,))
def _(c):
    sub = c.connected()
    pub = c.connected()
    t = c.topic("t")
    sub.subscribe(t, qos=1)
    pub.publish(t, b"x", qos=1, props=v5_props(PacketTypes.PUBLISH, MessageExpiryInterval=60))
    got = sub.wait_for(t)
    expect(got, "not delivered")
    left = prop(got[0]["props"], "MessageExpiryInterval")
    expect(left is not None and 0 < left <= 60, f"forwarded Message Expiry Interval {left}")
    return f"forwarded with {left} s left"


@check("message_expiry_retained", protocols=(V5,))
def _(c):
    pub = c.connected()
    t = c.topic("r")
    pub.publish(t, b"short-lived", qos=1, retain=True, props=v5_props(PacketTypes.PUBLISH, MessageExpiryInterval=1))
    time.sleep(2.2)
    sub = c.connected()
    sub.subscribe(t, qos=1)
    sub.fence(pub, t)
    time.sleep(0.2)
    stale = [m for m in sub.received(t) if m["retain"]]
    expect(not stale, "retained message delivered after its 1 s expiry")
    return "expired retained message not delivered"


@check("message_expiry_queued", protocols=(V5,))
def _(c):
    t = c.topic("q")
    first = c.connected(**persistent(c))
    first.subscribe(t, qos=1)
    first.disconnect()
    pub = c.connected()
    pub.publish(t, b"expires", qos=1, props=v5_props(PacketTypes.PUBLISH, MessageExpiryInterval=1))
    pub.publish(t, b"stays", qos=1, props=v5_props(PacketTypes.PUBLISH, MessageExpiryInterval=60))
    time.sleep(2.2)
    back = c.peer(client_id=first.client_id, **persistent(c))
    back.connect()
    back.wait_for(t)
    time.sleep(0.2)
    payloads = [m["payload"] for m in back.received(t)]
    expect(payloads == [b"stays"], f"queued while offline: {payloads}; the 1 s message should have expired")
    back.disconnect()
    c.peer(client_id=first.client_id, clean=True).connect()
    return "an expired queued message dropped, the other delivered"


@check("topic_alias_from_client", protocols=(V5,))
def _(c):
    sub = c.connected()
    pub = c.connected()
    limit = prop(pub.connack["props"], "TopicAliasMaximum", 0)
    expect(limit >= 1, "the broker offers no topic aliases (Topic Alias Maximum 0 or absent in CONNACK)")
    t = c.topic("t")
    sub.subscribe(t, qos=1)
    pub.publish(t, b"first", qos=1, props=v5_props(PacketTypes.PUBLISH, TopicAlias=1))
    pub.publish("", b"second", qos=1, props=v5_props(PacketTypes.PUBLISH, TopicAlias=1))
    got = sub.wait_for(t, 2)
    expect([m["payload"] for m in got] == [b"first", b"second"], f"got {[m['payload'] for m in got]} on {t}")
    return f"alias 1 set and reused (broker allows {limit})"


@check("shared_subscriptions", protocols=(V5,))
def _(c):
    a = c.connected()
    b = c.connected()
    pub = c.connected()
    available = prop(a.connack["props"], "SharedSubscriptionAvailable", 1)
    share = f"$share/g{c.ctx.run}/{c.topic('t')}"
    codes_a = a.subscribe(share, qos=1, expect_ok=False)
    codes_b = b.subscribe(share, qos=1, expect_ok=False)
    expect(codes_a == [1] and codes_b == [1],
           f"SUBACK {codes_a}/{codes_b} (Shared Subscription Available: {available})")
    sent = [f"{i}".encode() for i in range(10)]
    for p in sent:
        pub.publish(c.topic("t"), p, qos=1)
    a.wait(lambda: len(a.received()) + len(b.received()) >= 10)
    time.sleep(0.2)
    got = sorted([m["payload"] for m in a.received() + b.received()], key=int)
    expect(got == sent, f"the group got {len(got)} deliveries for 10 messages")
    return f"10 messages split {len(a.received())}/{len(b.received())}, each delivered once"


@check("maximum_packet_size", protocols=(V5,))
def _(c):
    """A client's Maximum Packet Size is respected: a larger message is dropped for it, not sent."""
    small = c.connected(connect_props=v5_props(PacketTypes.CONNECT, MaximumPacketSize=256))
    pub = c.connected()
    t = c.topic("t")
    small.subscribe(t, qos=1)
    pub.publish(t, b"x" * 1000, qos=1)
    pub.publish(t, b"fits", qos=1)
    small.wait_for(t)
    time.sleep(0.2)
    payloads = [len(m["payload"]) for m in small.received(t)]
    expect(small.disconnected is None, "the broker dropped the connection instead of the message")
    expect(payloads == [4], f"payload sizes received: {payloads}; only the 4-byte one fits 256 bytes")
    return "oversized message dropped for that client, the small one delivered"


@check("assigned_client_identifier")
def _(c):
    p = c.peer(client_id="")
    ack = p.connect()
    if c.protocol == V5:
        assigned = prop(ack["props"], "AssignedClientIdentifier")
        expect(assigned, "no Assigned Client Identifier in CONNACK for an empty client id")
        return f"assigned {assigned!r}"
    return "empty client id with clean session accepted"


@check("empty_client_id_persistent_refused", protocols=(V311,))
def _(c):
    data, closed = raw_connect_v311(c.ctx, "", clean=False)
    expect(len(data) == 4 and data[0] == 0x20, f"no CONNACK: {data.hex()}")
    expect(data[3] == 2, f"CONNACK return code {data[3]}; expected 2 (identifier rejected)")
    expect(closed, "connection left open after the refusal")
    return "return code 2 (identifier rejected), connection closed"


@check("bad_password_refused", login_only=True)
def _(c):
    p = c.peer(username=c.ctx.username, password=(c.ctx.password or "") + "-wrong")
    ack = p.connect(expect_ok=False)
    allowed = (0x86, 0x87) if c.protocol == V5 else (4, 5)
    expect(ack is not None, "connection closed without CONNACK")
    expect(ack["rc"] in allowed, f"CONNACK {hexcode(ack['rc'])}; expected one of {[hexcode(a) for a in allowed]}")
    return f"refused with {hexcode(ack['rc'])}"


@check("anonymous_refused", login_only=True)
def _(c):
    p = c.peer(login=False)
    ack = p.connect(expect_ok=False)
    allowed = (0x86, 0x87) if c.protocol == V5 else (4, 5)
    expect(ack is not None, "connection closed without CONNACK")
    expect(ack["rc"] in allowed, f"CONNACK {hexcode(ack['rc'])}; expected one of {[hexcode(a) for a in allowed]}")
    return f"refused with {hexcode(ack['rc'])}"


# ---------------------------------------------------------------------------------------------------


def run_one(ctx, spec, protocol):
    c = Check(ctx, spec["name"], protocol)
    started = time.monotonic()
    try:
        detail = spec["fn"](c)
        ok = True
    except CheckFailed as err:
        ok, detail = False, str(err)
        # A client that died on a packet it could not parse explains most such failures.
        errors = sorted({p.error for p in c.peers if p.error})
        if errors:
            detail += " | a paho client failed on what the broker sent: " + "; ".join(errors)
    except Exception as err:  # noqa: BLE001 - a crash in a check is that check's failure
        ok, detail = False, f"{type(err).__name__}: {err} | {traceback.format_exc(limit=3)}"
    finally:
        for p in c.peers:
            p.close()
        if c.retained:
            # Leave the broker as found: the same broker serves the other checks and later runs.
            try:
                sweeper = c.connected()
                for topic in c.retained:
                    sweeper.publish(topic, b"", qos=1, retain=True)
                sweeper.close()
            except Exception:  # noqa: BLE001 - a refusing broker already failed the check
                pass
    return {
        "name": spec["name"],
        "protocol": protocol,
        "pass": ok,
        "detail": detail,
        "seconds": round(time.monotonic() - started, 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--username")
    parser.add_argument("--password")
    parser.add_argument("--protocol", choices=[V5, V311, "both"], default="both")
    parser.add_argument("--only", help="comma-separated check names")
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--list", action="store_true", help="print the checks and exit")
    args = parser.parse_args()

    ctx = Context(args.host, args.port, args.username, args.password)
    protocols = [V5, V311] if args.protocol == "both" else [args.protocol]
    only = set(args.only.split(",")) if args.only else None
    jobs = [
        (spec, proto)
        for spec in CHECKS
        for proto in protocols
        if proto in spec["protocols"]
        and (only is None or spec["name"] in only)
        and (ctx.username is not None or not spec["login_only"])
    ]
    if args.list:
        for spec, proto in jobs:
            print(json.dumps({"name": spec["name"], "protocol": proto}))
        return 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_one, ctx, spec, proto) for spec, proto in jobs if not spec["alone"]]
        for future in concurrent.futures.as_completed(futures):
            print(json.dumps(future.result()), flush=True)
    for spec, proto in jobs:
        if spec["alone"]:
            print(json.dumps(run_one(ctx, spec, proto)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
