"""Self-test of tests/sim/hss_sim.py.

Run from the repository root:  /usr/bin/python3 -m unittest tests/sim/test_sim.py -v

Starts the simulator as a subprocess (HTTP, HTTPS and the three TLS-fault listeners) with
certificates made by mkcerts.sh, and drives every feature over 127.0.0.1 with http.client/ssl.
"""

import collections
import datetime
import email.utils
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SIM = os.path.join(HERE, "hss_sim.py")
MKCERTS = os.path.join(HERE, "mkcerts.sh")

PROJECT = "0123456789abcdef0123456789abcdef"
OTHER_PROJECT = "fedcba9876543210fedcba9876543210"
STATS_PATH = f"/v5/{PROJECT}/image/pay-per-scan/statistics"
STATIC_ANY = "static-any-token"
STATIC_SCOPED = "static-scoped-token"
USER = ("acct", "monitor", "s3cr:et")  # password with a colon: CLI must split only twice

FULL = {"repository_scan_num": 5, "cicd_scan_num": 10, "free_quota_num": 2,
        "already_given": True, "image_free_quota": 10,
        "high_risk": {"local": 1, "registriy": 2, "cicd": 3},
        "has_risk": {"local": 4, "registriy": 5, "cicd": 6},
        "total": {"local": 7, "registriy": 8, "cicd": 9},
        "unscan": {"local": 11, "registriy": 12, "cicd": 13}}
MSG_0301 = ("Incorrect IAM authentication information: verify aksk signature fail / "
            "token invalid")
MSG_AKSK = "Incorrect IAM authentication information: verify aksk signature fail"
MSG_0303 = "Incorrect app authentication information: the request has expired"
AK = "SIMTESTAK0000000001X"
SK = "sim:test/secret+key=="           # colon: --aksk splits only once
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def load_sim_module():
    """hss_sim.py imported as a module (for its pure functions and in-process benchmarks)."""
    spec = importlib.util.spec_from_file_location("hss_sim_under_test", SIM)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


# -- A client-side SDK-HMAC-SHA256 signer, written independently of the simulator's verifier:
# it works from the *unencoded* path and query like an SDK does, with its own encoder.

UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")

Signed = collections.namedtuple("Signed", "target headers canonical_request signature")


def pct(text):
    """Percent-encode every byte outside A-Za-z0-9-_.~ as %XX (upper-case)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return "".join(chr(b) if b in UNRESERVED else "%%%02X" % b for b in data)


def sdk_date(epoch=None):
    """X-Sdk-Date for ``epoch`` (default now)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if epoch is None else epoch))


def sdk_sign(access, secret, method, path, query=(), headers=None, body=b"", signed=None):
    """Sign a request. ``path`` is unencoded ('/'-separated), ``query`` a list of unencoded
    (key, value) pairs in *wire* order, ``headers`` name -> value (any case), ``signed`` the
    header names to sign (default: all of ``headers``). Returns the request target as it goes
    on the wire, the headers plus Authorization, the canonical request and the signature."""
    headers = dict(headers or {})
    by_name = {name.lower(): value for name, value in headers.items()}
    names = sorted({n.lower() for n in (headers if signed is None else signed)})
    wire_path = "/".join(pct(segment) for segment in path.split("/"))
    canon_uri = wire_path if wire_path.endswith("/") else wire_path + "/"
    ordered = sorted(query, key=lambda kv: (kv[0].encode("utf-8"), kv[1].encode("utf-8")))
    canon_query = "&".join(pct(k) + "=" + pct(v) for k, v in ordered)
    canon_headers = "".join(f"{n}:{by_name[n].strip()}\n" for n in names)
    canon = "\n".join([method, canon_uri, canon_query, canon_headers, ";".join(names),
                       hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["SDK-HMAC-SHA256", by_name["x-sdk-date"],
                         hashlib.sha256(canon.encode("utf-8")).hexdigest()])
    signature = hmac.new(secret.encode("utf-8"), to_sign.encode("utf-8"),
                         hashlib.sha256).hexdigest()
    headers["Authorization"] = (f"SDK-HMAC-SHA256 Access={access}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
    target = wire_path
    if query:
        target += "?" + "&".join(pct(k) + "=" + pct(v) for k, v in query)
    return Signed(target, headers, canon, signature)


def stats_path(project=PROJECT):
    """The HSS statistics path for ``project``."""
    return f"/v5/{project}/image/pay-per-scan/statistics"


def iam_body(domain=USER[0], user=USER[1], password=USER[2], project=PROJECT):
    """A well-formed IAM password-token request body."""
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "password": password, "domain": {"name": domain}}}},
        "scope": {"project": {"id": project}}}}


class Sim:
    """A simulator subprocess and its ports."""

    def __init__(self, workdir, *extra):
        self.port_file = os.path.join(workdir, f"ports-{time.monotonic_ns()}.json")
        self.proc = subprocess.Popen([sys.executable, SIM, "--port-file", self.port_file,
                                      *extra], stdin=subprocess.DEVNULL)
        self.ports = self._wait_ports()

    def _wait_ports(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"simulator exited with {self.proc.returncode}")
            try:
                with open(self.port_file, encoding="utf-8") as f:
                    return json.load(f)
            except FileNotFoundError:
                time.sleep(0.02)
        raise RuntimeError("simulator did not write its port file")

    def stop(self):
        """SIGTERM and reap."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


WORK = None
CERTS = None
SIMULATOR = None


def setUpModule():
    global WORK, CERTS, SIMULATOR
    WORK = tempfile.mkdtemp(prefix="hss-sim-test-")
    CERTS = os.path.join(WORK, "certs")
    subprocess.run(["bash", MKCERTS, CERTS], check=True)
    c = lambda name: os.path.join(CERTS, name)  # noqa: E731
    SIMULATOR = Sim(
        WORK, "--cert", c("server.pem"), "--key", c("server.key"),
        "--tls", f"untrusted:{c('untrusted.pem')}:{c('untrusted.key')}",
        "--tls", f"wronghost:{c('wronghost.pem')}:{c('wronghost.key')}",
        "--tls", f"expired:{c('expired.pem')}:{c('expired.key')}",
        "--log", os.path.join(WORK, "requests.jsonl"),
        "--iam-user", ":".join(USER),
        "--static-token", STATIC_ANY,
        "--static-token", f"{STATIC_SCOPED}:{PROJECT}",
        "--aksk", f"{AK}:{SK}")


def tearDownModule():
    if SIMULATOR is not None:
        SIMULATOR.stop()
    shutil.rmtree(WORK, ignore_errors=True)


class Reply:
    """A fully read HTTP response."""

    def __init__(self, resp, body):
        self.status = resp.status
        self.headers = resp.headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class SimTestCase(unittest.TestCase):
    """Helpers shared by the tests; resets the simulator before each test."""

    sim = property(lambda self: SIMULATOR)

    def setUp(self):
        self.ctl("POST", "/_sim/reset")

    def conn(self, listener="http", timeout=5.0, cafile=None, host="127.0.0.1"):
        """A connection to ``listener``; TLS listeners are verified against ``cafile``."""
        port = self.sim.ports[listener]
        if listener == "http":
            return http.client.HTTPConnection(host, port, timeout=timeout)
        ctx = ssl.create_default_context(cafile=cafile or os.path.join(CERTS, "ca.pem"))
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx)

    def request(self, method, path, body=None, headers=None, listener="http", conn=None,
                **kw):
        """Send one request and read the whole answer."""
        c = conn or self.conn(listener, **kw)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        try:
            c.request(method, path, body=body, headers=headers or {})
            resp = c.getresponse()
            return Reply(resp, resp.read())
        finally:
            if conn is None:
                c.close()

    def ctl(self, method, path, body=None, expect=200):
        """A control request; returns its JSON answer."""
        r = self.request(method, path, body if body is not None else b"")
        self.assertEqual(r.status, expect, r.body)
        return r.json()

    def get_stats(self, token=STATIC_ANY, project=PROJECT, **kw):
        """GET the statistics for ``project`` with ``token`` (None: no header)."""
        headers = {"X-Auth-Token": token} if token else {}
        return self.request("GET", stats_path(project), headers=headers, **kw)

    def get_token(self, project=PROJECT, **kw):
        """Obtain an IAM token; returns (token, reply)."""
        r = self.request("POST", "/v3/auth/tokens", iam_body(project=project, **kw),
                         {"Content-Type": "application/json;charset=utf8"})
        self.assertEqual(r.status, 201, r.body)
        return r.headers["X-Subject-Token"], r

    def signed_get(self, access=AK, secret=SK, project=PROJECT, query=(), headers=None,
                   signed=None, date=None, token=None, drop=(), target=None, body=b"",
                   send_body=None, listener="http", conn=None):
        """GET the statistics signed with SDK-HMAC-SHA256 (Host, Content-Type, X-Sdk-Date and
        X-Security-Token if ``token``, plus ``headers``). ``drop`` removes headers after
        signing, ``target`` replaces the request target on the wire, ``send_body`` the body."""
        port = (conn.port if conn is not None else self.sim.ports[listener])
        h = {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json",
             "X-Sdk-Date": date or sdk_date()}
        if token is not None:
            h["X-Security-Token"] = token
        h.update(headers or {})
        sig = sdk_sign(access, secret, "GET", stats_path(project), query, h, body, signed)
        h = dict(sig.headers)
        for name in drop:
            del h[name]
        return self.request("GET", target or sig.target, body=send_body or body or None,
                            headers=h, listener=listener, conn=conn)

    def last_log(self):
        """The most recent request record."""
        return self.ctl("GET", "/_sim/requests")[-1]

    def configure(self, project=PROJECT, **config):
        """POST /_sim/project/{project}."""
        return self.ctl("POST", f"/_sim/project/{project}", config)

    def assert_common_headers(self, r):
        """X-Request-Id (uuid4 hex) and the JSON content type."""
        self.assertRegex(r.headers["X-Request-Id"], r"^[0-9a-f]{32}$")
        self.assertEqual(r.headers["Content-Type"], "application/json;charset=UTF-8")

    def assert_apigw(self, r, status, code, msg=None):
        """An APIGW error with request_id matching the header."""
        self.assertEqual(r.status, status, r.body)
        self.assert_common_headers(r)
        doc = r.json()
        self.assertEqual(doc["error_code"], code)
        self.assertEqual(doc["request_id"], r.headers["X-Request-Id"])
        if msg is not None:
            self.assertEqual(doc["error_msg"], msg)


class TestStartup(SimTestCase):
    def test_port_file(self):
        ports = self.sim.ports
        self.assertEqual(set(ports),
                         {"http", "https", "untrusted", "wronghost", "expired", "pid"})
        self.assertEqual(ports["pid"], self.sim.proc.pid)
        self.assertEqual(len({ports[k] for k in ports if k != "pid"}), 5)

    def test_http_only_and_sigterm_with_hung_connection(self):
        sim = Sim(WORK, "--static-token", "t")
        try:
            self.assertEqual(set(sim.ports), {"http", "pid"})
            c = http.client.HTTPConnection("127.0.0.1", sim.ports["http"], timeout=5)
            c.request("POST", f"/_sim/project/{PROJECT}", body='{"fault":"hang"}')
            self.assertEqual(c.getresponse().read(), b'{"ok":true,"project_id":"%s"}'
                             % PROJECT.encode())
            hung = socket.create_connection(("127.0.0.1", sim.ports["http"]))
            hung.sendall(f"GET {STATS_PATH} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\n\r\n"
                         .encode())
            idle = socket.create_connection(("127.0.0.1", sim.ports["http"]))
            time.sleep(0.2)
            t0 = time.monotonic()
            sim.proc.send_signal(signal.SIGTERM)
            self.assertEqual(sim.proc.wait(3), 0)
            self.assertLess(time.monotonic() - t0, 1.0)
            self.assertFalse(os.path.exists(sim.port_file))
            hung.close()
            idle.close()
            c.close()
        finally:
            sim.stop()

    def test_sigint_and_cli_token_ttl(self):
        sim = Sim(WORK, "--token-ttl", "0.3", "--iam-user", "d:u:p")
        try:
            c = http.client.HTTPConnection("127.0.0.1", sim.ports["http"], timeout=5)
            c.request("POST", "/v3/auth/tokens", body=json.dumps(iam_body("d", "u", "p")))
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 201)
            token = r.headers["X-Subject-Token"]
            c.request("GET", STATS_PATH, headers={"X-Auth-Token": token})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            time.sleep(0.35)
            c.request("GET", STATS_PATH, headers={"X-Auth-Token": token})
            r = c.getresponse()
            self.assertEqual((r.status, json.loads(r.read())["error_code"]), (401, "APIGW.0307"))
            c.close()
            t0 = time.monotonic()
            sim.proc.send_signal(signal.SIGINT)
            self.assertEqual(sim.proc.wait(3), 0)
            self.assertLess(time.monotonic() - t0, 1.0)
        finally:
            sim.stop()


class TestHss(SimTestCase):
    def test_default_full_response(self):
        r = self.get_stats()
        self.assertEqual(r.status, 200)
        self.assert_common_headers(r)
        self.assertEqual(r.json(), FULL)
        self.assertEqual(int(r.headers["Content-Length"]), len(r.body))

    def test_enterprise_project_id(self):
        for eps in ("0", "all_granted_eps", "e" * 256):
            r = self.request("GET", f"{STATS_PATH}?enterprise_project_id={eps}",
                             headers={"X-Auth-Token": STATIC_ANY})
            self.assertEqual(r.status, 200)
        self.assertEqual(self.ctl("GET", "/_sim/requests")[0]["query"],
                         {"enterprise_project_id": ["0"]})
        for bad in ("", "e" * 257):
            r = self.request("GET", f"{STATS_PATH}?enterprise_project_id={bad}",
                             headers={"X-Auth-Token": STATIC_ANY})
            self.assert_apigw(r, 400, "HSS.0001")

    def test_unknown_path_and_method(self):
        for method, path in (("GET", "/v5/x/image/nope"), ("GET", "/"),
                             ("POST", STATS_PATH), ("GET", STATS_PATH + "/")):
            r = self.request(method, path, headers={"X-Auth-Token": STATIC_ANY})
            self.assert_apigw(r, 404, "APIGW.0101",
                              "The API does not exist or has not been published in the "
                              "environment")

    def test_https_verified(self):
        r = self.get_stats(listener="https")
        self.assertEqual((r.status, r.json()), (200, FULL))
        r = self.get_stats(listener="https", host="localhost")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.ctl("GET", "/_sim/requests")[0]["listener"], "https")

    def test_tls_fault_listeners(self):
        for name, reason in (("untrusted", "unable to get local issuer"),
                             ("wronghost", "IP address mismatch"),
                             ("expired", "certificate has expired")):
            with self.subTest(name):
                with self.assertRaises(ssl.SSLCertVerificationError) as cm:
                    self.get_stats(listener=name)
                self.assertIn(reason, str(cm.exception))
        # Each serves the normal routes once verification is relaxed the intended way.
        r = self.get_stats(listener="untrusted", cafile=os.path.join(CERTS, "other-ca.pem"))
        self.assertEqual(r.status, 200)
        no_name = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))
        no_name.check_hostname = False      # wronghost: chain fine, name wrong
        no_verify = ssl._create_unverified_context()  # expired: Python cannot skip dates only
        for name, ctx in (("wronghost", no_name), ("expired", no_verify)):
            c = http.client.HTTPSConnection("127.0.0.1", self.sim.ports[name], timeout=5,
                                            context=ctx)
            r = self.get_stats(conn=c)
            c.close()
            self.assertEqual(r.status, 200)
        listeners = [e["listener"] for e in self.ctl("GET", "/_sim/requests")]
        self.assertEqual(listeners, ["untrusted", "wronghost", "expired"])


class TestAuth(SimTestCase):
    def test_missing_and_unknown_token(self):
        self.assert_apigw(self.get_stats(token=None), 401, "APIGW.0301", MSG_0301)
        self.assert_apigw(self.get_stats(token="nope"), 401, "APIGW.0301", MSG_0301)

    def test_static_token_scopes(self):
        self.assertEqual(self.get_stats(STATIC_ANY, OTHER_PROJECT).status, 200)
        self.assertEqual(self.get_stats(STATIC_SCOPED, PROJECT).status, 200)
        self.assert_apigw(self.get_stats(STATIC_SCOPED, OTHER_PROJECT), 401, "APIGW.0301")

    def test_static_tokens_control(self):
        self.assert_apigw(self.get_stats("added"), 401, "APIGW.0301")
        self.ctl("POST", "/_sim/static-tokens", {"token": "added"})
        self.ctl("POST", "/_sim/static-tokens", {"token": "added-scoped",
                                                 "project_id": OTHER_PROJECT})
        self.assertEqual(self.get_stats("added").status, 200)
        self.assertEqual(self.get_stats("added-scoped", OTHER_PROJECT).status, 200)
        self.assertEqual(self.get_stats("added-scoped", PROJECT).status, 401)
        try:
            self.assertEqual(self.ctl("DELETE", "/_sim/static-tokens")["removed"], 4)
            for token in ("added", STATIC_ANY, STATIC_SCOPED):
                self.assertEqual(self.get_stats(token).status, 401)
        finally:
            self.ctl("POST", "/_sim/static-tokens", {"token": STATIC_ANY})
            self.ctl("POST", "/_sim/static-tokens", {"token": STATIC_SCOPED,
                                                     "project_id": PROJECT})

    def test_iam_token_is_project_scoped(self):
        token, _ = self.get_token()
        self.assertEqual(self.get_stats(token).status, 200)
        self.assert_apigw(self.get_stats(token, OTHER_PROJECT), 401, "APIGW.0301")

    def test_expire_tokens(self):
        old, _ = self.get_token()
        self.assertEqual(self.ctl("POST", "/_sim/tokens/expire")["expired"] >= 1, True)
        self.assert_apigw(self.get_stats(old), 401, "APIGW.0307", "The token must be updated.")
        new, _ = self.get_token()
        self.assertEqual(self.get_stats(new).status, 200)
        self.assertIn({"token": old, "revoked": True},
                      [{"token": t["token"], "revoked": t["revoked"]}
                       for t in self.ctl("GET", "/_sim/tokens")])

    def test_token_ttl_control(self):
        self.ctl("POST", "/_sim/token-ttl", {"seconds": 0.25})
        token, r = self.get_token()
        self.assertEqual(self.get_stats(token).status, 200)
        time.sleep(0.3)
        self.assert_apigw(self.get_stats(token), 401, "APIGW.0307")
        self.ctl("POST", "/_sim/reset")  # restores the command-line TTL (24 h)
        token, r = self.get_token()
        expires = datetime.datetime.strptime(r.json()["token"]["expires_at"],
                                             "%Y-%m-%dT%H:%M:%S.%fZ")
        expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(expires - time.time(), 86400, delta=5)


class TestIam(SimTestCase):
    def test_success(self):
        t0 = time.time()
        token, r = self.get_token()
        self.assert_common_headers(r)
        self.assertRegex(token, r"^[0-9a-f]{64,}$")
        doc = r.json()["token"]
        self.assertEqual(doc["methods"], ["password"])
        self.assertEqual(doc["project"]["id"], PROJECT)
        self.assertEqual(doc["project"]["name"], "sim")
        self.assertEqual(doc["user"], {"name": USER[1], "domain": {"name": USER[0]}})
        for key in ("expires_at", "issued_at"):
            self.assertRegex(doc[key], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        expires = datetime.datetime.strptime(doc["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(expires, t0 + 86400, delta=5)
        token2, _ = self.get_token()
        self.assertNotEqual(token, token2)
        self.assertEqual(self.get_stats(token).status, 200)  # a new token keeps old ones valid
        log = self.ctl("GET", "/_sim/requests")[0]
        self.assertEqual((log["route"], log["project_id"], log["status"]),
                         ("iam", PROJECT, 201))
        self.assertEqual(json.loads(log["body"]), iam_body())

    def test_wrong_credentials(self):
        for kw in ({"password": "bad"}, {"domain": "other"}, {"user": "nobody"}):
            r = self.request("POST", "/v3/auth/tokens", iam_body(**kw))
            self.assertEqual(r.status, 401)
            self.assert_common_headers(r)
            self.assertEqual(r.json(), {"error": {"code": 401, "title": "Unauthorized",
                                                  "message": "The username or password is "
                                                             "wrong."}})
            self.assertNotIn("X-Subject-Token", r.headers)

    def test_malformed(self):
        no_scope = iam_body()
        del no_scope["auth"]["scope"]
        wrong_method = iam_body()
        wrong_method["auth"]["identity"]["methods"] = ["token"]
        for body in ("not json", "[]", json.dumps({"auth": {}}), json.dumps(no_scope),
                     json.dumps(wrong_method), ""):
            with self.subTest(body=body[:30]):
                r = self.request("POST", "/v3/auth/tokens", body)
                self.assertEqual(r.status, 400)
                err = r.json()["error"]
                self.assertEqual(err["code"], 400)
                self.assertIsInstance(err["message"], str)
        self.assertEqual(self.request("GET", "/v3/auth/tokens").status, 405)

    def test_chunked_request_body(self):
        c = self.conn()
        c.request("POST", "/v3/auth/tokens", body=iter([json.dumps(iam_body()).encode()]),
                  encode_chunked=True)
        r = c.getresponse()
        r.read()
        c.close()
        self.assertEqual(r.status, 201)

    def test_user_control(self):
        body = iam_body("d2", "u2", "p2")
        self.assertEqual(self.request("POST", "/v3/auth/tokens", body).status, 401)
        self.ctl("POST", "/_sim/iam/users", {"domain": "d2", "user": "u2", "password": "p2"})
        self.assertEqual(self.request("POST", "/v3/auth/tokens", body).status, 201)
        self.ctl("POST", "/_sim/iam/users", {"domain": "d2"}, expect=400)

    def test_override_times_then_normal(self):
        self.ctl("POST", "/_sim/iam", {"status": 500, "times": 1})
        r = self.request("POST", "/v3/auth/tokens", iam_body())
        self.assertEqual(r.status, 500)
        self.assertEqual(r.json()["error"]["code"], 500)
        self.get_token()

    def test_override_permanent_body_and_reset(self):
        self.ctl("POST", "/_sim/iam", {"status": 503, "body": {"error": "down"}})
        for _ in range(2):
            r = self.request("POST", "/v3/auth/tokens", iam_body())
            self.assertEqual((r.status, r.json()), (503, {"error": "down"}))
        self.ctl("DELETE", "/_sim/iam")
        self.get_token()

    def test_override_delay_only(self):
        self.ctl("POST", "/_sim/iam", {"delay_ms": 300})
        t0 = time.monotonic()
        self.get_token()
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)

    def test_override_fault(self):
        self.ctl("POST", "/_sim/iam", {"fault": "close", "times": 1})
        with self.assertRaises(http.client.RemoteDisconnected):
            self.request("POST", "/v3/auth/tokens", iam_body())
        self.get_token()


class TestProjectConfig(SimTestCase):
    def test_status_body_headers(self):
        self.configure(status=429, body={"error_code": "APIGW.0308", "error_msg": "slow"},
                       headers={"Retry-After": "3"})
        r = self.get_stats()
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["Retry-After"], "3")
        self.assertEqual(r.json(), {"error_code": "APIGW.0308", "error_msg": "slow"})
        self.assert_common_headers(r)
        self.assertEqual(self.get_stats(project=OTHER_PROJECT).json(), FULL)  # per project

    def test_status_only_gets_default_error_body(self):
        for status, code in ((500, "SIM.500"), (429, "APIGW.0308"), (400, "HSS.0001"),
                             (403, "SIM.403")):
            self.configure(status=status)
            self.assert_apigw(self.get_stats(), status, code)

    def test_body_values_and_raw(self):
        self.configure(body={"repository_scan_num": 1})
        self.assertEqual(self.get_stats().json(), {"repository_scan_num": 1})
        self.configure(body=None)
        self.assertEqual(self.get_stats().body, b"null")
        self.configure(raw='{"repository_scan_num": 7, broken', status=200)
        r = self.get_stats()
        self.assertEqual(r.body, b'{"repository_scan_num": 7, broken')
        self.assertEqual(int(r.headers["Content-Length"]), len(r.body))

    def test_times_queue_then_default(self):
        self.configure(status=500, times=1)
        self.configure(status=503, times=2)
        self.assertEqual([self.get_stats().status for _ in range(4)], [500, 503, 503, 200])

    def test_times_returns_to_previous_config(self):
        self.configure(body={"cicd_scan_num": 1})
        self.configure(status=500, times=1)
        self.assertEqual(self.get_stats().status, 500)
        self.assertEqual(self.get_stats().json(), {"cicd_scan_num": 1})

    def test_auth_failure_does_not_consume_times(self):
        self.configure(status=500, times=1)
        self.assertEqual(self.get_stats(token=None).status, 401)
        self.assertEqual(self.get_stats().status, 500)

    def test_delete_resets(self):
        self.configure(status=500)
        self.ctl("DELETE", f"/_sim/project/{PROJECT}")
        self.assertEqual(self.get_stats().json(), FULL)

    def test_delay(self):
        self.configure(delay_ms=300)
        t0 = time.monotonic()
        self.assertEqual(self.get_stats().status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.29)
        self.assertGreaterEqual(self.ctl("GET", "/_sim/requests")[0]["duration_ms"], 290)

    def test_invalid_config_rejected(self):
        for bad in ({"fault": "explode"}, {"statsu": 200}, {"status": "200"},
                    {"status": 99}, {"times": 0}, {"delay_ms": -1}, {"headers": []}, [1]):
            with self.subTest(bad=bad):
                self.ctl("POST", f"/_sim/project/{PROJECT}", bad, expect=400)
        self.ctl("POST", f"/_sim/project/{PROJECT}", "{", expect=400)
        self.ctl("GET", "/_sim/nothing", expect=404)


class TestFaults(SimTestCase):
    def test_hang(self):
        self.configure(fault="hang", times=1)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            self.get_stats(timeout=0.4)
        self.assertLess(time.monotonic() - t0, 2)
        log = self.ctl("GET", "/_sim/requests")
        self.assertEqual((log[0]["status"], log[0]["fault"]), (0, "hang"))
        self.assertEqual(self.get_stats().status, 200)

    def test_reset(self):
        self.configure(fault="reset")
        c = self.conn()
        c.request("GET", STATS_PATH, headers={"X-Auth-Token": STATIC_ANY})
        resp = c.getresponse()
        self.assertEqual(resp.status, 200)
        with self.assertRaises((ConnectionResetError, http.client.IncompleteRead)):
            resp.read()
        c.close()
        self.assertEqual(self.ctl("GET", "/_sim/stats")["status"], {"200": 1})

    def test_reset_over_tls(self):
        self.configure(fault="reset")
        with self.assertRaises((ConnectionResetError, http.client.IncompleteRead, ssl.SSLError)):
            self.get_stats(listener="https")

    def test_truncate(self):
        self.configure(fault="truncate")
        c = self.conn()
        c.request("GET", STATS_PATH, headers={"X-Auth-Token": STATIC_ANY})
        resp = c.getresponse()
        self.assertGreater(int(resp.headers["Content-Length"]), len(json.dumps(FULL)) // 2)
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertEqual(json.loads(cm.exception.partial), FULL)
        c.close()

    def test_trickle(self):
        self.configure(fault="trickle", trickle_ms=20, raw='{"a":1}')
        t0 = time.monotonic()
        r = self.get_stats()
        self.assertEqual((r.status, r.body), (200, b'{"a":1}'))
        self.assertGreaterEqual(time.monotonic() - t0, 7 * 0.02 * 0.9)

    def test_redirect_default_and_custom(self):
        self.configure(fault="redirect", times=1)
        r = self.get_stats(listener="https")
        self.assertEqual(r.status, 302)
        self.assertEqual(r.headers["Location"],
                         f"http://127.0.0.1:{self.sim.ports['http']}{STATS_PATH}")
        self.configure(fault="redirect", status=301, location="http://127.0.0.1:9/x")
        r = self.get_stats()
        self.assertEqual((r.status, r.headers["Location"]), (301, "http://127.0.0.1:9/x"))

    def test_big(self):
        self.configure(fault="big", times=1)
        r = self.get_stats()
        self.assertEqual((r.status, len(r.body)), (200, 2 * 1024 * 1024))
        doc = r.json()
        self.assertEqual({k: v for k, v in doc.items() if k != "padding"}, FULL)
        self.configure(fault="big", big_bytes=100000, body={"cicd_scan_num": 3})
        r = self.get_stats()
        self.assertEqual(len(r.body), 100000)
        self.assertEqual(r.json()["cicd_scan_num"], 3)

    def test_close(self):
        self.configure(fault="close", times=1)
        with self.assertRaises(http.client.RemoteDisconnected):
            self.get_stats()
        self.assertEqual(self.get_stats().status, 200)


class TestLogAndStats(SimTestCase):
    def test_log_records(self):
        token, _ = self.get_token()
        self.get_stats(token, listener="https")
        self.request("GET", STATS_PATH + "?enterprise_project_id=all_granted_eps&x=1&x=2",
                     headers={"X-Auth-Token": STATIC_ANY, "X-Custom": "Yes"})
        self.request("GET", "/nowhere")
        self.ctl("GET", "/_sim/stats")  # control requests are not logged
        log = self.ctl("GET", "/_sim/requests")
        self.assertEqual([e["route"] for e in log], ["iam", "hss", "hss", "other"])
        self.assertEqual([e["status"] for e in log], [201, 200, 200, 404])
        keys = {"ts", "listener", "method", "path", "query", "headers", "body", "status",
                "project_id", "route", "duration_ms", "client_port", "request_id", "fault",
                "auth", "access_key", "auth_error", "canonical_request", "throttled",
                "protocol", "tls_resumed"}
        for e in log:
            self.assertLessEqual(keys, set(e))
            self.assertTrue(all(k == k.lower() for k in e["headers"]))
            self.assertIsInstance(e["client_port"], int)
            self.assertIsInstance(e["duration_ms"], float)
            self.assertAlmostEqual(e["ts"], time.time(), delta=30)
        self.assertEqual(log[0]["method"], "POST")
        self.assertEqual(log[1]["headers"]["x-auth-token"], token)
        self.assertEqual((log[1]["listener"], log[1]["project_id"], log[1]["body"]),
                         ("https", PROJECT, None))
        self.assertEqual(log[2]["query"], {"enterprise_project_id": ["all_granted_eps"],
                                           "x": ["1", "2"]})
        self.assertEqual(log[2]["headers"]["x-custom"], "Yes")
        self.assertEqual(log[2]["path"], STATS_PATH)
        self.assertIsNone(log[3]["project_id"])
        self.assertEqual([e["auth"] for e in log], ["none", "token", "token", "none"])
        self.assertEqual({e["throttled"] for e in log}, {False})
        # The file holds the same records (it also has earlier tests' lines: it is append-only).
        with open(os.path.join(WORK, "requests.jsonl"), encoding="utf-8") as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual(lines[-4:], log)

    def test_stats_and_reset(self):
        self.get_stats()
        self.get_stats()
        self.get_stats(project=OTHER_PROJECT)
        self.get_stats(token=None)
        self.get_token()
        self.request("GET", "/x")
        self.request("GET", "/openstack/latest/securitykey")
        self.assertEqual(self.ctl("GET", "/_sim/stats"),
                         {"hss": {PROJECT: 3, OTHER_PROJECT: 1}, "iam": 1, "metadata": 1,
                          "other": 1, "throttled": 0,
                          "status": {"200": 4, "401": 1, "201": 1, "404": 1}})
        self.configure(status=500)
        self.ctl("POST", "/_sim/iam", {"status": 500})
        self.ctl("POST", "/_sim/iam/users", {"domain": "r", "user": "r", "password": "r"})
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.ctl("GET", "/_sim/stats"),
                         {"hss": {}, "iam": 0, "metadata": 0, "other": 0, "throttled": 0,
                          "status": {}})
        self.assertEqual(self.ctl("GET", "/_sim/requests"), [])
        self.assertEqual(self.get_stats().status, 200)       # project config cleared
        self.get_token(domain="r", user="r", password="r")   # users kept, IAM override cleared

    def test_keepalive_500_requests(self):
        c = self.conn()
        t0 = time.monotonic()
        statuses = [self.get_stats(conn=c).status for _ in range(500)]
        elapsed = time.monotonic() - t0
        c.close()
        self.assertEqual(statuses, [200] * 500)
        ports = {e["client_port"] for e in self.ctl("GET", "/_sim/requests")}
        self.assertEqual(len(ports), 1, "all 500 requests must share one connection")
        sys.stderr.write(f"[{500 / elapsed:.0f} req/s] ")

    def test_keepalive_over_tls_and_connection_close(self):
        c = self.conn("https")
        for _ in range(20):
            self.assertEqual(self.get_stats(conn=c).status, 200)
        c.close()
        self.assertEqual(len({e["client_port"] for e in self.ctl("GET", "/_sim/requests")}), 1)
        r = self.request("GET", STATS_PATH, headers={"X-Auth-Token": STATIC_ANY,
                                                     "Connection": "close"})
        self.assertEqual(r.headers["Connection"], "close")

    def test_request_id_unique(self):
        ids = {self.get_stats().headers["X-Request-Id"] for _ in range(20)}
        self.assertEqual(len(ids), 20)
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids))


class TestSigningVectors(unittest.TestCase):
    """The published SDK-HMAC-SHA256 vectors, through the test's client signer and through the
    simulator's own canonicalisation (two independent implementations)."""

    VPCS = dict(access="QTWAOYTTINDUT2QVKYUC", secret="MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc",
                path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/",
                query=[("limit", "2"), ("marker", "13551d6b-755d-4757-b956-536f674975c0")],
                headers={"Content-Type": "application/json",
                         "Host": "service.region.example.com", "X-Sdk-Date": "20191115T033655Z"})
    VPCS_HASH = "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a"
    VPCS_SIG = "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
    # huaweicloud-sdk-go-v3 core/auth/signer/signer_test.go, test1: only x-sdk-date is signed
    # (the expected header there is "SignedHeaders=x-sdk-date": the host is NOT signed).
    GO_SIG = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"

    @classmethod
    def setUpClass(cls):
        cls.mod = load_sim_module()

    def test_vpcs_vector_client_signer(self):
        v = self.VPCS
        sig = sdk_sign(v["access"], v["secret"], "GET", v["path"], v["query"], v["headers"])
        self.assertEqual(hashlib.sha256(sig.canonical_request.encode()).hexdigest(),
                         self.VPCS_HASH)
        self.assertEqual(sig.signature, self.VPCS_SIG)
        self.assertEqual(sig.headers["Authorization"],
                         "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders="
                         f"content-type;host;x-sdk-date, Signature={self.VPCS_SIG}")
        self.assertTrue(sig.canonical_request.endswith("\n\ncontent-type;host;x-sdk-date\n"
                                                       + EMPTY_SHA256))

    def test_go_sdk_vector_client_signer(self):
        headers = {"Host": "example.huaweicloud.com", "X-Sdk-Date": "20060102T150405Z"}
        sig = sdk_sign("AccessKey", "SecretKey", "GET", "/path", [("limit", "1")], headers,
                       signed=["X-Sdk-Date"])
        self.assertEqual(sig.signature, self.GO_SIG)
        self.assertIn("SignedHeaders=x-sdk-date,", sig.headers["Authorization"])
        with_host = sdk_sign("AccessKey", "SecretKey", "GET", "/path", [("limit", "1")],
                             headers)
        self.assertNotEqual(with_host.signature, self.GO_SIG)  # signing host changes it

    def test_vectors_through_simulator_canonicalisation(self):
        m, v = self.mod, self.VPCS
        headers = {k.lower(): v2 for k, v2 in v["headers"].items()}
        query = "marker=13551d6b-755d-4757-b956-536f674975c0&limit=2"  # unsorted on the wire
        canon = m.canonical_request("GET", v["path"], query, headers,
                                    ["content-type", "host", "x-sdk-date"], b"")
        self.assertEqual(hashlib.sha256(canon.encode()).hexdigest(), self.VPCS_HASH)
        self.assertEqual(m.sdk_signature(v["secret"], m.sdk_string_to_sign(
            "20191115T033655Z", canon)), self.VPCS_SIG)
        canon = m.canonical_request("GET", "/path", "limit=1", {"x-sdk-date": "20060102T150405Z",
                                                               "host": "example.huaweicloud.com"},
                                    ["x-sdk-date"], b"")
        self.assertEqual(m.sdk_signature("SecretKey", m.sdk_string_to_sign(
            "20060102T150405Z", canon)), self.GO_SIG)

    def test_canonicalisation_agrees_on_awkward_input(self):
        m = self.mod
        path = "/v1/a b/ü~x/+%/"
        query = [("z", "1"), ("a", "b c"), ("a", "a/b"), ("é", "&="), ("k", ""), ("_", "*")]
        sig = sdk_sign("A", "S", "GET", path, query, {"X-Sdk-Date": "20200101T000000Z",
                                                      "Host": "h", "X-Pad": "  v  "})
        wire_path, _, wire_query = sig.target.partition("?")
        canon = m.canonical_request("GET", wire_path, wire_query,
                                    {"x-sdk-date": "20200101T000000Z", "host": "h",
                                     "x-pad": "  v  "}, ["host", "x-pad", "x-sdk-date"], b"")
        self.assertEqual(canon, sig.canonical_request)
        self.assertEqual(m.canonical_uri("/v5/%7e%41/x"), "/v5/~A/x/")
        self.assertEqual(m.canonical_uri("/"), "/")
        self.assertEqual(m.canonical_query("b=2&a=%2f&&a=+&c"), "a=%2B&a=%2F&b=2&c=")

    def test_authorization_parsing_is_strict(self):
        m = self.mod
        good = "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=" + "a" * 64
        self.assertEqual(m.parse_authorization(good), ("AK", ["host", "x-sdk-date"], "a" * 64))
        for bad in (good.replace(", ", ","), good.replace("Access", "access"),
                    good.replace("host;x-sdk-date", "x-sdk-date;host"),
                    good.replace("host;x-sdk-date", "Host;x-sdk-date"),
                    good.replace("host;x-sdk-date", "host;host;x-sdk-date"),
                    good.replace("host;x-sdk-date", "host;;x-sdk-date"),
                    good.replace("a" * 64, "A" * 64), good.replace("a" * 64, "a" * 63),
                    good + " ", good.replace("SDK-HMAC-SHA256 ", "SDK-HMAC-SHA256  "),
                    "SDK-HMAC-SHA256 SignedHeaders=host, Access=AK, Signature=" + "a" * 64):
            with self.subTest(bad=bad):
                self.assertIsNone(m.parse_authorization(bad))


class TestAkSk(SimTestCase):
    def tearDown(self):
        self.ctl("DELETE", "/_sim/aksk")

    def add_temp(self, access="TEMPAK", secret="tempsk", token="tok-" + "x" * 40,
                 expires_at=None):
        """Add a temporary credential through the control API."""
        body = {"access": access, "secret": secret, "security_token": token}
        if expires_at is not None:
            body["expires_at"] = expires_at
        self.ctl("POST", "/_sim/aksk", body)
        return access, secret, token

    def test_signed_request(self):
        r = self.signed_get(query=[("enterprise_project_id", "0")])
        self.assertEqual((r.status, r.json()), (200, FULL), r.body)
        self.assert_common_headers(r)
        log = self.last_log()
        self.assertEqual((log["auth"], log["access_key"], log["auth_error"], log["throttled"]),
                         ("aksk", AK, None, False))
        self.assertTrue(log["headers"]["authorization"].startswith("SDK-HMAC-SHA256 Access="))
        self.assertRegex(log["headers"]["x-sdk-date"], r"^\d{8}T\d{6}Z$")
        self.assertEqual(self.signed_get(listener="https").status, 200)
        # With X-Project-Id signed and matching, and over one keep-alive connection.
        c = self.conn()
        for _ in range(3):
            r = self.signed_get(headers={"X-Project-Id": PROJECT}, conn=c)
            self.assertEqual(r.status, 200, r.body)
        c.close()

    def test_token_log_fields(self):
        self.get_stats()
        self.get_stats(token=None)
        log = self.ctl("GET", "/_sim/requests")
        self.assertEqual([(e["auth"], e["access_key"]) for e in log],
                         [("token", None), ("none", None)])
        self.assertEqual(log[1]["auth_error"], "no credentials")

    def test_server_side_canonicalisation(self):
        # Wire query order differs from the sorted one; the server sorts.
        query = [("z", "last"), ("enterprise_project_id", "0"), ("a", "b c"), ("a", "a~")]
        self.assertEqual(self.signed_get(query=query).status, 200)
        self.assertEqual(self.last_log()["query"]["z"], ["last"])
        # Equivalent but differently encoded wire forms of the same path and query verify.
        sig = sdk_sign(AK, SK, "GET", stats_path(), [("k", "~ x")], {"X-Sdk-Date": "x"})
        self.assertEqual(sig.target, stats_path() + "?k=~%20x")
        wire = "/v5/%30123456789abcdef0123456789abcdef/image/pay-per-scan/statistics?k=%7e%20x"
        r = self.signed_get(query=[("k", "~ x")], target=wire)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(self.last_log()["project_id"], PROJECT)

    def test_x_auth_token_ignored_when_signed(self):
        r = self.signed_get(headers={"X-Auth-Token": "garbage"})
        self.assertEqual(r.status, 200)
        r = self.signed_get(headers={"X-Auth-Token": STATIC_ANY}, secret="wrong")
        self.assert_apigw(r, 401, "APIGW.0301", MSG_AKSK)
        # Another scheme in Authorization falls back to X-Auth-Token.
        r = self.request("GET", STATS_PATH, headers={"Authorization": "Bearer x",
                                                     "X-Auth-Token": STATIC_ANY})
        self.assertEqual(r.status, 200)

    def test_rejections(self):
        temp_ak, temp_sk, temp_token = self.add_temp()
        cases = [
            ("unknown AK", dict(access="NOSUCHAK"), "unknown access key"),
            ("wrong SK", dict(secret=SK + "x"), "signature mismatch"),
            ("tampered query", dict(query=[("enterprise_project_id", "0")],
                                    target=STATS_PATH + "?enterprise_project_id=1"),
             "signature mismatch"),
            ("body changed", dict(body=b"x", send_body=b"y"), "signature mismatch"),
            ("x-sdk-date unsigned", dict(signed=["Host", "Content-Type"]),
             "x-sdk-date not signed"),
            ("X-Sdk-Date missing", dict(drop=["X-Sdk-Date"]), "X-Sdk-Date header missing"),
            ("date malformed", dict(date="2024-01-01T00:00:00Z"), "X-Sdk-Date malformed"),
            ("date impossible", dict(date="20241301T000000Z"), "X-Sdk-Date malformed"),
            ("host unsigned", dict(signed=["X-Sdk-Date", "Content-Type"]), "host not signed"),
            ("signed header absent", dict(drop=["Content-Type"]), "missing from the request"),
            ("temp without token", dict(access=temp_ak, secret=temp_sk),
             "without X-Security-Token"),
            ("temp wrong token", dict(access=temp_ak, secret=temp_sk, token="other"),
             "does not match"),
            ("temp token unsigned", dict(access=temp_ak, secret=temp_sk, token=temp_token,
                                         signed=["Host", "X-Sdk-Date"]),
             "x-security-token not signed"),
            ("token with permanent AK", dict(token="tok"), "permanent access key"),
            ("project id unsigned", dict(headers={"X-Project-Id": PROJECT},
                                         signed=["Host", "X-Sdk-Date"]),
             "x-project-id not signed"),
            ("project id mismatch", dict(headers={"X-Project-Id": OTHER_PROJECT}),
             "does not match the path's project"),
        ]
        for name, kw, reason in cases:
            with self.subTest(name):
                r = self.signed_get(**kw)
                self.assert_apigw(r, 401, "APIGW.0301", MSG_AKSK)
                log = self.last_log()
                self.assertEqual((log["auth"], log["status"]), ("aksk", 401))
                self.assertIn(reason, log["auth_error"])
        # A malformed Authorization header is rejected the same way.
        for value in ("SDK-HMAC-SHA256", "SDK-HMAC-SHA256 Access=AK",
                      f"SDK-HMAC-SHA256 Access={AK},SignedHeaders=host;x-sdk-date,"
                      f"Signature={'0' * 64}"):
            with self.subTest(value=value):
                r = self.request("GET", STATS_PATH, headers={"Authorization": value,
                                                             "X-Sdk-Date": sdk_date()})
                self.assert_apigw(r, 401, "APIGW.0301", MSG_AKSK)
                self.assertEqual(self.last_log()["auth_error"], "malformed Authorization header")
        # The temporary credential itself is fine when used properly.
        r = self.signed_get(access=temp_ak, secret=temp_sk, token=temp_token)
        self.assertEqual(r.status, 200, r.body)

    def test_mismatch_logs_canonical_request(self):
        self.signed_get(secret="wrong", query=[("b", "2"), ("a", "1")])
        log = self.last_log()
        canon = log["canonical_request"]
        self.assertTrue(canon.startswith(f"GET\n{stats_path()}/\na=1&b=2\ncontent-type:"), canon)
        self.assertTrue(canon.endswith("\n\ncontent-type;host;x-sdk-date\n" + EMPTY_SHA256))
        self.assertEqual(self.signed_get().status, 200)
        self.assertIsNone(self.last_log()["canonical_request"])  # only on a mismatch

    def test_clock_skew(self):
        now = time.time()
        for offset in (-14 * 60, 14 * 60):
            self.assertEqual(self.signed_get(date=sdk_date(now + offset)).status, 200)
        for offset in (-16 * 60, 16 * 60):
            with self.subTest(offset=offset):
                r = self.signed_get(date=sdk_date(now + offset))
                self.assert_apigw(r, 401, "APIGW.0303", MSG_0303)
                self.assertIn("from the simulator's clock", self.last_log()["auth_error"])
        # A bad signature with a stale date is a signature failure, not 0303.
        self.assert_apigw(self.signed_get(date=sdk_date(now - 3600), secret="x"), 401,
                          "APIGW.0301")

    def test_clock_offset_control(self):
        self.ctl("POST", "/_sim/clock", {"offset": 1200})
        r = self.signed_get()
        self.assert_apigw(r, 401, "APIGW.0303", MSG_0303)
        server_date = email_date(r.headers["Date"])
        self.assertAlmostEqual(server_date - time.time(), 1200, delta=5)
        self.assertEqual(self.signed_get(date=sdk_date(time.time() + 1200)).status, 200)
        self.ctl("POST", "/_sim/clock", {"offset": "x"}, expect=400)
        self.ctl("POST", "/_sim/reset")  # clears the offset
        self.assertEqual(self.signed_get().status, 200)

    def test_expired_temporary_credential(self):
        ak, sk, token = self.add_temp("SHORTAK", expires_at=time.time() + 0.3)
        self.assertEqual(self.signed_get(access=ak, secret=sk, token=token).status, 200)
        time.sleep(0.35)
        r = self.signed_get(access=ak, secret=sk, token=token)
        self.assert_apigw(r, 401, "APIGW.0301")
        self.assertIn("security token has expired", r.json()["error_msg"])

    def test_signed_body(self):
        self.assertEqual(self.signed_get(body=b'{"x":1}').status, 200)
        self.assertEqual(self.last_log()["body"], '{"x":1}')

    def test_control(self):
        self.assert_apigw(self.signed_get(access="CTLAK", secret="ctlsk"), 401, "APIGW.0301")
        self.ctl("POST", "/_sim/aksk", {"access": "CTLAK", "secret": "ctlsk"})
        self.assertEqual(self.signed_get(access="CTLAK", secret="ctlsk").status, 200)
        listed = {c["access"]: c for c in self.ctl("GET", "/_sim/aksk")}
        self.assertEqual(listed[AK], {"access": AK, "secret": SK, "origin": "cli",
                                      "security_token": None, "expires_at": None})
        self.assertEqual(listed["CTLAK"]["origin"], "control")
        self.ctl("POST", "/_sim/reset")  # keeps credentials
        self.assertEqual(self.signed_get(access="CTLAK", secret="ctlsk").status, 200)
        self.assertEqual(self.ctl("DELETE", "/_sim/aksk")["removed"], 1)
        self.assert_apigw(self.signed_get(access="CTLAK", secret="ctlsk"), 401, "APIGW.0301")
        self.assertEqual(self.signed_get().status, 200)  # the command-line key stays
        for bad in ({"access": "A"}, {"secret": "S"}, {"access": "", "secret": "S"},
                    {"access": "A B", "secret": "S"}, {"access": "A", "secret": "S", "x": 1},
                    {"access": "A", "secret": "S", "security_token": 5},
                    {"access": "A", "secret": "S", "expires_at": "soon"}, [1]):
            with self.subTest(bad=bad):
                self.ctl("POST", "/_sim/aksk", bad, expect=400)

    def test_keepalive_500_signed_requests(self):
        c = self.conn()
        t0 = time.monotonic()
        statuses = [self.signed_get(conn=c).status for _ in range(500)]
        elapsed = time.monotonic() - t0
        c.close()
        self.assertEqual(statuses, [200] * 500)
        sys.stderr.write(f"[{500 / elapsed:.0f} signed req/s incl. client signing] ")

    def test_verification_cost(self):
        mod = load_sim_module()
        state = mod.State(86400, None)
        state.add_aksk(mod.AkSkCredential(AK, SK, "cli"))
        h = {"Host": "127.0.0.1:1", "X-Sdk-Date": sdk_date(), "Content-Type": "application/json",
             "X-Project-Id": PROJECT}
        sig = sdk_sign(AK, SK, "GET", stats_path(), [("enterprise_project_id", "0")], h)
        path, _, query = sig.target.partition("?")
        headers = {k.lower(): v for k, v in sig.headers.items()}
        n = 2000
        t0 = time.perf_counter()
        for _ in range(n):
            ctx = mod.RequestContext("GET", sig.target, path, {}, headers, b"", "r", "http",
                                     "127.0.0.1", 1, 0.0, 0.0, raw_query=query)
            principal, error = state.authenticator.check(ctx, PROJECT)
        per_call = (time.perf_counter() - t0) / n
        self.assertIsNone(error)
        self.assertEqual(principal, "aksk:" + AK)
        self.assertLess(per_call, 0.0005, "verification must stay far below 1 ms")
        sys.stderr.write(f"[{per_call * 1e6:.0f} us/verification] ")


def email_date(value):
    """Unix time of an HTTP Date header."""
    return email.utils.parsedate_to_datetime(value).timestamp()


class TestMetadata(SimTestCase):
    def get_credential(self, listener="http", expect=200):
        """GET the metadata credential."""
        r = self.request("GET", "/openstack/latest/securitykey", listener=listener)
        self.assertEqual(r.status, expect, r.body)
        return r.json()["credential"] if expect == 200 else r

    def use(self, cred, **kw):
        """A signed HSS request with a metadata credential (token included)."""
        return self.signed_get(access=cred["access"], secret=cred["secret"],
                               token=cred["securitytoken"], **kw)

    def test_format_and_use(self):
        t0 = time.time()
        r = self.request("GET", "/openstack/latest/securitykey")
        self.assertEqual(r.status, 200)
        self.assert_common_headers(r)
        doc = r.json()
        self.assertEqual(set(doc), {"credential"})
        cred = doc["credential"]
        self.assertEqual(set(cred), {"access", "secret", "securitytoken", "expires_at"})
        self.assertRegex(cred["access"], r"^[A-Z0-9]{20}$")
        self.assertRegex(cred["secret"], r"^[A-Za-z0-9]{40}$")
        self.assertGreater(len(cred["securitytoken"]), 500)
        self.assertRegex(cred["expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
        expires = datetime.datetime.strptime(cred["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(expires - t0, 900, delta=5)
        self.assertEqual(self.use(cred).status, 200)
        self.assert_apigw(self.signed_get(access=cred["access"], secret=cred["secret"]), 401,
                          "APIGW.0301", MSG_AKSK)
        self.assertEqual(self.get_credential(), cred)                    # stable
        self.assertEqual(self.get_credential("https"), cred)             # every listener
        log = self.ctl("GET", "/_sim/requests")
        self.assertEqual([(e["route"], e["method"], e["status"]) for e in log],
                         [("metadata", "GET", 200), ("hss", "GET", 200), ("hss", "GET", 401),
                          ("metadata", "GET", 200), ("metadata", "GET", 200)])
        self.assertEqual((log[1]["auth"], log[1]["access_key"]), ("aksk", cred["access"]))
        stats = self.ctl("GET", "/_sim/stats")
        self.assertEqual((stats["metadata"], stats["hss"]), (3, {PROJECT: 2}))
        listed = {c["access"]: c for c in self.ctl("GET", "/_sim/aksk")}
        self.assertEqual(listed[cred["access"]]["origin"], "metadata")
        self.assertEqual(self.request("POST", "/openstack/latest/securitykey").status, 405)

    def test_rotate(self):
        old = self.get_credential()
        rotated = self.ctl("POST", "/_sim/metadata/rotate")["credential"]
        self.assertNotEqual(rotated["access"], old["access"])
        self.assertNotEqual(rotated["securitytoken"], old["securitytoken"])
        self.assertEqual(self.get_credential(), rotated)
        self.assertEqual(self.use(old).status, 200)       # valid until its own expiry
        self.assertEqual(self.use(rotated).status, 200)
        mixed = dict(rotated, securitytoken=old["securitytoken"])
        self.assert_apigw(self.use(mixed), 401, "APIGW.0301")

    def test_auto_rotation_and_expiry(self):
        self.ctl("POST", "/_sim/metadata", {"ttl": 1.5})
        t0 = time.monotonic()
        first = self.ctl("POST", "/_sim/metadata/rotate")["credential"]
        self.assertEqual(self.get_credential(), first)
        time.sleep(max(0.0, t0 + 1.1 - time.monotonic()))   # 0.4 s left: under a third
        second = self.get_credential()
        self.assertNotEqual(second["access"], first["access"])
        self.assertEqual(self.use(first).status, 200)
        time.sleep(max(0.0, t0 + 1.65 - time.monotonic()))
        r = self.use(first)
        self.assert_apigw(r, 401, "APIGW.0301")
        self.assertIn("security token has expired", r.json()["error_msg"])
        self.assertEqual(self.use(second).status, 200)
        self.assertEqual(self.get_credential(), second)    # 0.95 s of 1.5 s left

    def test_scripted_failures(self):
        cred = self.get_credential()
        self.ctl("POST", "/_sim/metadata", {"status": 500, "times": 1})
        self.ctl("POST", "/_sim/metadata", {"fault": "close", "times": 1})
        self.ctl("POST", "/_sim/metadata", {"status": 404, "body": {"x": 1}, "times": 1})
        self.ctl("POST", "/_sim/metadata", {"raw": "{broken", "times": 1})
        r = self.get_credential(expect=500)
        self.assertEqual(r.json()["error"]["code"], 500)
        with self.assertRaises(http.client.RemoteDisconnected):
            self.request("GET", "/openstack/latest/securitykey")
        self.assertEqual(self.get_credential(expect=404).json(), {"x": 1})
        r = self.request("GET", "/openstack/latest/securitykey")
        self.assertEqual((r.status, r.body), (200, b"{broken"))
        self.assertEqual(self.get_credential(), cred)
        self.ctl("POST", "/_sim/metadata", {"delay_ms": 250, "headers": {"X-Sim": "1"}})
        t0 = time.monotonic()
        r = self.request("GET", "/openstack/latest/securitykey")
        self.assertGreaterEqual(time.monotonic() - t0, 0.24)
        self.assertEqual((r.status, r.headers["X-Sim"], r.json()["credential"]),
                         (200, "1", cred))
        self.ctl("DELETE", "/_sim/metadata")
        t0 = time.monotonic()
        self.get_credential()
        self.assertLess(time.monotonic() - t0, 0.2)
        for bad in ({"ttl": 0}, {"ttl": "1"}, {"ttl": -1}, {"fault": "explode"}, {"nope": 1}):
            with self.subTest(bad=bad):
                self.ctl("POST", "/_sim/metadata", bad, expect=400)
        self.assertEqual(self.ctl("GET", "/_sim/stats")["metadata"], 8)

    def test_ttl_control_and_reset(self):
        self.ctl("POST", "/_sim/metadata", {"ttl": 60})
        cred = self.ctl("POST", "/_sim/metadata/rotate")["credential"]
        expires = datetime.datetime.strptime(cred["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(expires - time.time(), 60, delta=5)
        self.ctl("POST", "/_sim/reset")  # back to --metadata-ttl (900), a fresh credential
        fresh = self.get_credential()
        self.assertNotEqual(fresh["access"], cred["access"])
        self.assertEqual(self.use(cred).status, 200)   # the old one stays valid
        cred = self.get_credential()
        expires = datetime.datetime.strptime(cred["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
        expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
        self.assertAlmostEqual(expires - time.time(), 900, delta=5)


def h2_exchange(port, requests, timeout=10.0):
    """Sends [(path, headers)] as concurrent streams of one HTTP/2 connection (python3-h2
    as the client); returns ({stream path: (status, headers, body)}, negotiated ALPN)."""
    import h2.config  # noqa: PLC0415 (python3-h2 is needed by these tests only)
    import h2.connection  # noqa: PLC0415
    import h2.events  # noqa: PLC0415
    ctx = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
        alpn = tls.selected_alpn_protocol()
        if alpn != "h2":
            return {}, alpn
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))
        conn.initiate_connection()
        paths, out = {}, {}
        for path, headers in requests:
            sid = conn.get_next_available_stream_id()
            paths[sid] = path
            conn.send_headers(sid, [(":method", "GET"), (":scheme", "https"),
                                    (":authority", f"127.0.0.1:{port}"), (":path", path),
                                    *headers], end_stream=True)
            out[path] = [None, {}, b""]
        tls.sendall(conn.data_to_send())
        done = set()
        while len(done) < len(paths):
            data = tls.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived):
                    hdrs = dict(ev.headers)
                    out[paths[ev.stream_id]][0] = int(hdrs.pop(":status"))
                    out[paths[ev.stream_id]][1] = hdrs
                elif isinstance(ev, h2.events.DataReceived):
                    out[paths[ev.stream_id]][2] += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)):
                    done.add(ev.stream_id)
            tls.sendall(conn.data_to_send())
        return {k: tuple(v) for k, v in out.items()}, alpn


class TestHttp2(SimTestCase):
    """--http2: the https listener offers h2; streams are routed and logged like HTTP/1.1."""

    def test_streams_routed_concurrently_and_logged(self):
        c = lambda name: os.path.join(CERTS, name)  # noqa: E731
        sim = Sim(WORK, "--cert", c("server.pem"), "--key", c("server.key"), "--http2",
                  "--static-token", "h2tok")
        try:
            ctl = http.client.HTTPConnection("127.0.0.1", sim.ports["http"], timeout=5)
            for pid in ("h2a", "h2b"):
                ctl.request("POST", f"/_sim/project/{pid}", body='{"delay_ms": 300}')
                ctl.getresponse().read()
            t0 = time.monotonic()
            got, alpn = h2_exchange(sim.ports["https"], [
                (stats_path("h2a"), [("x-auth-token", "h2tok")]),
                (stats_path("h2b"), [("x-auth-token", "h2tok")]),
                (stats_path("h2c"), [("x-auth-token", "wrong")])])
            elapsed = time.monotonic() - t0
            self.assertEqual(alpn, "h2")
            self.assertEqual(got[stats_path("h2a")][0], 200)
            self.assertEqual(json.loads(got[stats_path("h2b")][2])["repository_scan_num"], 5)
            self.assertIn("x-request-id", got[stats_path("h2a")][1])
            self.assertEqual(got[stats_path("h2c")][0], 401)
            self.assertLess(elapsed, 0.55, "the two delayed streams were not concurrent")
            ctl.request("GET", "/_sim/requests")
            reqs = [r for r in json.loads(ctl.getresponse().read()) if r["route"] == "hss"]
            self.assertEqual(sorted(r["project_id"] for r in reqs), ["h2a", "h2b", "h2c"])
            self.assertEqual({r["protocol"] for r in reqs}, {"h2"})
            self.assertEqual(len({r["client_port"] for r in reqs}), 1)
        finally:
            sim.stop()

    def test_http11_clients_still_served(self):
        """Without --http2 only http/1.1 is offered; the shared listener's requests say so."""
        r = self.get_stats(listener="https")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.last_log()["protocol"], "http/1.1")
        _, alpn = h2_exchange(self.sim.ports["https"], [])
        self.assertEqual(alpn, "http/1.1")


class TestTlsResumption(SimTestCase):
    """The request log says whether the client resumed a TLS session (null on plain HTTP)."""

    def exchange(self, ctx, session=None):
        """One GET over a new TLS connection; returns the connection's session."""
        raw = socket.create_connection(("127.0.0.1", self.sim.ports["https"]), timeout=5)
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1", session=session) as tls:
            tls.sendall(f"GET {stats_path(PROJECT)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        f"X-Auth-Token: {STATIC_ANY}\r\nConnection: close\r\n\r\n"
                        .encode())
            while tls.recv(65536):
                pass
            return tls.session

    def test_resumed_session_logged(self):
        ctx = ssl.create_default_context(cafile=os.path.join(CERTS, "ca.pem"))
        session = self.exchange(ctx)
        self.exchange(ctx, session)
        self.get_stats()
        reqs = [r for r in self.ctl("GET", "/_sim/requests") if r["route"] == "hss"]
        self.assertEqual([r["tls_resumed"] for r in reqs], [False, True, None])


class TestRateLimit(SimTestCase):
    def limit(self, calls, seconds, per=None):
        body = {"calls": calls, "seconds": seconds}
        if per is not None:
            body["per"] = per
        return self.ctl("POST", "/_sim/rate-limit", body)

    def assert_throttled(self, r, retry_after=None, policy="user", calls=None, time_text=None):
        self.assert_apigw(r, 429, "APIGW.0308")
        msg = r.json()["error_msg"]
        self.assertTrue(msg.startswith(f"The throttling threshold has been reached: policy "
                                       f"{policy} over ratelimit,limit:"), msg)
        if calls is not None:
            self.assertEqual(msg, f"The throttling threshold has been reached: policy {policy} "
                                  f"over ratelimit,limit:{calls},time:{time_text}.")
        if retry_after is not None:
            self.assertEqual(r.headers["Retry-After"], str(retry_after))

    def test_off_by_default(self):
        self.assertEqual([self.get_stats().status for _ in range(12)], [200] * 12)

    def test_per_user(self):
        self.assertEqual(self.limit(2, 5, "user"),
                         {"ok": True, "calls": 2, "seconds": 5.0, "per": "user"})
        self.get_stats(token="unknown")                      # auth failures do not count
        self.assertEqual([self.get_stats().status for _ in range(2)], [200, 200])
        r = self.get_stats()
        self.assert_throttled(r, 5, "user", 2, "5 seconds")
        log = self.last_log()
        self.assertEqual((log["status"], log["throttled"]), (429, True))
        # Other users have their own budgets.
        self.assertEqual([self.get_stats(STATIC_SCOPED).status for _ in range(3)],
                         [200, 200, 429])
        token, _ = self.get_token()
        token2, _ = self.get_token()  # same IAM user: one budget for both tokens
        self.assertEqual([self.get_stats(token).status, self.get_stats(token2).status,
                          self.get_stats(token).status], [200, 200, 429])
        self.assertEqual([self.signed_get().status for _ in range(3)], [200, 200, 429])
        for _ in range(3):
            self.get_token()   # IAM is never limited
        stats = self.ctl("GET", "/_sim/stats")
        self.assertEqual((stats["throttled"], stats["status"]["429"]), (4, 4))
        self.assertEqual(sum(e["throttled"] for e in self.ctl("GET", "/_sim/requests")), 4)

    def test_per_ip(self):
        self.limit(2, 5, "ip")
        token, _ = self.get_token()
        self.assertEqual(self.get_stats(STATIC_ANY).status, 200)
        self.assertEqual(self.signed_get().status, 200)
        self.assert_throttled(self.get_stats(token), 5, "ip", 2, "5 seconds")
        self.assert_throttled(self.get_stats(STATIC_SCOPED), policy="ip")

    def test_both_and_binding_key(self):
        self.limit(3, 5)  # "both" is the default
        self.assertEqual([self.get_stats().status for _ in range(2)], [200, 200])
        self.assertEqual(self.get_stats(STATIC_SCOPED).status, 200)     # ip now full
        self.assert_throttled(self.get_stats(STATIC_SCOPED), policy="ip")
        self.ctl("POST", "/_sim/rate-limit", {"calls": 2, "seconds": 5})  # fresh windows
        self.assertEqual([self.get_stats().status for _ in range(2)], [200, 200])
        self.assert_throttled(self.get_stats(), policy="user")           # both full: user

    def test_sliding_window_and_retry_after(self):
        self.limit(2, 4, "user")
        t0 = time.monotonic()
        # User B: two at once, then Retry-After is the whole 4 s.
        self.assertEqual([self.get_stats(STATIC_SCOPED).status for _ in range(2)], [200, 200])
        self.assert_throttled(self.get_stats(STATIC_SCOPED), 4)
        # User A: one at t0, one at t0+1.5.
        self.assertEqual(self.get_stats().status, 200)
        time.sleep(max(0.0, t0 + 1.5 - time.monotonic()))
        self.assertEqual(self.get_stats().status, 200)
        self.assert_throttled(self.get_stats(), 3)   # first frees at t0+4: 2.5 s
        for _ in range(10):                          # rejected requests do not count
            self.assertEqual(self.get_stats().status, 429)
        time.sleep(max(0.0, t0 + 4.1 - time.monotonic()))
        self.assertEqual(self.get_stats().status, 200)   # the t0 request left the window
        self.assert_throttled(self.get_stats(), 2)   # t0+1.5 frees at t0+5.5: 1.4 s
        self.assertEqual(self.get_stats(STATIC_SCOPED).status, 200)

    def test_metadata_and_aksk_user_keys(self):
        self.ctl("POST", "/_sim/aksk", {"access": "SECONDAK", "secret": "sk2"})
        try:
            self.limit(1, 30, "user")
            self.assertEqual(self.signed_get().status, 200)
            self.assertEqual(self.signed_get(access="SECONDAK", secret="sk2").status, 200)
            self.assertEqual(self.signed_get().status, 429)
            # Metadata credentials act for one agency: rotation does not reset the budget.
            r = self.request("GET", "/openstack/latest/securitykey")
            cred = r.json()["credential"]
            self.assertEqual(self.signed_get(access=cred["access"], secret=cred["secret"],
                                             token=cred["securitytoken"]).status, 200)
            cred = self.ctl("POST", "/_sim/metadata/rotate")["credential"]
            r = self.signed_get(access=cred["access"], secret=cred["secret"],
                                token=cred["securitytoken"])
            self.assert_throttled(r, 30, "user", 1, "30 seconds")
        finally:
            self.ctl("DELETE", "/_sim/aksk")

    def test_delete_and_reset(self):
        self.limit(1, 60)
        self.assertEqual(self.get_stats().status, 200)
        self.assert_throttled(self.get_stats(), 60, calls=1, time_text="1 minute")
        self.ctl("DELETE", "/_sim/rate-limit")
        self.assertEqual([self.get_stats().status for _ in range(3)], [200] * 3)
        self.limit(1, 60)
        self.get_stats()
        self.ctl("POST", "/_sim/reset")   # no --rate-limit on this simulator: off again
        self.assertEqual([self.get_stats().status for _ in range(3)], [200] * 3)
        for bad in ({"calls": 0, "seconds": 1}, {"calls": 1}, {"calls": 1.5, "seconds": 1},
                    {"calls": 1, "seconds": 0}, {"calls": 1, "seconds": 1, "per": "api"},
                    {"calls": True, "seconds": 1}, {"calls": 1, "seconds": 1, "x": 1}):
            with self.subTest(bad=bad):
                self.ctl("POST", "/_sim/rate-limit", bad, expect=400)

    def test_cli_rate_limit_and_metadata_ttl(self):
        sim = Sim(WORK, "--static-token", "t", "--rate-limit", "5:60",
                  "--metadata-ttl", "30", "--iam-user", "d:u:p")
        try:
            c = http.client.HTTPConnection("127.0.0.1", sim.ports["http"], timeout=5)

            def call(method, path, body=None, headers=None):
                c.request(method, path, body=body, headers=headers or {})
                resp = c.getresponse()
                return resp.status, resp.headers, resp.read()

            statuses = [call("GET", STATS_PATH, headers={"X-Auth-Token": "t"})[0]
                        for _ in range(6)]
            self.assertEqual(statuses, [200] * 5 + [429])
            status, headers, body = call("GET", STATS_PATH, headers={"X-Auth-Token": "t"})
            self.assertEqual((status, headers["Retry-After"]), (429, "60"))
            self.assertEqual(json.loads(body)["error_msg"],
                             "The throttling threshold has been reached: policy user over "
                             "ratelimit,limit:5,time:1 minute.")
            for _ in range(6):  # IAM and metadata are never limited
                self.assertEqual(call("POST", "/v3/auth/tokens",
                                      json.dumps(iam_body("d", "u", "p")))[0], 201)
                self.assertEqual(call("GET", "/openstack/latest/securitykey")[0], 200)
            cred = json.loads(call("GET", "/openstack/latest/securitykey")[2])["credential"]
            expires = datetime.datetime.strptime(cred["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
            expires = expires.replace(tzinfo=datetime.timezone.utc).timestamp()
            self.assertAlmostEqual(expires - time.time(), 30, delta=3)
            call("DELETE", "/_sim/rate-limit")
            self.assertEqual(call("GET", STATS_PATH, headers={"X-Auth-Token": "t"})[0], 200)
            call("POST", "/_sim/reset")   # the command-line budget again, fresh windows
            statuses = [call("GET", STATS_PATH, headers={"X-Auth-Token": "t"})[0]
                        for _ in range(6)]
            self.assertEqual(statuses, [200] * 5 + [429])
            c.close()
        finally:
            sim.stop()

    def test_bad_cli(self):
        for args in (["--rate-limit", "5"], ["--rate-limit", "0:60"], ["--rate-limit", "x:1"],
                     ["--rate-limit", "1:0"], ["--aksk", "nosecret"], ["--aksk", ":sk"],
                     ["--metadata-ttl", "0"]):
            with self.subTest(args=args):
                proc = subprocess.run([sys.executable, SIM, "--port-file",
                                       os.path.join(WORK, "never.json"), *args],
                                      capture_output=True, timeout=10)
                self.assertEqual(proc.returncode, 2, proc.stderr)


if __name__ == "__main__":
    unittest.main()
