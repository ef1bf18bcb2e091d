"""Real Graphite (carbon-cache) and InfluxDB 1.x servers on loopback, started
and stopped by the tests themselves, with private data directories."""

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from harness import wait_for

DEBIAN_PYTHON = "/usr/bin/python3"


def free_port(kind=socket.SOCK_STREAM):
    """A port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available(*commands):
    return all(shutil.which(c) for c in commands)


class Carbon:
    """carbon-cache with a line receiver on a free port and 1 s retention."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "carbon")
        for sub in ("conf", "storage", "whisper", "lists", "log", "run"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.line_port = free_port()
        conf = os.path.join(self.dir, "conf", "carbon.conf")
        with open(conf, "w") as f:
            f.write(f"""[cache]
STORAGE_DIR = {self.dir}/storage/
LOCAL_DATA_DIR = {self.dir}/whisper/
WHITELISTS_DIR = {self.dir}/lists/
CONF_DIR = {self.dir}/conf/
LOG_DIR = {self.dir}/log/
PID_DIR = {self.dir}/run/
USER =
ENABLE_TAGS = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {self.line_port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {free_port()}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {free_port()}
WHISPER_AUTOFLUSH = True
LOG_LISTENER_CONNECTIONS = False
""")
        with open(os.path.join(self.dir, "conf", "storage-schemas.conf"), "w") as f:
            f.write("[everything]\npattern = .*\nretentions = 1s:1h\n")
        self.log = open(os.path.join(self.dir, "carbon-stdout.log"), "w")
        self.proc = subprocess.Popen(
            [DEBIAN_PYTHON, shutil.which("carbon-cache"), f"--config={conf}", "--nodaemon", "start"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._listening, 30, what="carbon-cache line receiver")

    def _listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.line_port), 0.2).close()
            return True
        except OSError:
            return False

    def whisper_file(self, path):
        """The .wsp file of a dotted Graphite path."""
        return os.path.join(self.dir, "whisper", *path.split(".")) + ".wsp"

    def paths(self):
        """Every Graphite path stored so far."""
        root = os.path.join(self.dir, "whisper")
        out = set()
        for d, _, files in os.walk(root):
            for name in files:
                if name.endswith(".wsp"):
                    rel = os.path.relpath(os.path.join(d, name[:-4]), root)
                    out.add(rel.replace(os.sep, "."))
        return out

    def values(self, path):
        """Non-empty points of a series: [(time, value)]."""
        f = self.whisper_file(path)
        if not os.path.exists(f):
            return []
        res = subprocess.run([DEBIAN_PYTHON, shutil.which("whisper-fetch"),
                              f"--from={int(time.time()) - 600}", f],
                             capture_output=True, text=True)
        out = []
        for line in res.stdout.splitlines():
            t, v = line.split()
            if v != "None":
                out.append((int(t), float(v)))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Influx:
    """influxd 1.x with its collectd input on a free UDP port."""

    def __init__(self, workdir, typesdb="/usr/share/collectd/types.db"):
        self.dir = os.path.join(workdir, "influx")
        os.makedirs(self.dir, exist_ok=True)
        self.http_port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        conf = os.path.join(self.dir, "influxdb.conf")
        with open(conf, "w") as f:
            f.write(f"""reporting-enabled = false
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{self.dir}/meta"
[data]
  dir = "{self.dir}/data"
  wal-dir = "{self.dir}/wal"
[http]
  bind-address = "127.0.0.1:{self.http_port}"
  log-enabled = false
[[collectd]]
  enabled = true
  bind-address = "127.0.0.1:{self.udp_port}"
  database = "collectd"
  typesdb = "{typesdb}"
  batch-timeout = "1s"
""")
        self.log = open(os.path.join(self.dir, "influxd.log"), "w")
        self.proc = subprocess.Popen(["influxd", "run", "-config", conf],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._ready, 30, what="influxd")

    def _ready(self):
        # Ready once /ping answers; the collectd input opens its UDP socket
        # during the same start-up, and collectd re-sends every interval.
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/ping", timeout=1):
                return True
        except OSError:
            return False

    def query(self, q):
        """Runs InfluxQL against db collectd; returns the parsed JSON."""
        params = urllib.parse.urlencode({"db": "collectd", "q": q, "epoch": "s"})
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/query?{params}",
                                    timeout=10) as resp:
            return json.loads(resp.read())

    def rows(self, q):
        """[{column: value}] of the first series of a query's result, or []."""
        res = self.query(q)
        out = []
        for result in res.get("results", []):
            for series in result.get("series", []):
                cols = series["columns"]
                tags = series.get("tags", {})
                for values in series["values"]:
                    row = dict(zip(cols, values))
                    row.update(tags)
                    out.append(row)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
