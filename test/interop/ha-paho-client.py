#!/usr/bin/python3
"""
Home Assistant's MQTT client, as far as chargebridge sees it: paho-mqtt speaking MQTT 5 with clean
start and a will, subscribing to the discovery topics, reading discovery configs as JSON, sending
its birth message and commands. Driven by ha-paho.test.ts one step at a time, so the test can move
its simulated clock between steps.

stdin, one JSON command a line:
    {"cmd": "connect", "host", "port", "username"?, "password"?, "client_id"?, "keepalive"?,
     "will": {"topic", "payload", "qos", "retain"}?}
    {"cmd": "subscribe", "topics": [[filter, qos], ...]}
    {"cmd": "publish", "topic", "payload", "qos"?, "retain"?}
    {"cmd": "kill"}          drop the TCP connection without DISCONNECT (the broker sends the will)
    {"cmd": "disconnect"}    clean DISCONNECT
stdout, one JSON event a line:
    {"event": "connected", "rc", "session_present", "properties"} (rc != 0: refused)
    {"event": "subscribed", "id", "codes"}   {"event": "published", "id"}
    {"event": "discovery", "topic", "retain", "config" | "error"}   (a discovery topic's payload)
    {"event": "message", "topic", "payload", "qos", "retain"}
    {"event": "connection_lost", "reason"}   {"event": "killed"}   {"event": "error", "message"}

Exits on end of stdin, or after --max-seconds as a safety net. Standard library and paho 1.6.1 only.
"""

import argparse
import json
import os
import socket
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCodes

DISCOVERY_PREFIX = "homeassistant"
out_lock = threading.Lock()


def emit(**event):
    with out_lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()


def code_of(rc):
    return rc.value if isinstance(rc, ReasonCodes) else int(rc)


def is_discovery(topic):
    # <prefix>/<component>/[<node_id>/]<object_id>/config, as Home Assistant's discovery subscribes.
    levels = topic.split("/")
    return levels[0] == DISCOVERY_PREFIX and levels[-1] == "config" and len(levels) in (4, 5)


class HomeAssistantLike:
    def __init__(self):
        self.client = None
        self.thread = None
        self.stop = threading.Event()

    def connect(self, cmd):
        # HA: MQTT 5, a fresh session each time (clean start), its own random client id.
        self.client = mqtt.Client(client_id=cmd.get("client_id", ""), protocol=mqtt.MQTTv5,
                                  reconnect_on_failure=False)
        if cmd.get("username") is not None:
            self.client.username_pw_set(cmd["username"], cmd.get("password"))
        will = cmd.get("will")
        if will:
            self.client.will_set(will["topic"], will["payload"], qos=will.get("qos", 0),
                                 retain=will.get("retain", False))
        self.client.on_connect = self.on_connect
        self.client.on_message = self.on_message
        self.client.on_subscribe = lambda c, u, mid, codes, props: emit(
            event="subscribed", id=mid, codes=[code_of(x) for x in codes])
        self.client.on_publish = lambda c, u, mid: emit(event="published", id=mid)
        self.client.on_disconnect = self.on_disconnect
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 0
        self.client.connect(cmd["host"], cmd["port"], keepalive=cmd.get("keepalive", 60), clean_start=True,
                            properties=props)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.client._thread = self.thread  # so that only the loop thread writes to the socket
        self.thread.start()

    def loop(self):
        while not self.stop.is_set():
            try:
                rc = self.client.loop(timeout=0.02)
            except Exception as err:  # noqa: BLE001 - a packet paho rejects ends HA's loop the same way
                emit(event="connection_lost", reason=f"{type(err).__name__}: {err}")
                return
            if rc != mqtt.MQTT_ERR_SUCCESS:
                return

    def on_connect(self, client, userdata, flags, rc, props):
        emit(event="connected", rc=code_of(rc), session_present=bool(flags.get("session present")),
             properties=props.json() if props is not None else {})

    def on_message(self, client, userdata, message):
        payload = bytes(message.payload)
        if is_discovery(message.topic):
            event = {"event": "discovery", "topic": message.topic, "retain": bool(message.retain)}
            try:
                # Home Assistant drops a discovery payload that is not a JSON object.
                config = json.loads(payload.decode("utf-8")) if payload else None
                if config is not None and not isinstance(config, dict):
                    raise ValueError("not a JSON object")
                event["config"] = config
            except ValueError as err:
                event["error"] = str(err)
            emit(**event)
            return
        emit(event="message", topic=message.topic, payload=payload.decode("utf-8", "replace"),
             qos=message.qos, retain=bool(message.retain))

    def on_disconnect(self, client, userdata, rc, props=None):
        if not self.stop.is_set():
            emit(event="connection_lost", reason=str(code_of(rc)))

    def subscribe(self, cmd):
        self.client.subscribe([(t, q) for t, q in cmd["topics"]])

    def publish(self, cmd):
        self.client.publish(cmd["topic"], cmd["payload"], qos=cmd.get("qos", 0), retain=cmd.get("retain", False))

    def kill(self):
        # Stop our loop first so nothing writes a DISCONNECT, then cut the TCP connection.
        self.stop.set()
        self.thread.join(2)
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        emit(event="killed")

    def disconnect(self):
        self.client.disconnect()
        self.thread.join(2)
        self.stop.set()
        emit(event="disconnected")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-seconds", type=float, default=60)
    args = parser.parse_args()
    # Safety net only: the test drives every step and closes stdin when done.
    watchdog = threading.Timer(args.max_seconds, lambda: (emit(event="error", message="time limit"), os._exit(3)))
    watchdog.daemon = True
    watchdog.start()
    ha = HomeAssistantLike()
    for line in sys.stdin:
        if not line.strip():
            continue
        cmd = json.loads(line)
        try:
            action = cmd["cmd"]
            if action == "connect":
                ha.connect(cmd)
            elif action == "subscribe":
                ha.subscribe(cmd)
            elif action == "publish":
                ha.publish(cmd)
            elif action == "kill":
                ha.kill()
            elif action == "disconnect":
                ha.disconnect()
            else:
                emit(event="error", message=f"unknown command {action}")
        except Exception as err:  # noqa: BLE001 - report and keep serving; the test decides
            emit(event="error", message=f"{type(err).__name__}: {err}")
    ha.stop.set()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # os._exit: do not wait for paho's or the watchdog's threads.
    os._exit(code)
