"""The fault matrix in the real collectd: every way the API, the network or
TLS can fail, one test each. Every test runs a faulty project next to a
healthy one (same account, or two accounts when the fault is the account's
endpoint) with Interval 1 and Timeout 900 ms and checks that

- collectd keeps running;
- the faulty project dispatched no statistics for a failed poll, only its
  self-metrics (bool-up = 0, duration-poll, derive-poll_errors);
- the healthy project kept flowing (gaps < 1.9 s);
- one log line names the project and the cause (error_code, X-Request-Id
  where the simulator sent them), and repeats are rate-limited;
- where the fault is scripted with "times", the project recovers without a
  restart: "polls succeed again", values resume, and an OKAY notification
  follows the FAILURE one (printed by collectd's logfile plugin).

Bad fields (wrong types, negatives, too large, floats, nulls, nested junk)
still dispatch the valid fields with up = 1. Shutdown is immediate with
requests hanging in several accounts and an IAM token request in flight.
"""

import re
import socket
import time
import unittest

from harness import (IntegrationCase, SELF_SERIES, TIME_FACTOR, VALGRIND,
                     wait_for)
from test_core import ALL_SERIES, FULL, PASSWORD, STATIC_TOKEN, expected_series

# The same under valgrind, where a first poll that times out is left out
# (see Collectd.warmup_poll): doubling every poll's time for the one-time
# TLS set-up would double the run.
INTERVAL = 1
TIMEOUT_MS = 900
TIMEOUT = f"    Timeout {TIMEOUT_MS}\n"
FAILS = 5              # failed polls per scripted fault: "~5 polls"
MAX_ERROR_LINES = 3    # c_complain logs the 1st, 2nd and 4th of 5 polls
GAP = 1.9 * INTERVAL + (1.0 if VALGRIND else 0.0)
DURATION_SLACK = 0.25 * TIME_FACTOR


def bounded_durations(durations):
    """The poll durations that must stay within Timeout + DURATION_SLACK: all of them, but
    under valgrind not the first. A new TLS connection's first handshake costs valgrind about
    a second of CPU inside one libcurl step, which no timeout can interrupt, and with other
    valgrind runs sharing the cores it has overshot the slack (2.30 s and 2.48 s seen, bound
    2.15 s)."""
    return durations[1:] if VALGRIND else durations


REQUEST_ID = re.compile(r"X-Request-Id ([0-9a-f]{32})")


def closed_port():
    """A loopback port with nothing listening (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FaultCase(IntegrationCase):
    """Shared checks for a faulty project "faulty" and a healthy "healthy"."""

    sim_extra_tls = (("untrusted", "untrusted.pem", "untrusted.key"),
                     ("wronghost", "wronghost.pem", "wronghost.key"),
                     ("expired", "expired.pem", "expired.key"))

    def collectd(self, plugin_block, **kw):
        kw.setdefault("interval", INTERVAL)
        return super().collectd(plugin_block, **kw)

    # -- reading what collectd wrote --------------------------------------------------------
    # Under valgrind a first poll that timed out is a warm-up (see
    # Collectd.warmup_poll): these readers leave it out.
    @staticmethod
    def raw_ups(c, project):
        return c.csv_values(project, "bool", "up")

    @classmethod
    def ups(cls, c, project):
        warm = c.warmup_poll(project, TIMEOUT_MS)
        return [r for r in cls.raw_ups(c, project) if warm is None or r[0] > warm]

    @staticmethod
    def error_lines(c, project):
        lines = [l for l in c.log().splitlines()
                 if "[error] hss_imgstats plugin:" in l and f'project "{project}" (account' in l]
        return lines[1:] if c.warmup_poll(project, TIMEOUT_MS) is not None else lines

    @classmethod
    def notifications(cls, c, project):
        """The project's notifications; after a warm-up that timed out, its
        FAILURE (and the OKAY right after it, if the next poll was up) are
        left out, and a FAILURE that stays for the fault gets "warmup":
        True (its message names the timeout, not the fault)."""
        notes = [n for n in c.notifications() if n.get("plugin_instance") == project]
        if c.warmup_poll(project, TIMEOUT_MS) is None or not notes:
            return notes
        ups = cls.ups(c, project)
        if ups and ups[0][1] == 1.0:
            return notes[2:]
        notes[0]["warmup"] = True
        return notes

    # -- configurations -----------------------------------------------------------------------
    def one_account(self, faulty_id="p-faulty"):
        """Faulty and healthy project in one token account."""
        return self.token_account("prod", self.project("faulty", faulty_id) +
                                  self.project("healthy", "p-healthy"), extra=TIMEOUT)

    def two_accounts(self, faulty_account):
        """The faulty project's own account block, and a healthy account."""
        return faulty_account + self.token_account(
            "good", self.project("healthy", "p-healthy"), extra=TIMEOUT)

    def endpoint_account(self, endpoint, name="bad"):
        """A token account with its own Endpoint (CACert = the test CA)."""
        return f"""  <Account "{name}">
    Endpoint "{endpoint}"
    CACert "{self.sim.ca}"
    Token "{STATIC_TOKEN}"
{TIMEOUT}{self.project("faulty", "p-faulty")}  </Account>
"""

    # -- assertions ---------------------------------------------------------------------------
    def assert_healthy(self, c, project="healthy", min_polls=4, gap=GAP):
        """The healthy project polled regularly, every value, up = 1."""
        times = [t for t, _ in c.csv_values(project, "count", "total-local")]
        self.assertGreaterEqual(len(times), min_polls, f"{project} did not keep flowing")
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), gap, f"{project} was delayed: gaps {gaps}")
        self.assertEqual(c.series(project), ALL_SERIES)
        self.assertEqual({v for _, v in self.ups(c, project)}, {1.0})
        warm_failures = 0.0 if c.warmup_poll(project, TIMEOUT_MS) is None else 1.0
        self.assertEqual({v for _, v in c.csv_values(project, "derive", "poll_errors")},
                         {warm_failures})
        self.assertEqual(self.notifications(c, project), [])
        self.assertEqual(self.error_lines(c, project), [])

    @staticmethod
    def last_complete_poll(c, project):
        """The time of the last poll whose three self-metrics were all written. collectd stops
        its write threads before it calls the plugins' shutdown callbacks and drops what is
        still queued, so a poll that ends while collectd stops can lose its last values (seen:
        bool-up written, derive-poll_errors not)."""
        lasts = [c.csv_values(project, *s.split("-", 1)) for s in sorted(SELF_SERIES)]
        return min(rows[-1][0] for rows in lasts) if all(lasts) else float("inf")

    def assert_stats_only_when_up(self, c, project):
        """No statistics value carries the timestamp of a failed poll, and
        every poll dispatched exactly one of each self-metric (up to the last
        poll that was written whole)."""
        end = self.last_complete_poll(c, project)
        rows_of = lambda type_, ti: [r for r in c.csv_values(project, type_, ti)  # noqa: E731
                                     if r[0] <= end]
        ups = [r for r in self.raw_ups(c, project) if r[0] <= end]  # the warm-up counts too
        up_times = {t for t, v in ups if v == 1.0}
        for s in c.series(project):
            type_, ti = s.split("-", 1)
            rows = rows_of(type_, ti)
            self.assertLessEqual({t for t, _ in rows}, up_times,
                                 f"{project}/{s} has a value from a failed poll")
            self.assertEqual(len(rows), len(up_times), f"{project}/{s}")
        self.assertLessEqual(c.series(project, self_metrics=True) - c.series(project),
                             SELF_SERIES)
        poll_times = [t for t, _ in ups]
        for s in ("duration-poll", "derive-poll_errors"):
            type_, ti = s.split("-", 1)
            self.assertEqual([t for t, _ in rows_of(type_, ti)], poll_times, s)
        # poll_errors counts the failed polls so far.
        errors = [v for _, v in rows_of("derive", "poll_errors")]
        failed = 0
        for (_, up), e in zip(ups, errors):
            failed += up == 0.0
            self.assertEqual(e, failed, f"poll_errors {errors} for up {[v for _, v in ups]}")

    def run_fault(self, behaviour, needles, *, block=None, recover=True, times=FAILS,
                  exact=True, request_id=True, notif_needles=None, account="prod",
                  secrets=(STATIC_TOKEN,)):
        """Runs collectd with the fault and checks everything common to all
        faults; returns (collectd, the first error line of "faulty").

        behaviour: the simulator config of p-faulty (None: the fault is in
        the block, e.g. a closed port); with recover, it is queued for
        `times` requests, then the default answer resumes. exact: the number
        of failed polls must be `times` (not with back-off, e.g. 429)."""
        if behaviour is not None:
            b = dict(behaviour)
            if recover:
                b["times"] = times
            self.sim.set_project("p-faulty", **b)
        c = self.collectd(block or self.one_account()).start()
        if recover:
            def recovered():
                vals = [v for _, v in self.ups(c, "faulty")]
                return 0.0 in vals and vals[-2:] == [1.0, 1.0]
            wait_for(recovered, 12 + times * 3, what="failures, then two good polls of faulty")
        else:
            wait_for(lambda: len(self.ups(c, "faulty")) >= FAILS, 15,
                     what=f"{FAILS} polls of faulty")
        wait_for(lambda: len(c.csv_values("healthy", "count", "total-local")) >= 4, 10,
                 what="4 polls of healthy")
        self.assertTrue(c.alive(), "collectd died")
        c.stop()
        log = c.log()

        # Up / down and the values of each poll.
        vals = [v for _, v in self.ups(c, "faulty")]
        self.assertEqual(vals[0], 0.0, "the first poll should have failed")
        if recover:
            self.assertEqual(vals, sorted(vals), f"up went down again: {vals}")
            if exact and c.warmup_poll("faulty", TIMEOUT_MS) is not None:
                # The warm-up may or may not have used up a scripted answer.
                self.assertIn(vals.count(0.0), (times - 1, times), f"failed polls: {vals}")
            elif exact:
                self.assertEqual(vals.count(0.0), times, f"failed polls: {vals}")
            self.assertEqual(c.series("faulty"), ALL_SERIES, "values did not resume")
            self.assertIn(f'project "faulty" (account "{account}"): polls succeed again', log)
        else:
            self.assertEqual(set(vals), {0.0})
            self.assertEqual(c.series("faulty"), set(), "a failed poll dispatched statistics")
            self.assertEqual(c.series("faulty", self_metrics=True), SELF_SERIES)
        self.assert_stats_only_when_up(c, "faulty")
        for _, d in bounded_durations(c.csv_values("faulty", "duration", "poll")):
            self.assertLessEqual(d, TIMEOUT_MS / 1000 + DURATION_SLACK, "Timeout not enforced")

        # One clear line, rate-limited.
        lines = self.error_lines(c, "faulty")
        self.assertTrue(lines, "the failure was not logged")
        first = lines[0]
        self.assertIn(f'project "faulty" (account "{account}")', first)
        for n in needles:
            self.assertIn(n, first)
        self.assertIn("no statistics dispatched for this poll", first)
        if request_id:
            m = REQUEST_ID.search(first)
            self.assertIsNotNone(m, f"no X-Request-Id in: {first}")
            sent = {r["request_id"] for r in self.sim.requests(route="hss", project_id="p-faulty")}
            self.assertIn(m.group(1), sent, "the logged X-Request-Id is not the server's")
        failed_polls = vals.count(0.0)
        self.assertLessEqual(len(lines), min(MAX_ERROR_LINES, failed_polls),
                             "repeated failures must be rate-limited:\n" + "\n".join(lines))

        # FAILURE when it went down, OKAY when it came back, nothing else.
        notes = self.notifications(c, "faulty")
        self.assertEqual([n["severity"] for n in notes], ["FAILURE", "OKAY"] if recover else ["FAILURE"],
                         notes)
        self.assertEqual((notes[0]["type"], notes[0]["type_instance"], notes[0]["host"]),
                         ("bool", "up", "testhost"))
        self.assertIn('project "faulty"', notes[0]["message"])
        for n in (needles[:1] if notif_needles is None else notif_needles):
            if not notes[0].get("warmup"):
                self.assertIn(n, notes[0]["message"])
        self.assertLessEqual(len(notes[0]["message"].encode()), 255)
        if recover:
            self.assertIn('project "faulty"', notes[1]["message"])
            self.assertIn("succeed again", notes[1]["message"])

        self.assert_healthy(c)
        self.assertNoSecrets(log, secrets)
        return c, first


class HttpFaultTest(FaultCase):
    """Error statuses from the API gateway or HSS."""

    def test_400_hss0013_no_permission(self):
        body = {"error_code": "HSS.0013", "error_msg": "The user has no permission for this operation."}
        self.run_fault({"status": 400, "body": body},
                                 ["HTTP 400", 'error_code "HSS.0013"',
                                  'error_msg "The user has no permission for this operation."'],
                                 notif_needles=["HTTP 400", 'error_code "HSS.0013"'])

    def test_401_static_token_reported_not_retried(self):
        self.run_fault({"status": 401}, ["HTTP 401", 'error_code "APIGW.0301"'])
        hss = self.sim.requests(route="hss", project_id="p-faulty")
        self.assertEqual([r["status"] for r in hss].count(401), FAILS,
                         "a static token cannot be renewed: one request per poll, no retry")
        self.assertEqual(self.sim.requests(route="iam"), [])

    def test_401_iam_expired_token_refreshed_once(self):
        # Under valgrind, a first IAM request that timed out would start the
        # IAM back-off: give this test's polls time enough there.
        interval, timeout = (3, 2700) if VALGRIND else (INTERVAL, TIMEOUT_MS)
        gap = 1.9 * interval + (1.0 if VALGRIND else 0.0)
        block = self.password_account("iam", self.project("faulty", "p-faulty") +
                                      self.project("healthy", "p-healthy"),
                                      extra=f"    Timeout {timeout}\n")
        c = self.collectd(block, interval=interval).start()
        wait_for(lambda: len(self.ups(c, "faulty")) >= 2, 10, what="2 polls of faulty")
        self.assertEqual(len(self.sim.requests(route="iam", project_id="p-faulty")), 1)
        self.sim.set_project("p-faulty", status=401, times=1,
                             body={"error_code": "APIGW.0307", "error_msg": "The token has expired."})
        scripted = time.time()
        wait_for(lambda: len([t for t, _ in self.ups(c, "faulty") if t > scripted + 0.2]) >= 3,
                 10, what="3 polls of faulty after the 401")
        self.assertTrue(c.alive())
        c.stop()
        hss = self.sim.requests(route="hss", project_id="p-faulty")
        statuses = [r["status"] for r in hss]
        self.assertEqual(statuses.count(401), 1, statuses)
        i = statuses.index(401)
        self.assertEqual(statuses[i + 1], 200, "no retry right after the 401")
        self.assertNotEqual(hss[i]["headers"]["x-auth-token"], hss[i + 1]["headers"]["x-auth-token"],
                            "the retry must use a new token")
        self.assertEqual(len(self.sim.requests(route="iam", project_id="p-faulty")), 2,
                         "exactly one extra IAM request")
        self.assertEqual(len(self.sim.requests(route="iam", project_id="p-healthy")), 1)
        # The refresh is invisible: every poll up, no gap, no error, no notification.
        self.assertEqual({v for _, v in self.ups(c, "faulty")}, {1.0})
        times = [t for t, _ in c.csv_values("faulty", "count", "total-local")]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), gap)
        self.assertEqual(self.error_lines(c, "faulty"), [])
        self.assertEqual(self.notifications(c, "faulty"), [])
        self.assert_stats_only_when_up(c, "faulty")
        self.assert_healthy(c, gap=gap)
        self.assertNoSecrets(c.log(), [PASSWORD] + [r["headers"]["x-auth-token"] for r in hss])

    def test_403(self):
        self.run_fault({"status": 403}, ["HTTP 403", 'error_code "SIM.403"'])

    def test_404(self):
        self.run_fault({"status": 404}, ["HTTP 404", 'error_code "APIGW.0101"'])

    def test_500(self):
        self.run_fault({"status": 500, "body": {"error_code": "HSS.1001", "error_msg": "internal error"}},
                       ["HTTP 500", 'error_code "HSS.1001"', 'error_msg "internal error"'])

    def test_502(self):
        self.run_fault({"status": 502, "raw": "<html>Bad Gateway</html>",
                        "headers": {"Content-Type": "text/html"}}, ["HTTP 502"])

    def test_503(self):
        self.run_fault({"status": 503, "body": {"error_code": "APIGW.0201", "error_msg": "busy"}},
                       ["HTTP 503", 'error_code "APIGW.0201"', 'error_msg "busy"'])


class ThrottleTest(FaultCase):
    """429: whatever the scheduler does about it (pause the account, honour
    Retry-After), the poll dispatches no statistics, it is logged with
    APIGW.0308, others keep flowing and polling resumes. The faulty project
    has its own account: throttling is per user, so a pause may cover the
    whole account."""

    def throttled(self, headers):
        b = {"status": 429}
        if headers:
            b["headers"] = headers
        block = self.two_accounts(self.token_account("bad", self.project("faulty", "p-faulty"),
                                                     extra=TIMEOUT))
        self.run_fault(b, ["HTTP 429", 'error_code "APIGW.0308"'], block=block, times=2,
                       exact=False, account="bad")
        # After a pause, polling resumes at once, but never sooner than the Interval after
        # the poll before (the request times, from the second on: the first also waited for
        # the TLS set-up).
        if not VALGRIND:
            times = sorted(r["ts"] for r in self.sim.requests(route="hss", project_id="p-faulty"))
            gaps = [b - a for a, b in zip(times[1:], times[2:])]
            self.assertGreater(min(gaps), INTERVAL - 0.05, f"polled sooner than Interval: {gaps}")

    def test_429_with_retry_after(self):
        self.throttled({"Retry-After": "1"})

    def test_429_without_retry_after(self):
        self.throttled(None)


class TransportFaultTest(FaultCase):
    """The connection or the body fails."""

    def test_connection_refused(self):
        block = self.two_accounts(self.endpoint_account(f"https://127.0.0.1:{closed_port()}"))
        self.run_fault(None, ["cannot connect", "127.0.0.1"], block=block, recover=False,
                       request_id=False, account="bad")

    def test_connection_reset_mid_body(self):
        self.run_fault({"fault": "reset"}, ["transfer failed", "Connection reset"],
                       request_id=False)

    def test_connection_closed_without_answer(self):
        # libcurl resends a GET once when a reused connection closes before
        # answering, so a poll may use up two scripted answers: not exact.
        self.run_fault({"fault": "close"}, ["transfer failed", "Empty reply from server"],
                       request_id=False, exact=False)

    def test_hang_bounded_by_timeout(self):
        c, _ = self.run_fault({"fault": "hang"}, ["timed out", "0 bytes received"],
                                 request_id=False)
        # Each hung poll took the Timeout, not more; the healthy project was
        # not delayed (assert_healthy checked its gaps).
        failed = [d for (_, up), (_, d) in zip(self.raw_ups(c, "faulty"),
                                               c.csv_values("faulty", "duration", "poll"))
                  if up == 0.0]
        if c.warmup_poll("faulty", TIMEOUT_MS) is None:
            self.assertEqual(len(failed), FAILS)
        else:
            self.assertIn(len(failed), (FAILS, FAILS + 1))
        for d in failed:
            self.assertGreaterEqual(d, TIMEOUT_MS / 1000 - 0.05)
        for d in bounded_durations(failed):
            self.assertLessEqual(d, TIMEOUT_MS / 1000 + DURATION_SLACK)

    def test_trickle_times_out(self):
        # The default body (~290 bytes) at one byte per 200 ms needs ~58 s.
        self.run_fault({"fault": "trickle", "trickle_ms": 200}, ["timed out"], request_id=False)

    def test_truncated_body(self):
        self.run_fault({"fault": "truncate"}, ["transfer failed", "transfer closed with"],
                       request_id=False)

    def test_body_over_one_mib(self):
        self.run_fault({"fault": "big", "big_bytes": 2 * 1024 * 1024},
                       ["response body is larger than 1048576 bytes; refused"], request_id=False)

    def test_redirect_not_followed_token_not_leaked(self):
        self.run_fault({"fault": "redirect"}, ["HTTP 302"])
        reqs = self.sim.requests()
        self.assertTrue(reqs)
        self.assertEqual([r for r in reqs if r["listener"] != "https"], [],
                         "the redirect was followed")
        self.assertEqual({r["listener"] for r in reqs if "x-auth-token" in r["headers"]}, {"https"})


class BodyFaultTest(FaultCase):
    """200 answers whose body is not a statistics object."""

    def test_invalid_json(self):
        self.run_fault({"raw": '{"repository_scan_num": 5, "cicd_'},
                       ["HTTP 200 but invalid JSON", "unexpected end of body"])

    def test_json_array(self):
        self.run_fault({"body": [1, 2, 3]}, ["HTTP 200 but body is a JSON array, not an object"])

    def test_json_string(self):
        self.run_fault({"body": "statistics"}, ["HTTP 200 but body is a JSON string, not an object"])

    def test_nesting_beyond_limit(self):
        raw = '{"repository_scan_num": 5, "junk": ' + "[" * 40 + "]" * 40 + "}"
        self.run_fault({"raw": raw}, ["HTTP 200 but invalid JSON", "nesting too deep"])


class TlsFaultTest(FaultCase):
    """Certificates the default settings must refuse, each with a message
    saying which problem it is. No HTTP request reaches those servers."""

    def refused(self, listener, why):
        block = self.two_accounts(self.endpoint_account(self.sim.url(listener)))
        self.run_fault(None, ["TLS certificate verification failed", why], block=block,
                       recover=False, request_id=False, account="bad",
                       notif_needles=[why])
        self.assertEqual([r for r in self.sim.requests() if r["listener"] == listener], [],
                         "a request (with the token) reached a server that failed verification")

    def test_unknown_ca(self):
        self.refused("untrusted", "unable to get local issuer certificate")

    def test_host_name_mismatch(self):
        self.refused("wronghost", "no alternative certificate subject name matches")

    def test_expired_certificate(self):
        self.refused("expired", "certificate has expired")


class BadFieldTest(FaultCase):
    """Bodies with some bad fields: the valid ones are dispatched, the bad
    ones skipped with one rate-limited warning, and the poll counts as up."""

    def check_fields(self, body, want, skipped, raw=None):
        """want: {series: value} dispatched; skipped: texts the warning must
        hold (none: no warning at all)."""
        if raw is not None:
            self.sim.set_project("p-faulty", raw=raw)
        else:
            self.sim.set_project("p-faulty", body=body)
        c = self.collectd(self.one_account()).start()
        wait_for(lambda: len(self.ups(c, "faulty")) >= FAILS, 15, what=f"{FAILS} polls of faulty")
        wait_for(lambda: len(c.csv_values("healthy", "count", "total-local")) >= 4, 10,
                 what="4 polls of healthy")
        self.assertTrue(c.alive())
        c.stop()
        self.assertEqual({v for _, v in self.ups(c, "faulty")}, {1.0})
        self.assertEqual(c.series("faulty"), set(want))
        for s, value in want.items():
            type_, ti = s.split("-", 1)
            self.assertEqual({v for _, v in c.csv_values("faulty", type_, ti)}, {value}, s)
        self.assert_stats_only_when_up(c, "faulty")
        log = c.log()
        warnings = [l for l in log.splitlines() if 'project "faulty": skipped fields:' in l]
        if skipped:
            self.assertTrue(warnings, "the bad fields were not reported")
            self.assertLessEqual(len(warnings), MAX_ERROR_LINES, "the warning is not rate-limited")
            self.assertIn("[warning]", warnings[0])
            for s in skipped:
                self.assertIn(s, warnings[0])
        else:
            self.assertEqual(warnings, [])
        self.assertEqual(self.error_lines(c, "faulty"), [])
        self.assertEqual(self.notifications(c, "faulty"), [])
        self.assert_healthy(c)

    def test_wrong_types(self):
        body = {"repository_scan_num": "5", "cicd_scan_num": True, "free_quota_num": [1],
                "image_free_quota": {"n": 1}, "already_given": 1,
                "high_risk": {"local": "x", "registriy": 2, "cicd": 3},
                "has_risk": 7, "total": [1, 2], "unscan": {"local": 4}}
        self.check_fields(body, {"count-high_risk-registry": 2.0, "count-high_risk-cicd": 3.0,
                                 "count-unscan-local": 4.0},
                          ["repository_scan_num: wrong type", "cicd_scan_num: wrong type",
                           "free_quota_num: wrong type", "image_free_quota: wrong type",
                           "already_given: wrong type", "high_risk.local: wrong type",
                           "has_risk.local: enclosing field is not an object",
                           # 12 bad fields do not fit in one of collectd's 511-byte
                           # c_complain lines: the list ends with a count instead.
                           " more; the other fields were dispatched."])

    def test_negatives(self):
        body = dict(FULL, repository_scan_num=-1, total={"local": -2147483648, "registriy": 0, "cicd": 9})
        want = expected_series(FULL)
        del want["count-repository_scan_num"], want["count-total-local"]
        want["count-total-registry"] = 0.0
        self.check_fields(body, want, ["repository_scan_num: out of range",
                                       "total.local: out of range"])

    def test_values_over_int32(self):
        raw = ('{"repository_scan_num": 2147483648, "cicd_scan_num": 9223372036854775808, '
               '"free_quota_num": 2147483647, "total": {"local": 99999999999999999999999, "cicd": 1}}')
        self.check_fields(None, {"count-free_quota_num": 2147483647.0, "count-total-cicd": 1.0},
                          ["repository_scan_num: out of range", "cicd_scan_num: out of range",
                           "total.local:"], raw=raw)

    def test_floats(self):
        raw = ('{"repository_scan_num": 3.5, "cicd_scan_num": 1.0, "free_quota_num": 1e3, '
               '"image_free_quota": 4, "unscan": {"cicd": 0.1, "local": 6}}')
        self.check_fields(None, {"count-image_free_quota": 4.0, "count-unscan-local": 6.0},
                          ["repository_scan_num: wrong type", "cicd_scan_num: wrong type",
                           "free_quota_num: wrong type", "unscan.cicd: wrong type"], raw=raw)

    def test_nulls_are_absent_not_errors(self):
        body = {"repository_scan_num": None, "cicd_scan_num": 10, "already_given": None,
                "high_risk": None, "total": {"local": None, "registriy": 8, "cicd": None}}
        self.check_fields(body, {"count-cicd_scan_num": 10.0, "count-total-registry": 8.0}, [])

    def test_deeply_nested_junk(self):
        deep = {"a": [{"b": [{"c": [[[[{"d": [1, {"e": None}]}]]]]}]}]}  # depth 12 under the root
        body = {"repository_scan_num": deep, "cicd_scan_num": 3, "junk": deep,
                "total": {"local": [[[[[[1]]]]]], "cicd": 4, "extra": deep},
                "has_risk": {"registriy": {"x": deep}}}
        self.check_fields(body, {"count-cicd_scan_num": 3.0, "count-total-cicd": 4.0},
                          ["repository_scan_num: wrong type", "total.local: wrong type",
                           "has_risk.registriy: wrong type"])


class ShutdownTest(FaultCase):
    """SIGTERM with requests hanging: collectd exits at once (well within
    Timeout + 2 s)."""

    def test_shutdown_with_hangs_in_two_accounts_and_iam_in_flight(self):
        for pid in ("p-h1", "p-h2", "p-h3", "p-h4"):
            self.sim.set_project(pid, fault="hang")
        self.sim.control("POST", "iam", {"delay_ms": 60000})
        slow = "    Timeout 20000\n"
        interval = "      Interval 30\n"
        block = (self.token_account("a", self.project("h1", "p-h1", interval) +
                                    self.project("h2", "p-h2", interval), extra=slow) +
                 self.token_account("b", self.project("h3", "p-h3", interval) +
                                    self.project("h4", "p-h4", interval), extra=slow) +
                 self.password_account("iam", self.project("i1", "p-i1", interval), extra=slow))
        c = self.collectd(block).start()
        wait_for(lambda: len(self.sim.requests(route="hss")) >= 4, 15, what="4 hanging requests")
        time.sleep(1.0)  # the IAM request is in flight too (it answers after 60 s)
        self.assertEqual(self.sim.requests(route="iam"), [], "IAM should still be delaying")
        self.assertTrue(c.alive())
        took = c.stop()
        if not VALGRIND:  # valgrind's leak check alone takes seconds
            self.assertLess(took, 2.5, f"collectd took {took:.1f} s to stop")
            self.assertEqual(c.proc.returncode, 0)
        self.assertIn("Exiting normally", c.log())
        self.assertEqual({r["project_id"] for r in self.sim.requests(route="hss")},
                         {"p-h1", "p-h2", "p-h3", "p-h4"})
        for p in ("h1", "h2", "h3", "h4", "i1"):
            self.assertEqual(c.series(p), set(), "an abandoned poll dispatched something")


if __name__ == "__main__":
    unittest.main()
