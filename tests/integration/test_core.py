"""Core behaviour inside the real collectd daemon: every field, the seed's
example, IAM tokens, token files, failures that stay local, config errors
and secret hygiene."""

import ctypes
import os
import shutil
import struct
import time
import unittest

from harness import IntegrationCase, wait_for

FULL = {
    "repository_scan_num": 5, "cicd_scan_num": 10, "free_quota_num": 2,
    "already_given": True, "image_free_quota": 10,
    "high_risk": {"local": 1, "registriy": 2, "cicd": 3},
    "has_risk": {"local": 4, "registriy": 5, "cicd": 6},
    "total": {"local": 7, "registriy": 8, "cicd": 9},
    "unscan": {"local": 11, "registriy": 12, "cicd": 13},
}
# The seed's documented example: five scalar fields only.
SEED = {"repository_scan_num": 5, "cicd_scan_num": 10, "free_quota_num": 2,
        "already_given": True, "image_free_quota": 10}

PASSWORD = "s3cret-Passw0rd"
STATIC_TOKEN = "static-token-AAAA1111"


def expected_series(body):
    """{'type-type_instance': value} that a body must produce."""
    out = {}
    for key in ("repository_scan_num", "cicd_scan_num", "free_quota_num",
                "image_free_quota"):
        if isinstance(body.get(key), int):
            out[f"count-{key}"] = float(body[key])
    if isinstance(body.get("already_given"), bool):
        out["bool-already_given"] = 1.0 if body["already_given"] else 0.0
    for obj in ("high_risk", "has_risk", "total", "unscan"):
        sub = body.get(obj) or {}
        for wire, name in (("local", "local"), ("registriy", "registry"),
                           ("registry", "registry"), ("cicd", "cicd")):
            if isinstance(sub.get(wire), int):
                out.setdefault(f"count-{obj}-{name}", float(sub[wire]))
    return out


ALL_SERIES = set(expected_series(FULL))

# The plugin's self-monitoring series, dispatched at every poll.
SELF_SERIES = {"bool-up", "duration-poll", "derive-poll_errors"}


def stats_series(c, project, host="testhost"):
    """The statistics series of a project (self-monitoring left out)."""
    return c.series(project, host=host) - SELF_SERIES


class CoreTest(IntegrationCase):

    def wait_values(self, c, project, series, n=1, timeout=15):
        """Waits until series of project has at least n rows; returns them."""
        t, ti = series.split("-", 1)
        return wait_for(lambda: len(c.csv_values(project, t, ti)) >= n and c.csv_values(project, t, ti),
                        timeout, what=f"{n} values of {project}/{series}")

    def test_full_response_every_value(self):
        self.sim.set_project("p-full", body=FULL)
        c = self.collectd(self.token_account("prod", self.project("web", "p-full"))).start()
        want = expected_series(FULL)
        self.assertEqual(len(want), 17)
        for series in want:
            self.wait_values(c, "web", series)
        c.stop()
        self.assertEqual(stats_series(c, "web"), set(want))
        for series, value in want.items():
            t, ti = series.split("-", 1)
            self.assertEqual({v for _, v in c.csv_values("web", t, ti)}, {value}, series)
        # One poll: one timestamp for all 17 values, interval = project's.
        vls = [vl for vl in c.written_values() if vl["plugin_instance"] == "web"]
        by_time = {}
        for vl in vls:
            by_time.setdefault(vl["time"], []).append(vl)
        self.assertTrue(any(len(group) == 17 for group in by_time.values()),
                        f"no poll with 17 values sharing one timestamp: {[len(g) for g in by_time.values()]}")
        self.assertEqual({vl["interval"] for vl in vls}, {1.0})
        self.assertEqual({vl["host"] for vl in vls}, {"testhost"})
        self.assertEqual({vl["dstypes"][0] for vl in vls}, {"gauge"})

    def test_seed_example_dispatches_only_returned_fields(self):
        self.sim.set_project("p-seed", body=SEED)
        c = self.collectd(self.token_account("prod", self.project("seed", "p-seed"))).start()
        want = expected_series(SEED)
        self.assertEqual(len(want), 5)
        for series in want:
            self.wait_values(c, "seed", series, n=2)
        c.stop()
        self.assertEqual(stats_series(c, "seed"), set(want),
                         "fields the API did not return must not have series")
        self.assertEqual(c.csv_values("seed", "bool", "already_given")[0][1], 1.0)

    def test_registry_spelling_and_host_override(self):
        body = {"total": {"local": 1, "registry": 22, "cicd": 3}, "high_risk": {"registriy": 7}}
        self.sim.set_project("p-sp", body=body)
        c = self.collectd(self.token_account(
            "prod", self.project("spell", "p-sp", '      Host "hss"\n      Interval 2\n'))).start()
        wait_for(lambda: c.csv_values("spell", "count", "total-registry", host="hss"), 15,
                 what="total-registry under host hss")
        c.stop()
        self.assertEqual(c.csv_values("spell", "count", "total-registry", host="hss")[0][1], 22.0)
        self.assertEqual(c.csv_values("spell", "count", "high_risk-registry", host="hss")[0][1], 7.0)
        self.assertEqual(stats_series(c, "spell", host="hss"),
                         {"count-total-local", "count-total-registry", "count-total-cicd",
                          "count-high_risk-registry"})
        self.assertEqual({vl["interval"] for vl in c.written_values()}, {2.0})

    def test_bad_fields_skipped_rest_dispatched(self):
        body = {"repository_scan_num": "5", "cicd_scan_num": -1, "free_quota_num": 2147483648,
                "already_given": 1, "image_free_quota": 3.5,
                "high_risk": {"local": 4, "registriy": None, "cicd": [1]},
                "has_risk": 7, "total": {"local": 2147483647}, "unknown_field": 1}
        self.sim.set_project("p-bad", body=body)
        c = self.collectd(self.token_account("prod", self.project("bad", "p-bad"))).start()
        self.wait_values(c, "bad", "count-total-local", n=2)
        c.stop()
        self.assertEqual(stats_series(c, "bad"), {"count-high_risk-local", "count-total-local"})
        self.assertEqual(c.csv_values("bad", "count", "total-local")[0][1], 2147483647.0)
        log = c.log()
        self.assertIn('project "bad": skipped fields:', log)
        for field in ("repository_scan_num: wrong type", "cicd_scan_num: out of range",
                      "free_quota_num: out of range", "already_given: wrong type",
                      "image_free_quota: wrong type", "high_risk.cicd: wrong type",
                      "has_risk.local: enclosing field is not an object"):
            self.assertIn(field, log)
        # Rate-limited: several polls, but the warning is not repeated each time.
        self.assertLessEqual(log.count("skipped fields:"), 2)

    def test_iam_one_token_for_many_polls(self):
        c = self.collectd(self.password_account(
            "iam", self.project("a", "p-iam-a") + self.project("b", "p-iam-b"))).start()
        for p in ("a", "b"):
            self.wait_values(c, p, "count-total-local", n=4)
        c.stop()
        iam = self.sim.requests(route="iam")
        self.assertEqual(len(iam), 2, "one token per project, reused across polls")
        self.assertEqual(sorted(r["headers"].get("content-type") for r in iam),
                         ["application/json;charset=utf8"] * 2)
        hss = self.sim.requests(route="hss")
        self.assertGreaterEqual(len(hss), 8)
        self.assertTrue(all(r["status"] == 200 for r in hss))
        tokens = {r["project_id"]: r["headers"]["x-auth-token"] for r in hss}
        self.assertNotEqual(tokens["p-iam-a"], tokens["p-iam-b"], "tokens are project-scoped")
        self.assertNoSecrets(c.log(), [PASSWORD] + list(tokens.values()))

    def test_iam_refresh_after_token_expired(self):
        c = self.collectd(self.password_account("iam", self.project("r", "p-ref"))).start()
        self.wait_values(c, "r", "count-total-local", n=2)
        self.sim.control("POST", "tokens/expire", {})
        expired_at = time.time()
        wait_for(lambda: len(self.sim.requests(route="iam")) >= 2, 10, what="a second token request")
        wait_for(lambda: [t for t, _ in c.csv_values("r", "count", "total-local") if t > expired_at + 0.5],
                 10, what="values after the refresh")
        c.stop()
        self.assertEqual(len(self.sim.requests(route="iam")), 2)
        statuses = [r["status"] for r in self.sim.requests(route="hss")]
        self.assertEqual(statuses.count(401), 1, statuses)
        # The retry came right away: no poll was lost around the 401.
        times = [t for t, _ in c.csv_values("r", "count", "total-local")]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), 1.9, f"a poll was lost: gaps {gaps}")

    def test_iam_failure_backs_off(self):
        self.sim.control("POST", "iam", {"status": 500})
        c = self.collectd(self.password_account("iam", self.project("f", "p-iamfail"))).start()
        time.sleep(5)
        c.stop()
        iam = self.sim.requests(route="iam")
        # 1 s interval for 5 s, but the back-off (5 s, 10 s, ...) allows 1-2 attempts.
        self.assertGreaterEqual(len(iam), 1)
        self.assertLessEqual(len(iam), 2, f"IAM retried in a tight loop: {len(iam)}")
        self.assertEqual(stats_series(c, "f"), set())
        log = c.log()
        self.assertIn("IAM token request", log)
        self.assertIn("HTTP 500", log)
        self.assertNoSecrets(log, [PASSWORD])

    def test_wrong_password_with_collectd_T(self):
        block = self.password_account("iam", self.project("w", "p-wrong"), password="not-the-password")
        rc, out = self.collectd(block).test_run()
        self.assertNotEqual(rc, 0, out)
        self.assertIn('project "w" (account "iam")', out)
        self.assertIn("HTTP 401", out)
        self.assertIn("The username or password is wrong", out)
        self.assertNotIn("not-the-password", out)

    def test_T_succeeds_on_good_config(self):
        rc, out = self.collectd(self.token_account("prod", self.project("ok", "p-ok"))).test_run()
        self.assertEqual(rc, 0, out)
        self.assertIn("all 1 projects polled successfully", out)

    def test_500_on_one_project_does_not_disturb_another(self):
        self.sim.set_project("p-500", status=500,
                             body={"error_code": "HSS.1001", "error_msg": "internal error"})
        block = self.token_account("prod", self.project("broken", "p-500") + self.project("fine", "p-fine"))
        c = self.collectd(block).start()
        self.wait_values(c, "fine", "count-total-local", n=4)
        c.stop()
        self.assertEqual(stats_series(c, "broken"), set())
        self.assertEqual(stats_series(c, "fine"), ALL_SERIES)
        times = [t for t, _ in c.csv_values("fine", "count", "total-local")]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), 1.5)
        log = c.log()
        line = next(l for l in log.splitlines() if 'project "broken"' in l and "HTTP 500" in l)
        self.assertIn('error_code "HSS.1001"', line)
        self.assertIn('error_msg "internal error"', line)
        self.assertRegex(line, r"X-Request-Id [0-9a-f]{32}")
        self.assertLessEqual(log.count('project "broken" (account "prod"): GET'), 3,
                             "repeated failures must be rate-limited")

    def test_recovery_after_failures(self):
        self.sim.set_project("p-rec", status=503, body={"error_code": "APIGW.0201", "error_msg": "busy"}, times=2)
        c = self.collectd(self.token_account("prod", self.project("rec", "p-rec"))).start()
        self.wait_values(c, "rec", "count-total-local", n=2)
        c.stop()
        log = c.log()
        self.assertIn("HTTP 503", log)
        self.assertIn('project "rec" (account "prod"): polls succeed again', log)

    def test_invalid_json_dispatches_nothing(self):
        self.sim.set_project("p-junk", raw='{"repository_scan_num": 5, "cicd_')
        self.sim.set_project("p-arr", body=[1, 2, 3])
        c = self.collectd(self.token_account("prod", self.project("junk", "p-junk") +
                                             self.project("arr", "p-arr") +
                                             self.project("ok", "p-ok2"))).start()
        self.wait_values(c, "ok", "count-total-local", n=3)
        c.stop()
        self.assertEqual(stats_series(c, "junk"), set())
        self.assertEqual(stats_series(c, "arr"), set())
        log = c.log()
        self.assertIn('project "junk" (account "prod"): GET', log)
        self.assertIn("invalid JSON", log)
        self.assertIn("body is a JSON array, not an object", log)

    def test_body_over_one_mib_refused(self):
        self.sim.set_project("p-big", fault="big", big_bytes=2 * 1024 * 1024)
        c = self.collectd(self.token_account("prod", self.project("big", "p-big"))).start()
        wait_for(lambda: "larger than 1048576 bytes" in c.log(), 10, what="size refusal")
        c.stop()
        self.assertEqual(stats_series(c, "big"), set())

    def test_token_file_rotation(self):
        path = os.path.join(self.workdir, "rotating.token")
        with open(path, "w") as f:
            f.write("rotating-token-ONE\n")
        os.chmod(path, 0o600)
        self.sim.control("POST", "static-tokens", {"token": "rotating-token-ONE"})
        self.sim.control("POST", "static-tokens", {"token": "rotating-token-TWO"})
        block = f"""  <Account "file">
    Endpoint "{self.sim.url()}"
    CACert "{self.sim.ca}"
    TokenFile "{path}"
{self.project("rot", "p-rot")}  </Account>
"""
        c = self.collectd(block).start()
        self.wait_values(c, "rot", "count-total-local", n=2)
        tmp = path + ".new"
        with open(tmp, "w") as f:
            f.write("rotating-token-TWO\n")
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)  # as rotators do: a new inode
        wait_for(lambda: any(r["headers"].get("x-auth-token") == "rotating-token-TWO"
                             for r in self.sim.requests(route="hss")), 10, what="the new token in use")
        c.stop()
        used = [r["headers"]["x-auth-token"] for r in self.sim.requests(route="hss")]
        first_two = used.index("rotating-token-TWO")
        self.assertTrue(all(t == "rotating-token-TWO" for t in used[first_two:]))
        self.assertNoSecrets(c.log(), ["rotating-token-ONE", "rotating-token-TWO"])

    def test_wrong_static_token_is_reported(self):
        c = self.collectd(self.token_account("prod", self.project("tok", "p-tok"),
                                             token="wrong-token-ZZZ")).start()
        wait_for(lambda: "HTTP 401" in c.log(), 10, what="the 401")
        c.stop()
        self.assertIn("APIGW.0301", c.log())
        self.assertEqual(stats_series(c, "tok"), set())
        self.assertNoSecrets(c.log(), ["wrong-token-ZZZ"])

    def test_secret_echoed_by_the_server_is_redacted(self):
        self.sim.set_project("p-echo", status=401, body={
            "error_code": "APIGW.0301",
            "error_msg": f"token {STATIC_TOKEN} is not valid here; prefix {STATIC_TOKEN[:12]}"})
        c = self.collectd(self.token_account("prod", self.project("echo", "p-echo"))).start()
        wait_for(lambda: "HTTP 401" in c.log(), 10, what="the 401")
        c.stop()
        self.assertIn("token *** is not valid here", c.log())
        self.assertNoSecrets(c.log(), [STATIC_TOKEN])

    def test_shutdown_with_request_in_flight(self):
        self.sim.set_project("p-hang", fault="hang")
        c = self.collectd(self.token_account(
            "prod", self.project("hang", "p-hang", "      Interval 30\n"),
            extra="    Timeout 20000\n")).start()
        wait_for(lambda: "Initialization complete" in c.log(), 10, what="collectd start")
        time.sleep(1.5)  # the first poll is now hanging, 18 s before its timeout
        took = c.stop()
        self.assertLess(took, 2.5, f"collectd took {took:.1f} s to stop")

    def test_no_secret_anywhere_in_log_at_debug_level(self):
        block = (self.password_account("iam", self.project("s1", "p-sec1")) +
                 self.token_account("tok", self.project("s2", "p-sec2")))
        c = self.collectd(block, loglevel="debug").start()
        self.wait_values(c, "s1", "count-total-local", n=2)
        self.wait_values(c, "s2", "count-total-local", n=2)
        c.stop()
        issued = {r["headers"]["x-auth-token"] for r in self.sim.requests(route="hss")}
        self.assertNoSecrets(c.log(), [PASSWORD, STATIC_TOKEN] + sorted(issued))


class FileOpens:
    """Counts the times any process opens one file (inotify, through ctypes). Closes are
    watched too: the kernel merges an event into an identical unread one before it, so
    open, close, open, close... is the only way to see every open."""

    IN_CLOSE_NOWRITE = 0x10
    IN_OPEN = 0x20

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, os.fsencode(path), self.IN_OPEN | self.IN_CLOSE_NOWRITE) < 0:
            os.close(self.fd)
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
        self.opens = 0

    def count(self):
        """Opens seen so far."""
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return self.opens
            off = 0
            while off + 16 <= len(data):
                _wd, mask, _cookie, namelen = struct.unpack_from("iIII", data, off)
                if mask & self.IN_OPEN:
                    self.opens += 1
                off += 16 + namelen

    def close(self):
        os.close(self.fd)


class HttpsTest(IntegrationCase):
    """TLS is verified by default: without CACert the test CA is unknown."""

    def test_unknown_ca_refused_by_default(self):
        block = f"""  <Account "tls">
    Endpoint "{self.sim.url()}"
    Token "{STATIC_TOKEN}"
{self.project("tls", "p-tls")}  </Account>
"""
        c = self.collectd(block).start()
        wait_for(lambda: "TLS certificate verification failed" in c.log(), 10,
                 what="the TLS refusal")
        c.stop()
        self.assertEqual(stats_series(c, "tls"), set())
        self.assertEqual(self.sim.requests(route="hss"), [], "no request may reach the server")

    def test_ca_file_parsed_once_for_many_connections(self):
        """libcurl keeps the parsed CACert store for new connections. It does not when a CA
        directory is set as well, as Debian's libcurl default is; then every new TLS
        connection re-reads and re-parses the file (27 ms of CPU for the system bundle)."""
        ca = os.path.join(self.workdir, "ca-only-collectd-opens.pem")
        shutil.copy(self.sim.ca, ca)
        for pid in ("p-ca1", "p-ca2"):
            self.sim.set_project(pid, headers={"Connection": "close"})  # a new one each poll
        block = f"""  <Account "ca">
    Endpoint "{self.sim.url()}"
    CACert "{ca}"
    Token "{STATIC_TOKEN}"
{self.project("ca1", "p-ca1")}{self.project("ca2", "p-ca2")}  </Account>
"""
        opens = FileOpens(ca)
        try:
            c = self.collectd(block).start()
            wait_for(lambda: len(self.sim.requests(route="hss")) >= 8, 20, what="8 polls")
            c.stop()
            n = opens.count()
        finally:
            opens.close()
        reqs = self.sim.requests(route="hss")
        conns = {r["client_port"] for r in reqs}
        self.assertGreaterEqual(len(conns), 8, "every poll should have opened a connection")
        self.assertTrue(all(r["status"] == 200 for r in reqs), reqs)
        # One open when the configuration is checked, one for the first connection.
        self.assertLessEqual(n, 2, f"CACert opened {n} times for {len(conns)} connections")

    def test_new_connections_resume_the_tls_session(self):
        """The TLS session cache is shared: when the server closes the connection after each
        answer, every later poll's new connection resumes the session (no full handshake)."""
        self.sim.set_project("p-res", headers={"Connection": "close"})
        project = self.project("res", "p-res", "      Interval 1\n")
        block = f"""  <Account "res">
    Endpoint "{self.sim.url()}"
    CACert "{self.sim.ca}"
    Token "{STATIC_TOKEN}"
{project}  </Account>
"""
        c = self.collectd(block).start()
        wait_for(lambda: len(self.sim.requests(route="hss")) >= 4, 20, what="4 polls")
        c.stop()
        reqs = sorted(self.sim.requests(route="hss"), key=lambda r: r["ts"])
        self.assertTrue(all(r["status"] == 200 for r in reqs), reqs)
        self.assertEqual(len({r["client_port"] for r in reqs}), len(reqs),
                         "each poll should have needed a new connection")
        self.assertEqual([r["tls_resumed"] for r in reqs],
                         [False] + [True] * (len(reqs) - 1))

    def test_plain_http_needs_allow_insecure(self):
        block = f"""  <Account "plain">
    Endpoint "{self.sim.url('http')}"
    Token "{STATIC_TOKEN}"
{self.project("plain", "p-plain")}  </Account>
"""
        rc, out = self.collectd(block).test_run()
        self.assertNotEqual(rc, 0)
        self.assertIn('Account "plain": option "Endpoint"', out)
        self.assertIn("AllowInsecure", out)
        block = block.replace('    Token', '    AllowInsecure true\n    Token')
        rc, out = self.collectd(block).test_run()
        self.assertEqual(rc, 0, out)

    def test_redirect_not_followed(self):
        self.sim.set_project("p-redir", fault="redirect")
        c = self.collectd(self.token_account("prod", self.project("redir", "p-redir"))).start()
        wait_for(lambda: "HTTP 302" in c.log(), 10, what="the 302")
        c.stop()
        hss = self.sim.requests(route="hss")
        self.assertTrue(all(r["listener"] == "https" for r in hss), "redirect was followed")
        self.assertEqual(stats_series(c, "redir"), set())


class ConfigErrorTest(IntegrationCase):
    """A bad config makes collectd -T and a normal start fail, naming the option."""

    def check_rejected(self, block, *needles):
        rc, out = self.collectd(block).test_run()
        self.assertNotEqual(rc, 0, out)
        for n in needles:
            self.assertIn(n, out)
        c = self.collectd(block).start()
        c.proc.wait(15)
        self.assertNotEqual(c.proc.returncode, 0)
        text = c.log()
        for n in needles:
            self.assertIn(n, text)
        return out

    def test_missing_project_id(self):
        block = self.token_account("prod", '    <Project "x">\n      Interval 5\n    </Project>\n')
        self.check_rejected(block, 'Account "prod", Project "x"', '"ProjectId" is missing')

    def test_unknown_option(self):
        block = self.token_account("prod", self.project("x", "p"), extra="    Regoin \"cn-north-4\"\n")
        self.check_rejected(block, 'Account "prod": unknown option "Regoin"')

    def test_two_credential_methods(self):
        block = self.token_account("prod", self.project("x", "p"),
                                   extra='    Domain "d"\n    User "u"\n    Password "hunter2-secret"\n')
        out = self.check_rejected(block, 'Account "prod": two credential methods')
        self.assertNotIn("hunter2-secret", out)

    def test_unreadable_secret_file(self):
        block = f"""  <Account "f">
    Region "cn-north-4"
    TokenFile "{self.workdir}/does-not-exist.token"
{self.project("x", "p")}  </Account>
"""
        self.check_rejected(block, 'Account "f": option "TokenFile": cannot open')

    def test_duplicate_project_names(self):
        block = (self.token_account("a", self.project("same", "p1")) +
                 self.token_account("b", self.project("same", "p2")))
        self.check_rejected(block, 'Project "same"', "must be unique")

    def test_timeout_not_below_interval(self):
        block = self.token_account("prod", self.project("x", "p", "      Interval 5\n"),
                                   extra="    Timeout 5000\n")
        self.check_rejected(block, 'Account "prod": option "Timeout" (5000 ms) must be below the '
                                   'interval of Project "x"')

    def test_name_too_long(self):
        block = self.token_account("prod", self.project("n" * 128, "p"))
        self.check_rejected(block, "at most 127 fit")


if __name__ == "__main__":
    unittest.main()
