"""Self-monitoring in the real collectd: bool-up, duration-poll and
derive-poll_errors at every poll (success or failure), FAILURE / OKAY
notifications on state changes only, and log lines and notifications that
fit collectd's buffers without losing the cause."""

import re
import unittest

from harness import IntegrationCase, SELF_SERIES, VALGRIND, wait_for
from test_core import ALL_SERIES, PASSWORD, STATIC_TOKEN

# Under valgrind the process's first TLS handshake alone can take 1-2 s:
# these few tests then poll every 3 s with a 2.7 s Timeout.
INTERVAL = 3 if VALGRIND else 1
TIMEOUT_MS = 2700 if VALGRIND else 900
TIMEOUT = f"    Timeout {TIMEOUT_MS}\n"
GAP = 1.9 * INTERVAL + (1.0 if VALGRIND else 0.0)


class SelfMonitoringTest(IntegrationCase):

    def collectd(self, plugin_block, **kw):
        kw.setdefault("interval", INTERVAL)
        return super().collectd(plugin_block, **kw)

    @staticmethod
    def ups(c, project, host="testhost"):
        return c.csv_values(project, "bool", "up", host=host)

    @staticmethod
    def notes(c, project):
        return [n for n in c.notifications() if n.get("plugin_instance") == project]

    def test_success_dispatches_self_metrics_with_the_poll(self):
        c = self.collectd(self.token_account(
            "prod", self.project("ok", "p-ok", '      Host "hss"\n'), extra=TIMEOUT)).start()
        wait_for(lambda: len(self.ups(c, "ok", host="hss")) >= 3, 10, what="3 polls")
        c.stop()
        self.assertEqual(c.series("ok", host="hss", self_metrics=True), ALL_SERIES | SELF_SERIES)
        vls = [vl for vl in c.written_values(self_metrics=True) if vl["plugin_instance"] == "ok"]
        by_time = {}
        for vl in vls:
            by_time.setdefault(vl["time"], {})[f'{vl["type"]}-{vl["type_instance"]}'] = vl
        self.assertGreaterEqual(len(by_time), 3)
        for t, poll in by_time.items():
            # One timestamp per poll: the 17 statistics and the 3 self-metrics.
            self.assertEqual(set(poll), ALL_SERIES | SELF_SERIES, t)
            up, dur, err = poll["bool-up"], poll["duration-poll"], poll["derive-poll_errors"]
            self.assertEqual((up["dstypes"], up["values"]), (["gauge"], [1]))
            self.assertEqual(dur["dstypes"], ["gauge"])
            self.assertEqual(dur["dsnames"], ["seconds"])
            self.assertTrue(0 < dur["values"][0] < TIMEOUT_MS / 1000, dur["values"])
            self.assertEqual((err["dstypes"], err["values"]), (["derive"], [0]))
            for vl in (up, dur, err):
                self.assertEqual((vl["host"], vl["plugin"], vl["interval"]),
                                 ("hss", "hss_imgstats", float(INTERVAL)))
        self.assertEqual(self.notes(c, "ok"), [], "a first poll that succeeds notifies nothing")

    def test_failed_poll_dispatches_only_self_metrics(self):
        self.sim.set_project("p-no", status=400,
                             body={"error_code": "HSS.0013", "error_msg": "no permission"})
        c = self.collectd(self.token_account("prod", self.project("no", "p-no"), extra=TIMEOUT)).start()
        wait_for(lambda: len(self.ups(c, "no")) >= 3, 10, what="3 polls")
        c.stop()
        vls = [vl for vl in c.written_values(self_metrics=True) if vl["plugin_instance"] == "no"]
        self.assertEqual({f'{vl["type"]}-{vl["type_instance"]}' for vl in vls}, SELF_SERIES)
        self.assertEqual({vl["values"][0] for vl in vls if vl["type"] == "bool"}, {0})
        errors = [vl["values"][0] for vl in vls if vl["type"] == "derive"]
        self.assertEqual(errors, list(range(1, len(errors) + 1)), "poll_errors counts every failure")
        self.assertEqual(c.series("no"), set())
        self.assertEqual([n["severity"] for n in self.notes(c, "no")], ["FAILURE"],
                         "down -> down notifies nothing")

    def test_transitions_notify_once_each(self):
        # Queued answers: 500, 200, 200, 503, 503, then the default (200).
        self.sim.set_project("p-flap", status=500, times=1,
                             body={"error_code": "HSS.1001", "error_msg": "internal"})
        self.sim.set_project("p-flap", status=200, times=2)
        self.sim.set_project("p-flap", status=503, times=2)
        c = self.collectd(self.token_account("prod", self.project("flap", "p-flap"), extra=TIMEOUT)).start()
        wait_for(lambda: len(self.ups(c, "flap")) >= 7, 15, what="7 polls")
        c.stop()
        self.assertEqual([v for _, v in self.ups(c, "flap")][:7], [0, 1, 1, 0, 0, 1, 1])
        self.assertEqual([v for _, v in c.csv_values("flap", "derive", "poll_errors")][:7],
                         [1, 1, 1, 2, 3, 3, 3])
        notes = self.notes(c, "flap")
        self.assertEqual([n["severity"] for n in notes], ["FAILURE", "OKAY", "FAILURE", "OKAY"])
        self.assertIn("HTTP 500", notes[0]["message"])
        self.assertIn('error_code "HSS.1001"', notes[0]["message"])
        self.assertIn("HTTP 503", notes[2]["message"])
        for n in notes:
            self.assertIn('project "flap" (account "prod")', n["message"])
            self.assertEqual((n["host"], n["type"], n["type_instance"]), ("testhost", "bool", "up"))
        self.assertIn("polls succeed again", notes[1]["message"])

    def test_every_poll_reported_while_iam_backs_off(self):
        # IAM fails: the plugin backs off (5 s, ...) but still reports each
        # poll as down, and the FAILURE names the IAM problem.
        self.sim.control("POST", "iam", {"status": 500})
        c = self.collectd(self.password_account("iam", self.project("i", "p-iamdown"),
                                                extra=TIMEOUT)).start()
        wait_for(lambda: len(self.ups(c, "i")) >= 4, 10, what="4 polls")
        c.stop()
        self.assertLessEqual(len(self.sim.requests(route="iam")), 2)
        self.assertEqual({v for _, v in self.ups(c, "i")}, {0.0})
        times = [t for t, _ in self.ups(c, "i")]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), GAP)
        notes = self.notes(c, "i")
        self.assertEqual([n["severity"] for n in notes], ["FAILURE"])
        self.assertIn("IAM token request", notes[0]["message"])
        self.assertIn("HTTP 500", notes[0]["message"])
        self.assertNoSecrets(c.log(), [PASSWORD])

    def test_long_texts_fit_without_losing_the_cause(self):
        # A 224-character project id makes the URL long; an error_msg of
        # multi-byte characters is cut by the parser at 255 bytes.
        pid = "0123456789abcdef" * 14
        name = "n" * 60
        msg = "x" + "权限不足" * 40
        self.sim.set_project(pid, status=403, body={"error_code": "HSS.0004", "error_msg": msg})
        # Short names: the parser's 255-byte cut of error_msg reaches the log as is.
        self.sim.set_project("p-utf8", status=403, body={"error_code": "HSS.0004", "error_msg": msg})
        c = self.collectd(self.token_account("acct-" + "a" * 35, self.project(name, pid) +
                                             self.project("u", "p-utf8"), extra=TIMEOUT)).start()
        wait_for(lambda: len(self.ups(c, name)) >= 2 and len(self.ups(c, "u")) >= 2, 10,
                 what="2 polls")
        c.stop()
        with open(c.logfile, "rb") as f:
            raw = f.read()
        for l in raw.split(b"\n"):
            try:
                l.decode("utf-8")
            except UnicodeDecodeError:
                self.fail(f"a character was cut in half: {l!r}")
        text = raw.decode("utf-8")
        short = next(l for l in text.splitlines() if "[error]" in l and 'project "u"' in l)
        self.assertRegex(short, r'error_msg "x(权限不足)+(权|权限|权限不)?"')

        error = next(l for l in text.splitlines() if "[error]" in l and name in l)
        body = error.split("] ", 2)[2]  # after "[time] [error] "
        self.assertLessEqual(len(body.encode()), 511, "longer than collectd's c_complain buffer")
        self.assertTrue(body.endswith("; no statistics dispatched for this poll."), body)
        self.assertIn("HTTP 403", body)
        self.assertIn('error_code "HSS.0004"', body)
        rid = re.search(r"X-Request-Id ([0-9a-f]{32})", body)
        self.assertIsNotNone(rid, body)
        self.assertIn(rid.group(1), {r["request_id"] for r in self.sim.requests(route="hss")})

        notes = self.notes(c, name)
        self.assertEqual([n["severity"] for n in notes], ["FAILURE"])
        m = notes[0]["message"]
        self.assertLessEqual(len(m.encode()), 255)
        self.assertIn(f'project "{name}"', m)
        self.assertIn("HTTP 403", m, "the cause was cut off the notification")
        self.assertIn('error_code "HSS.0004"', m)
        self.assertIn(f"{self.sim.url()}/...", m, "the URL should have lost its path")
        self.assertNoSecrets(text, [STATIC_TOKEN])


if __name__ == "__main__":
    unittest.main()
