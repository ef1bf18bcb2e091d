"""End to end into real stores: collectd's write_graphite into a real
carbon-cache, and collectd's network plugin into a real InfluxDB 1.x; the
series names, tags and values read back are the ones README promises."""

import unittest

from harness import IntegrationCase, wait_for
from sinks import Carbon, Influx, available
from test_core import FULL, SEED, expected_series


@unittest.skipUnless(available("carbon-cache", "whisper-fetch"), "graphite-carbon not installed")
class GraphiteTest(IntegrationCase):

    def test_series_in_whisper(self):
        carbon = Carbon(self.workdir)
        self.addCleanup(carbon.stop)
        self.sim.set_project("p-g-full", body=FULL)
        self.sim.set_project("p-g-seed", body=SEED)
        block = self.token_account("prod", self.project("web-prod", "p-g-full", '      Host "hss"\n') +
                                   self.project("seed", "p-g-seed", '      Host "hss"\n'))
        extra = f"""<LoadPlugin write_graphite>
  FlushInterval 1
</LoadPlugin>
<Plugin write_graphite>
  <Node "carbon">
    Host "127.0.0.1"
    Port "{carbon.line_port}"
    Protocol "tcp"
  </Node>
</Plugin>
"""
        c = self.collectd(block, extra=extra,
                          stock=("csv", "logfile", "write_log", "write_graphite")).start()
        want = {f"hss.hss_imgstats-web-prod.{s}": v for s, v in expected_series(FULL).items()}
        want.update({f"hss.hss_imgstats-seed.{s}": v for s, v in expected_series(SEED).items()})
        self.assertEqual(len(want), 22)
        for path in want:
            wait_for(lambda p=path: carbon.values(p), 30, interval=0.5, what=f"whisper {path}")
        c.stop()
        self_metrics = (".bool-up", ".duration-poll", ".derive-poll_errors")
        stored = {p for p in carbon.paths()
                  if p.startswith("hss.hss_imgstats-") and not p.endswith(self_metrics)}
        self.assertEqual(stored, set(want), "exactly the promised series, none for omitted fields")
        for path, value in want.items():
            self.assertEqual({v for _, v in carbon.values(path)}, {value}, path)


@unittest.skipUnless(available("influxd"), "influxdb not installed")
class InfluxTest(IntegrationCase):

    def test_series_in_influxdb(self):
        influx = Influx(self.workdir)
        self.addCleanup(influx.stop)
        self.sim.set_project("p-i-full", body=FULL)
        self.sim.set_project("p-i-seed", body=SEED)
        block = self.token_account("prod", self.project("web-prod", "p-i-full", '      Host "hss"\n') +
                                   self.project("seed", "p-i-seed", '      Host "hss"\n'))
        extra = f"""<LoadPlugin network>
  FlushInterval 1
</LoadPlugin>
<Plugin network>
  Server "127.0.0.1" "{influx.udp_port}"
</Plugin>
"""
        c = self.collectd(block, extra=extra, stock=("csv", "logfile", "write_log", "network")).start()
        query = ('SELECT last("value") FROM "hss_imgstats_value" WHERE "host" = \'hss\' '
                 'AND ("type" = \'count\' OR "type_instance" = \'already_given\') '
                 'GROUP BY "instance", "type", "type_instance"')

        def complete():
            rows = influx.rows(query)
            return rows if len(rows) >= 22 else None
        rows = wait_for(complete, 40, interval=0.5, what="22 series in InfluxDB")
        c.stop()
        got = {(r["instance"], f'{r["type"]}-{r["type_instance"]}'): r["last"] for r in rows}
        want = {("web-prod", s): v for s, v in expected_series(FULL).items()}
        want.update({("seed", s): v for s, v in expected_series(SEED).items()})
        self.assertEqual(got, want)
        # The README's query works as written.
        readme = influx.rows('SELECT last("value") FROM "hss_imgstats_value" '
                             'WHERE "instance" = \'web-prod\' AND "type_instance" = \'high_risk-registry\'')
        self.assertEqual([r["last"] for r in readme], [2.0])


if __name__ == "__main__":
    unittest.main()
