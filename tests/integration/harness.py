"""Integration-test harness: the real collectd daemon, the built module and
the HSS/IAM simulator, all on 127.0.0.1.

Tests get a running simulator (HTTPS with a test CA generated at run time)
and start collectd instances from config snippets; they then read what
collectd's csv and write_log plugins produced, what collectd logged and the
notifications its logfile plugin printed.

HSS_VALGRIND=1 runs every collectd started with Collectd.start() under
valgrind (memcheck); Collectd.stop() then fails the test on memory errors
and on definite leaks with a frame of ours. TIME_FACTOR scales timeouts and
timing assertions for it.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SIM = os.path.join(REPO, "tests", "sim", "hss_sim.py")
MKCERTS = os.path.join(REPO, "tests", "sim", "mkcerts.sh")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"
STOCK_PLUGINS = os.environ.get("COLLECTD_PLUGINDIR", "/usr/lib/collectd")
TYPES_DB = "/usr/share/collectd/types.db"
COLLECTD = os.environ.get("COLLECTD", "collectd")
VALGRIND = os.environ.get("HSS_VALGRIND") == "1"
# Timeouts and timing assertions are multiplied by this (valgrind is slow).
TIME_FACTOR = 5 if VALGRIND else 1
# The plugin's own health series, dispatched at every poll, also failed ones.
SELF_SERIES = frozenset({"bool-up", "duration-poll", "derive-poll_errors"})


def module_path():
    """The hss_imgstats.so under test (HSS_MODULE or the build tree)."""
    path = os.environ.get("HSS_MODULE") or os.path.join(REPO, ".libs", "hss_imgstats.so")
    if not os.path.exists(path):
        raise unittest.SkipTest(f"module not built: {path}")
    return path


def wait_for(predicate, timeout=10.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value; returns it or raises.
    The timeout is multiplied by TIME_FACTOR."""
    timeout *= TIME_FACTOR
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class ValgrindError(AssertionError):
    """valgrind found a memory error or a leak of ours (see valgrind_problems)."""


# Frames of our code in a valgrind stack: the module itself, a function of
# ours, or one of our source files (with debug info valgrind names the file).
_OUR_SOURCES = sorted(f for f in os.listdir(os.path.join(REPO, "src")) if f.endswith(".c")) \
    if os.path.isdir(os.path.join(REPO, "src")) else []
_OUR_FRAME = re.compile(r"hss_imgstats\.so|: hss_\w+ \(|\((?:src/)?(?:%s):\d+\)" %
                        "|".join(re.escape(f) for f in _OUR_SOURCES or ["hss_imgstats.c"]))
_MEMORY_ERROR = re.compile(r"Invalid (?:read|write|free)|uninitialised|Mismatched free|"
                           r"Source and destination overlap")


def valgrind_problems(text):
    """The records of a valgrind log that fail a test: every memory error,
    and "definitely lost" records with a frame of ours (leaks only in
    collectd or libraries are ignored). Returns a list of record texts."""
    records, cur = [], []
    for line in text.splitlines():
        body = re.sub(r"^==\d+== ?", "", line)
        if body.strip() == "":
            if cur:
                records.append(cur)
            cur = []
        else:
            cur.append(body)
    if cur:
        records.append(cur)
    bad = []
    for rec in records:
        # The record's own lines, not its stack ("at"/"by") or its
        # "Thread N name:" header, say what it is.
        titles = [l for l in rec if not re.match(r"\s*(at|by) 0x|Use --track-origins", l)]
        if any("definitely lost in loss record" in l for l in titles):
            if any(_OUR_FRAME.search(l) for l in rec):
                bad.append("\n".join(rec))
        elif any(_MEMORY_ERROR.search(l) for l in titles):
            bad.append("\n".join(rec))
    return bad


class Simulator:
    """One simulator process with HTTP, HTTPS and extra TLS listeners."""

    def __init__(self, workdir, users=(), static_tokens=(), extra_tls=(), extra_args=()):
        self.workdir = workdir
        self.certs = os.path.join(workdir, "certs")
        subprocess.run(["bash", MKCERTS, self.certs], check=True,
                       stdout=subprocess.DEVNULL)
        self.ca = os.path.join(self.certs, "ca.pem")
        port_file = os.path.join(workdir, "sim-ports.json")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log_path = os.path.join(workdir, "sim-requests.jsonl")
        cmd = [PYTHON, SIM, "--port-file", port_file, "--log", self.log_path,
               "--cert", os.path.join(self.certs, "server.pem"),
               "--key", os.path.join(self.certs, "server.key")]
        for u in users:
            cmd += ["--iam-user", u]
        for t in static_tokens:
            cmd += ["--static-token", t]
        cmd += list(extra_args)
        for name, cert, key in extra_tls:
            cmd += ["--tls", f"{name}:{os.path.join(self.certs, cert)}:{os.path.join(self.certs, key)}"]
        self.stderr = open(os.path.join(workdir, "sim-stderr.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.stderr, stderr=self.stderr)
        self.ports = wait_for(lambda: self._read_ports(port_file), 15, what="simulator ports")

    @staticmethod
    def _read_ports(path):
        try:
            with open(path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def url(self, listener="https"):
        """Base URL of a listener ("https", "http" or an extra TLS name)."""
        scheme = "http" if listener == "http" else "https"
        return f"{scheme}://127.0.0.1:{self.ports[listener]}"

    def control(self, method, path, body=None):
        """Calls the control API over plain HTTP; returns the JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.ports['http']}/_sim/{path}",
                                     data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read() or b"null")

    def reset(self):
        self.control("POST", "reset", {})

    def set_project(self, project_id, **behaviour):
        self.control("POST", f"project/{project_id}", behaviour)

    def requests(self, route=None, project_id=None):
        reqs = self.control("GET", "requests")
        return [r for r in reqs
                if (route is None or r.get("route") == route)
                and (project_id is None or r.get("project_id") == project_id)]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()


COLLECTD_CONF = """\
Hostname "{hostname}"
FQDNLookup false
Interval {interval}
BaseDir "{basedir}"
PIDFile "{basedir}/collectd.pid"
PluginDir "{plugindir}"
TypesDB "{typesdb}"
WriteQueueLimitHigh 100000
WriteQueueLimitLow 100000
# One write thread: csv appends of one series never race (two threads
# creating the same new file could interleave its first lines).
WriteThreads 1

LoadPlugin logfile
<Plugin logfile>
  LogLevel {loglevel}
  File "{logfile}"
  Timestamp true
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "{csvdir}"
  StoreRates false
</Plugin>
LoadPlugin write_log
<Plugin write_log>
  Format JSON
</Plugin>
{extra}
LoadPlugin hss_imgstats
<Plugin hss_imgstats>
{plugin_block}
</Plugin>
"""


def unlimited_budgets(block):
    """Lifts the default RateLimit (5 calls/min per account and per poller)
    for tests that poll every second; a block that sets RateLimit itself
    (at that level) keeps it."""
    import re
    lines = block.splitlines(keepends=True)
    out = []
    depth = 0
    plugin_level_set = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if depth == 0 and stripped.lower().startswith("ratelimit"):
            plugin_level_set = True
        out.append(line)
        if re.match(r"<Account\b", stripped):
            # Scan this account's own lines for a RateLimit.
            own = False
            d = 0
            for later in lines[i + 1:]:
                t = later.strip()
                if t.startswith("</Account"):
                    break
                if t.startswith("<Project"):
                    d += 1
                elif t.startswith("</Project"):
                    d -= 1
                elif d == 0 and t.lower().startswith("ratelimit"):
                    own = True
            if not own:
                out.append("    RateLimit 100000 1\n")
        if stripped.startswith("<") and not stripped.startswith("</"):
            depth += 1
        elif stripped.startswith("</"):
            depth -= 1
    text = "".join(out)
    return text if plugin_level_set else "  RateLimit 100000 1\n" + text


class Collectd:
    """A collectd instance with the module under test, csv and write_log."""

    def __init__(self, workdir, plugin_block, interval=1, hostname="testhost",
                 loglevel="info", extra="", stock=("csv", "logfile", "write_log"),
                 plugindir=None, unlimited=True):
        self.dir = tempfile.mkdtemp(prefix="collectd-", dir=workdir)
        if plugindir is not None:
            self.plugindir = plugindir  # e.g. the system's, for an installed package
        else:
            self.plugindir = os.path.join(self.dir, "plugins")
            os.makedirs(self.plugindir)
            # collectd refuses symlinked plugins: copy them.
            shutil.copy(module_path(), os.path.join(self.plugindir, "hss_imgstats.so"))
            for name in stock:
                shutil.copy(os.path.join(STOCK_PLUGINS, name + ".so"), self.plugindir)
        self.csvdir = os.path.join(self.dir, "csv")
        self.logfile = os.path.join(self.dir, "collectd.log")
        self.conf = os.path.join(self.dir, "collectd.conf")
        with open(self.conf, "w") as f:
            f.write(COLLECTD_CONF.format(
                hostname=hostname, interval=interval, basedir=self.dir,
                plugindir=self.plugindir, typesdb=TYPES_DB, loglevel=loglevel,
                logfile=self.logfile, csvdir=self.csvdir, extra=extra,
                plugin_block=unlimited_budgets(plugin_block) if unlimited else plugin_block))
        self.proc = None
        self.output = None

    def start(self):
        self.out_path = os.path.join(self.dir, "stdout.log")
        self.out = open(self.out_path, "w")
        cmd = [COLLECTD, "-f", "-C", self.conf]
        self.valgrind_log = None
        if VALGRIND:
            self.valgrind_log = os.path.join(self.dir, "valgrind.log")
            cmd = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite",
                   "--trace-children=no", "--num-callers=30",
                   f"--log-file={self.valgrind_log}"] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT)
        return self

    def test_run(self, timeout=60):
        """collectd -T: returns (exit status, everything it printed + logged)."""
        res = subprocess.run([COLLECTD, "-T", "-C", self.conf], capture_output=True,
                             text=True, timeout=timeout)
        return res.returncode, res.stdout + res.stderr + self.log()

    def stop(self, timeout=15):
        """SIGTERM; returns the seconds collectd took to exit. Under valgrind
        it waits up to 60 s, then raises ValgrindError on what valgrind found
        (once per instance)."""
        if self.proc is None:
            return 0.0
        if VALGRIND:
            timeout = max(timeout, 60)
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"collectd did not stop within {timeout} s")
        took = time.monotonic() - t0
        self.out.close()
        self.check_valgrind()
        return took

    def check_valgrind(self):
        """Raises ValgrindError if valgrind.log holds a problem (see
        valgrind_problems); does nothing without valgrind or the second time."""
        if not self.valgrind_log or getattr(self, "valgrind_checked", False):
            return
        self.valgrind_checked = True
        try:
            with open(self.valgrind_log, errors="replace") as f:
                text = f.read()
        except OSError as e:
            raise ValgrindError(f"no valgrind log: {e}")
        if "ERROR SUMMARY:" not in text:
            raise ValgrindError(f"valgrind did not finish its report ({self.valgrind_log}):\n"
                                + text[-3000:])
        problems = valgrind_problems(text)
        if problems:
            excerpt = "\n\n".join(problems[:5])
            raise ValgrindError(f"valgrind found {len(problems)} problem(s) in "
                                f"{self.valgrind_log}:\n{excerpt[:8000]}")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        """Everything collectd logged (logfile plus stdout/stderr)."""
        text = ""
        for path in (self.logfile, getattr(self, "out_path", None)):
            if path and os.path.exists(path):
                with open(path, errors="replace") as f:
                    text += f.read()
        return text

    def csv_values(self, plugin_instance, type_, type_instance, host="testhost"):
        """[(time, value)] from the csv plugin's files for one series."""
        d = os.path.join(self.csvdir, host, f"hss_imgstats-{plugin_instance}")
        prefix = f"{type_}-{type_instance}-"
        rows = []
        if not os.path.isdir(d):
            return rows
        for name in sorted(os.listdir(d)):
            if not name.startswith(prefix) or not name[len(prefix):][:4].isdigit():
                continue
            with open(os.path.join(d, name)) as f:
                for line in f:
                    if line.startswith("epoch"):
                        continue
                    t, v = line.strip().split(",")
                    rows.append((float(t), float(v)))
        return rows

    def series(self, plugin_instance, host="testhost", self_metrics=False):
        """Set of 'type-type_instance' the csv plugin wrote for a project;
        without self_metrics, the plugin's own SELF_SERIES are left out (so
        this is the set of statistics series)."""
        d = os.path.join(self.csvdir, host, f"hss_imgstats-{plugin_instance}")
        if not os.path.isdir(d):
            return set()
        names = {name.rsplit("-", 3)[0] for name in os.listdir(d)}
        return names if self_metrics else names - SELF_SERIES

    def notifications(self):
        """Notifications as the logfile plugin printed them, in order:
        [{"severity", "host", "plugin", "plugin_instance", "type",
        "type_instance", "message"}], hss_imgstats only."""
        out = []
        keys = ("host", "plugin", "plugin_instance", "type", "type_instance", "message")
        for line in self.log().splitlines():
            i = line.find("Notification: severity = ")
            if i < 0:
                continue
            rest = line[i + len("Notification: severity = "):]
            n = {"severity": rest.split(",", 1)[0]}
            # "message" is last and may hold ", " itself: split on the known keys.
            for k, nxt in zip(keys, keys[1:] + (None,)):
                start = rest.find(f", {k} = ")
                if start < 0:
                    continue
                start += len(f", {k} = ")
                end = rest.find(f", {nxt} = ", start) if nxt else -1
                n[k] = rest[start:end] if end >= 0 else rest[start:]
            if n.get("plugin") == "hss_imgstats":
                out.append(n)
        return out

    def warmup_poll(self, project, timeout_ms, host="testhost"):
        """Under valgrind only: the timestamp of the project's first poll if
        it timed out, else None. Under valgrind the process's first TLS
        poll takes 1.1-1.9 s (plain http: 0.25 s; later TLS connections:
        under 0.1 s), more than a short Timeout, so tests may leave that
        poll out."""
        if not VALGRIND:
            return None
        ups = self.csv_values(project, "bool", "up", host=host)
        durations = self.csv_values(project, "duration", "poll", host=host)
        errors = [l for l in self.log().splitlines()
                  if "[error] hss_imgstats plugin:" in l and f'project "{project}" (account' in l]
        if (ups and ups[0][1] == 0.0 and durations and
                durations[0][1] >= timeout_ms / 1000 - 0.1 and errors and "timed out" in errors[0]):
            return ups[0][0]
        return None

    def written_values(self, self_metrics=False):
        """Value lists as logged by write_log (JSON), hss_imgstats only;
        without self_metrics, the plugin's own SELF_SERIES are left out."""
        out = []
        for line in self.log().splitlines():
            i = line.find('[{"values"')
            if i < 0:
                continue
            try:
                for vl in json.loads(line[i:]):
                    if vl.get("plugin") != "hss_imgstats":
                        continue
                    if not self_metrics and \
                            f'{vl.get("type")}-{vl.get("type_instance")}' in SELF_SERIES:
                        continue
                    out.append(vl)
            except ValueError:
                continue
        return out


class IntegrationCase(unittest.TestCase):
    """Base class: one simulator per test class, fresh state per test."""

    sim_users = ("acct:monitor:s3cret-Passw0rd",)
    sim_static_tokens = ("static-token-AAAA1111",)
    sim_extra_tls = ()
    sim_args = ()

    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="hss-it-")
        cls.sim = Simulator(cls.workdir, users=cls.sim_users,
                            static_tokens=cls.sim_static_tokens,
                            extra_tls=cls.sim_extra_tls, extra_args=cls.sim_args)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        if os.environ.get("KEEP_TEST_DIRS") != "1":
            shutil.rmtree(cls.workdir, ignore_errors=True)

    def setUp(self):
        self.sim.reset()
        self.instances = []

    def tearDown(self):
        found = None
        for c in self.instances:
            try:
                c.stop()
            except ValgrindError as e:
                found = found or e
            except AssertionError:
                pass
        if found is not None:
            raise found  # a memory problem fails the test even if it passed

    def collectd(self, plugin_block, **kw):
        c = Collectd(self.workdir, plugin_block, **kw)
        self.instances.append(c)
        return c

    def token_account(self, name, projects, token="static-token-AAAA1111", extra=""):
        """An <Account> with a static token over HTTPS with CACert."""
        return f"""  <Account "{name}">
    Endpoint "{self.sim.url()}"
    CACert "{self.sim.ca}"
    Token "{token}"
{extra}{projects}  </Account>
"""

    def password_account(self, name, projects, password="s3cret-Passw0rd", extra=""):
        """An <Account> with IAM password auth over HTTPS with CACert."""
        return f"""  <Account "{name}">
    Endpoint "{self.sim.url()}"
    IAMEndpoint "{self.sim.url()}"
    CACert "{self.sim.ca}"
    Domain "acct"
    User "monitor"
    Password "{password}"
{extra}{projects}  </Account>
"""

    @staticmethod
    def project(name, project_id, extra=""):
        return f"""    <Project "{name}">
      ProjectId "{project_id}"
{extra}    </Project>
"""

    def assertNoSecrets(self, text, secrets):
        for s in secrets:
            self.assertNotIn(s, text, "a secret appeared in collectd's output")
