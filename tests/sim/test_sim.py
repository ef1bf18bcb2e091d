"""Self-test of tests/sim/hss_sim.py.

Run from the repository root:  /usr/bin/python3 -m unittest tests/sim/test_sim.py -v

Starts the simulator as a subprocess (HTTP, HTTPS and the three TLS-fault listeners) with
certificates made by mkcerts.sh, and drives every feature over 127.0.0.1 with http.client/ssl.
"""

import datetime
import http.client
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
        "--static-token", f"{STATIC_SCOPED}:{PROJECT}")


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
                "project_id", "route", "duration_ms", "client_port"}
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
        self.assertEqual(self.ctl("GET", "/_sim/stats"),
                         {"hss": {PROJECT: 3, OTHER_PROJECT: 1}, "iam": 1, "other": 1,
                          "status": {"200": 3, "401": 1, "201": 1, "404": 1}})
        self.configure(status=500)
        self.ctl("POST", "/_sim/iam", {"status": 500})
        self.ctl("POST", "/_sim/iam/users", {"domain": "r", "user": "r", "password": "r"})
        self.ctl("POST", "/_sim/reset")
        self.assertEqual(self.ctl("GET", "/_sim/stats"),
                         {"hss": {}, "iam": 0, "other": 0, "status": {}})
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


if __name__ == "__main__":
    unittest.main()
