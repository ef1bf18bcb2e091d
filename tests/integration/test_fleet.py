"""Fleet behaviour in the real collectd: rate budgets against a simulator
that enforces them, 429 back-off, concurrency that a hung account cannot
block, and sharding one config across several pollers."""

import hashlib
import os
import time
import unittest

from harness import VALGRIND, IntegrationCase, wait_for
from test_core import ALL_SERIES, stats_series


def rendezvous_owner(key, pollers):
    """Independent re-implementation of the plugin's shard rule."""
    def weight(p):
        return int.from_bytes(hashlib.sha256(p.encode() + b"\0" + key.encode()).digest()[:8], "big")
    return max(sorted(pollers), key=weight)


class BudgetTest(IntegrationCase):
    # The simulator throttles at 5 calls per 2 s, per user and per source IP.
    sim_args = ("--rate-limit", "5:2")

    def projects(self, n, prefix):
        return "".join(self.project(f"{prefix}{i}", f"p-{prefix}{i}") for i in range(n))

    def test_budget_respected_no_429_every_project_polled(self):
        block = ("  RateLimit 5 2\n" +
                 self.token_account("prod", self.projects(4, "b"), extra="    RateLimit 5 2\n"))
        c = self.collectd(block, unlimited=False).start()
        time.sleep(10)
        c.stop()
        hss = self.sim.requests(route="hss")
        self.assertEqual([r for r in hss if r["status"] == 429], [], "the budget was exceeded")
        for i in range(4):
            polled = [r for r in hss if r["project_id"] == f"p-b{i}" and r["status"] == 200]
            self.assertGreaterEqual(len(polled), 3, f"project b{i} starved")
        # 4 projects wanting 1 s, 5 calls per 2 s (+ margin): about 2.5 s each.
        log = c.log()
        self.assertIn('project "b0" (account "prod"): the rate budget', log)
        self.assertIn("not every 1 s as configured", log)
        # Calls are spread, not bursty: no two within 0.2 s.
        times = sorted(r["ts"] for r in hss)
        self.assertGreater(min(b - a for a, b in zip(times, times[1:])), 0.2)

    def test_threads_share_the_budget(self):
        """Threads 2: the four accounts go to two threads, which split the plugin's budget
        (5 calls per 2 s): still no 429 and every project polled."""
        block = "  RateLimit 5 2\n  Threads 2\n" + "".join(
            self.token_account(f"t{a}", self.projects(2, f"t{a}x"), extra="    RateLimit 5 2\n")
            for a in range(4))
        c = self.collectd(block, unlimited=False).start()
        wait_for(lambda: "thread 2 of 2" in c.log(), 10, what="the second thread's plan")
        threads = [t for t in os.listdir(f"/proc/{c.proc.pid}/task")
                   if open(f"/proc/{c.proc.pid}/task/{t}/comm").read().strip() == "hss_imgstats"]
        time.sleep(10)
        c.stop()
        if not VALGRIND:  # under valgrind the threads keep valgrind's names
            self.assertEqual(len(threads), 2, "Threads 2 should run two polling threads")
        log = c.log()
        self.assertIn("thread 1 of 2 polls 4 of the 8 projects", log)
        self.assertIn("thread 2 of 2 polls 4 of the 8 projects", log)
        hss = self.sim.requests(route="hss")
        self.assertEqual([r for r in hss if r["status"] == 429], [], "the budget was exceeded")
        for a in range(4):
            for i in range(2):
                polled = [r for r in hss if r["project_id"] == f"p-t{a}x{i}" and r["status"] == 200]
                self.assertGreaterEqual(len(polled), 2, f"project t{a}x{i} starved")

    def test_429_backs_off_and_recovers(self):
        # Misconfigured: the plugin believes it may call 50 times a second.
        block = ("  RateLimit 50 1\n" +
                 self.token_account("prod", self.projects(3, "t"), extra="    RateLimit 50 1\n"))
        c = self.collectd(block, unlimited=False).start()
        time.sleep(8)
        c.stop()
        hss = self.sim.requests(route="hss")
        throttled = [r for r in hss if r["status"] == 429]
        ok = [r for r in hss if r["status"] == 200]
        self.assertTrue(throttled, "the simulator should have throttled")
        self.assertGreaterEqual(len(ok), 10, "polling did not recover after the pauses")
        # After each 429 the account pauses (the simulator's Retry-After is
        # at least 1 s): no request may start in the next 0.9 s, except
        # those already in flight when the 429 arrived.
        for r in throttled:
            answered = r["ts"] + r["duration_ms"] / 1000.0
            too_soon = [q for q in hss if answered + 0.05 < q["ts"] < answered + 0.9]
            self.assertEqual(too_soon, [], f"requests right after a 429 at {answered:.2f}")
        log = c.log()
        self.assertIn("HTTP 429 (throttled), Retry-After", log)
        self.assertIn('account "prod" pauses for', log)
        self.assertIn("APIGW.0308", log)
        self.assertTrue(c.csv_values("t0", "count", "total-local"))


class ConcurrencyTest(IntegrationCase):

    def run_until_live_polled(self, block):
        """Runs collectd with block until project "live" (Interval 1) has six polls; they
        must be at most 1.6 s apart. Returns the stopped collectd."""
        c = self.collectd(block).start()
        wait_for(lambda: len(c.csv_values("live", "count", "total-local")) >= 6, 15,
                 what="six polls of the live account")
        c.stop()
        times = [t for t, _ in c.csv_values("live", "count", "total-local")]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), 1.6, f"the live account was delayed: {gaps}")
        return c

    def test_hung_account_does_not_stop_another(self):
        self.sim.set_project("p-hung", fault="hang")
        block = (self.token_account("dead", self.project("hung", "p-hung"), extra="    Timeout 900\n") +
                 self.token_account("live", self.project("live", "p-live")))
        c = self.run_until_live_polled(block)
        self.assertEqual(stats_series(c, "hung"), set())
        self.assertIn('project "hung" (account "dead"): GET', c.log())
        self.assertIn("timed out", c.log())

    def test_dead_accounts_cannot_take_every_slot(self):
        """Two dead accounts with more projects than MaxConcurrency, each poll retried as soon
        as its Timeout ends, would keep every slot busy: the live account keeps a slot and its
        interval."""
        for i in range(12):
            self.sim.set_project(f"p-dead{i}", fault="hang")
        block = "  MaxConcurrency 4\n" + "".join(
            self.token_account(f"dead{a}", "".join(
                self.project(f"dead{i}", f"p-dead{i}") for i in range(a * 6, a * 6 + 6)),
                extra="    Timeout 900\n") for a in range(2)) + self.token_account(
                    "live", self.project("live", "p-live"))
        c = self.run_until_live_polled(block)
        hss = self.sim.requests(route="hss")
        self.assertGreater(len({r["project_id"] for r in hss if r["project_id"] != "p-live"}), 3,
                           "the dead account should still have been tried")

    def test_concurrent_round(self):
        # 12 projects with 300 ms latency each: one round takes ~one latency.
        for i in range(12):
            self.sim.set_project(f"p-c{i}", delay_ms=300)
        block = self.token_account("many", "".join(self.project(f"c{i}", f"p-c{i}", "      Interval 30\n")
                                                   for i in range(12)),
                                   extra="    Timeout 5000\n")
        c = self.collectd("  MaxConcurrency 16\n" + block).start()
        wait_for(lambda: all(c.csv_values(f"c{i}", "count", "total-local") for i in range(12)), 15,
                 what="a first poll of every project")
        c.stop()
        hss = self.sim.requests(route="hss")
        starts = [r["ts"] for r in hss]
        self.assertLess(max(starts) - min(starts), 0.25, "the round was not concurrent")


class Http2Test(IntegrationCase):
    """Against a server that offers HTTP/2 (Huawei Cloud's API Gateway can), every request
    to the host shares one connection, whichever account it carries."""

    sim_args = ("--http2",)

    def test_all_accounts_multiplexed_on_one_connection(self):
        for i in range(8):
            self.sim.set_project(f"p-m{i}", delay_ms=300)
        block = "".join(
            self.token_account(f"acct{a}", "".join(
                self.project(f"m{i}", f"p-m{i}", "      Interval 30\n")
                for i in range(a * 4, a * 4 + 4)), extra="    Timeout 5000\n")
            for a in range(2))
        c = self.collectd("  MaxConcurrency 16\n" + block).start()
        # derive-poll_errors is a poll's last value: once it is written, so is the rest.
        wait_for(lambda: all(c.csv_values(f"m{i}", "derive", "poll_errors") for i in range(8)),
                 15, what="a first poll of every project")
        c.stop()
        hss = self.sim.requests(route="hss")
        self.assertEqual({r["protocol"] for r in hss}, {"h2"})
        self.assertEqual(len({r["client_port"] for r in hss}), 1,
                         "the requests did not share one connection")
        starts = [r["ts"] for r in hss]
        self.assertLess(max(starts) - min(starts), 0.25, "the round was not concurrent")
        for i in range(8):
            self.assertEqual(stats_series(c, f"m{i}"), ALL_SERIES)


class ShardingTest(IntegrationCase):

    def test_three_pollers_disjoint_and_complete(self):
        names = [f"proj{i:02d}" for i in range(12)]
        pollers = ["host-a", "host-b", "host-c"]
        projects = "".join(self.project(n, f"p-{n}", '      Host "hss"\n') for n in names)
        block_for = lambda me: (f'  Pollers "host-a" "host-b" "host-c"\n  PollerName "{me}"\n' +
                                self.token_account("fleet", projects))
        instances = {me: self.collectd(block_for(me), hostname=me).start() for me in pollers}
        for me, c in instances.items():
            wait_for(lambda c=c: "owns" in c.log(), 10, what=f"{me} start-up")
        time.sleep(3)
        owned = {}
        for me, c in instances.items():
            c.stop()
            owned[me] = {n for n in names if stats_series(c, n, host="hss")}
        for a in pollers:
            for b in pollers:
                if a < b:
                    self.assertEqual(owned[a] & owned[b], set(), f"{a} and {b} both poll")
        self.assertEqual(set().union(*owned.values()), set(names), "a project nobody polls")
        for me in pollers:
            self.assertEqual(owned[me], {n for n in names if rendezvous_owner(n, pollers) == me})
            self.assertIn(f'poller "{me}" owns {len(owned[me])} of 12 projects', instances[me].log())
        # Each project was polled by exactly one host, as the simulator saw it.
        seen = {r["project_id"] for r in self.sim.requests(route="hss")}
        self.assertEqual(seen, {f"p-{n}" for n in names})

    def test_pollers_split_an_account_budget_in_whole_calls(self):
        """Two pollers share one credential, enforced at 5 calls per 2 s per user: each
        takes whole calls of that window in proportion to its projects (never a stretched
        window, whose calls could bunch up with the other poller's), so no 429."""
        self.sim.control("POST", "rate-limit", {"calls": 5, "seconds": 2, "per": "user"})
        names = [f"split{i}" for i in range(8)]
        projects = "".join(self.project(n, f"p-{n}") for n in names)
        block_for = lambda me: (f'  RateLimit 100 1\n  Pollers "host-a" "host-b"\n'
                                f'  PollerName "{me}"\n' +
                                self.token_account("shared", projects,
                                                   extra="    RateLimit 5 2\n"))
        instances = [self.collectd(block_for(me), hostname=me, unlimited=False).start()
                     for me in ("host-a", "host-b")]
        time.sleep(12)
        for c in instances:
            c.stop()
        hss = self.sim.requests(route="hss")
        self.assertEqual([r for r in hss if r["status"] == 429], [], "the budget was exceeded")
        ok = {r["project_id"] for r in hss if r["status"] == 200}
        self.assertEqual(ok, {f"p-{n}" for n in names}, "a project was never polled")

    def test_poller_not_listed_polls_nothing(self):
        block = ('  Pollers "host-a" "host-b"\n  PollerName "host-z"\n' +
                 self.token_account("fleet", self.project("x", "p-x")))
        c = self.collectd(block).start()
        wait_for(lambda: "owns 0 of 1 projects" in c.log(), 10, what="start-up")
        time.sleep(1.5)
        c.stop()
        self.assertIn('this poller\'s name "host-z" is not in Pollers', c.log())
        self.assertEqual(self.sim.requests(route="hss"), [])


if __name__ == "__main__":
    unittest.main()
