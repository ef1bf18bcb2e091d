"""AK/SK signing, temporary credentials and ECS metadata credentials inside
the real collectd daemon, against the simulator's own signature checker."""

import time
import unittest

from harness import IntegrationCase, wait_for
from test_core import ALL_SERIES, stats_series

AK = "AKPERMANENT0000000001"
SK = "SKpermanent-s3cret-key-0000000000000001"
TEMP_AK = "AKTEMPORARY000000001"
TEMP_SK = "SKtemporary-s3cret-key-000000000000001"
TEMP_TOKEN = "ST-temporary-security-token-" + "x" * 200


class AkSkTest(IntegrationCase):
    sim_static_tokens = ()
    # A permanent AK/SK known to the simulator; metadata credentials live 20 s.
    sim_args = ("--aksk", f"{AK}:{SK}", "--metadata-ttl", "20")

    def account(self, name, creds, projects):
        return f"""  <Account "{name}">
    Endpoint "{self.sim.url()}"
    CACert "{self.sim.ca}"
{creds}{projects}  </Account>
"""

    def wait_series(self, c, project, n=1, timeout=15):
        return wait_for(lambda: len(c.csv_values(project, "count", "total-local")) >= n
                        and stats_series(c, project) == ALL_SERIES,
                        timeout, what=f"{n} full polls of {project}")

    def test_permanent_aksk_every_value(self):
        block = self.account("ak", f'    AccessKey "{AK}"\n    SecretKey "{SK}"\n',
                             self.project("signed", "p-ak", '      EnterpriseProjectId "all granted/é"\n'))
        c = self.collectd(block).start()
        self.wait_series(c, "signed", n=3)
        c.stop()
        reqs = self.sim.requests(route="hss", project_id="p-ak")
        self.assertTrue(reqs)
        self.assertTrue(all(r["status"] == 200 and r["auth"] == "aksk" for r in reqs), reqs[:1])
        h = reqs[0]["headers"]
        self.assertIn("SignedHeaders=host;x-project-id;x-sdk-date,", h["authorization"])
        self.assertEqual(h["x-project-id"], "p-ak")
        self.assertNotIn("x-security-token", h)
        self.assertNoSecrets(c.log(), [SK])

    def test_secret_key_file(self):
        import os
        path = os.path.join(self.workdir, "sk")
        with open(path, "w") as f:
            f.write(SK + "\n")
        os.chmod(path, 0o600)
        block = self.account("akf", f'    AccessKey "{AK}"\n    SecretKeyFile "{path}"\n',
                             self.project("skfile", "p-akf"))
        c = self.collectd(block).start()
        self.wait_series(c, "skfile", n=2)
        c.stop()
        self.assertNoSecrets(c.log(), [SK])

    def test_temporary_aksk_every_value(self):
        self.sim.control("POST", "aksk", {"access": TEMP_AK, "secret": TEMP_SK,
                                          "security_token": TEMP_TOKEN,
                                          "expires_at": time.time() + 3600})
        block = self.account("tmp", f'    AccessKey "{TEMP_AK}"\n    SecretKey "{TEMP_SK}"\n'
                                    f'    SecurityToken "{TEMP_TOKEN}"\n',
                             self.project("temp", "p-tmp"))
        c = self.collectd(block).start()
        self.wait_series(c, "temp", n=2)
        c.stop()
        reqs = self.sim.requests(route="hss", project_id="p-tmp")
        self.assertTrue(all(r["status"] == 200 for r in reqs))
        self.assertIn("x-security-token", reqs[0]["headers"]["authorization"])
        self.assertNoSecrets(c.log(), [TEMP_SK, TEMP_TOKEN])

    def metadata_account(self, name, projects):
        return self.account(name, f'    MetadataCredentials true\n'
                                  f'    MetadataURL "{self.sim.url("http")}/openstack/latest/securitykey"\n',
                            projects)

    def test_metadata_credentials_every_value(self):
        block = self.metadata_account("ecs", self.project("m1", "p-m1") + self.project("m2", "p-m2"))
        c = self.collectd(block).start()
        self.wait_series(c, "m1", n=3)
        self.wait_series(c, "m2", n=3)
        c.stop()
        meta = self.sim.requests(route="metadata")
        self.assertEqual(len(meta), 1, "credentials are shared by the account's projects and cached")
        self.assertTrue(all(r["status"] == 200 for r in self.sim.requests(route="hss")))
        creds = self.sim.control("GET", "aksk")
        secrets = [c_["secret"] for c_ in creds if c_.get("origin") == "metadata"]
        secrets += [c_.get("security_token") for c_ in creds if c_.get("origin") == "metadata"]
        self.assertTrue(secrets)
        self.assertNoSecrets(c.log(), [s for s in secrets if s])

    def test_metadata_rotation_without_gap(self):
        # Credentials live 20 s; the plugin renews them before expiry.
        block = self.metadata_account("rot", self.project("rot", "p-rot"))
        c = self.collectd(block).start()
        t0 = time.time()
        wait_for(lambda: len({r["access_key"] for r in self.sim.requests(route="hss")}) >= 2,
                 40, interval=0.5, what="a second access key in use")
        n_before = len(c.csv_values("rot", "count", "total-local"))
        wait_for(lambda: len(c.csv_values("rot", "count", "total-local")) >= n_before + 3, 10,
                 what="values after the rotation")
        c.stop()
        hss = self.sim.requests(route="hss")
        self.assertEqual([r["status"] for r in hss if r["status"] != 200], [],
                         "no request may be refused around a rotation")
        times = [t for t, _ in c.csv_values("rot", "count", "total-local") if t > t0]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertLess(max(gaps), 1.9, f"a poll was lost: {gaps}")
        self.assertGreaterEqual(len(self.sim.requests(route="metadata")), 2)
        self.assertIn("obtained metadata credentials", c.log())

    def test_metadata_401_refreshes_once_and_retries(self):
        block = self.metadata_account("r401", self.project("r401", "p-r401"))
        c = self.collectd(block).start()
        self.wait_series(c, "r401", n=2)
        # The gateway refuses the credentials once: the plugin must fetch them
        # again at once and retry, losing no poll.
        self.sim.set_project("p-r401", status=401, times=1,
                             body={"error_code": "APIGW.0301", "error_msg": "security token invalid"})
        refused_at = time.time()
        wait_for(lambda: any(r["status"] == 401 for r in self.sim.requests(route="hss")), 10,
                 what="the 401")
        wait_for(lambda: [t for t, _ in c.csv_values("r401", "count", "total-local") if t > refused_at + 1],
                 10, what="values after the 401")
        c.stop()
        meta = self.sim.requests(route="metadata")
        self.assertEqual(len(meta), 2, "one fetch at start, one right after the 401")
        hss = self.sim.requests(route="hss")
        i401 = next(i for i, r in enumerate(hss) if r["status"] == 401)
        self.assertEqual(hss[i401 + 1]["status"], 200, "the retry came right after the new fetch")
        self.assertLess(hss[i401 + 1]["ts"] - hss[i401]["ts"], 0.8, "the retry was not immediate")
        times = [t for t, _ in c.csv_values("r401", "count", "total-local")]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), 1.9, "a poll was lost")

    def test_metadata_failure_backs_off(self):
        self.sim.control("POST", "metadata", {"status": 500})
        block = self.metadata_account("bad", self.project("mf", "p-mf"))
        c = self.collectd(block).start()
        time.sleep(5)
        c.stop()
        self.assertLessEqual(len(self.sim.requests(route="metadata")), 2, "tight retry loop")
        self.assertEqual(stats_series(c, "mf"), set())
        self.assertIn("metadata request to", c.log())
        self.assertIn("HTTP 500", c.log())

    def test_wrong_secret_key(self):
        block = self.account("wrong", f'    AccessKey "{AK}"\n    SecretKey "not-the-right-key"\n',
                             self.project("wrong", "p-wrong"))
        c = self.collectd(block).start()
        wait_for(lambda: "HTTP 401" in c.log(), 10, what="the 401")
        c.stop()
        self.assertEqual(stats_series(c, "wrong"), set())
        line = next(l for l in c.log().splitlines() if 'project "wrong"' in l and "HTTP 401" in l)
        self.assertIn("APIGW.0301", line)
        self.assertIn("verify aksk signature fail", line)
        self.assertNoSecrets(c.log(), ["not-the-right-key"])

    def test_clock_skew_is_explained(self):
        self.sim.control("POST", "clock", {"offset": 3600})
        block = self.account("skew", f'    AccessKey "{AK}"\n    SecretKey "{SK}"\n',
                             self.project("skew", "p-skew"))
        rc, out = self.collectd(block).test_run()
        self.assertNotEqual(rc, 0)
        self.assertIn("the local clock differs from the server's by more than 15 minutes", out)

    def test_no_secret_at_debug_level(self):
        self.sim.control("POST", "aksk", {"access": TEMP_AK, "secret": TEMP_SK,
                                          "security_token": TEMP_TOKEN,
                                          "expires_at": time.time() + 3600})
        block = (self.account("p", f'    AccessKey "{AK}"\n    SecretKey "{SK}"\n', self.project("d1", "p-d1")) +
                 self.account("t", f'    AccessKey "{TEMP_AK}"\n    SecretKey "{TEMP_SK}"\n'
                                   f'    SecurityToken "{TEMP_TOKEN}"\n', self.project("d2", "p-d2")) +
                 self.metadata_account("m", self.project("d3", "p-d3")))
        c = self.collectd(block, loglevel="debug").start()
        for p in ("d1", "d2", "d3"):
            self.wait_series(c, p, n=2)
        c.stop()
        meta = [x for x in self.sim.control("GET", "aksk") if x.get("origin") == "metadata"]
        secrets = [SK, TEMP_SK, TEMP_TOKEN] + [m["secret"] for m in meta] + \
                  [m["security_token"] for m in meta if m.get("security_token")]
        self.assertNoSecrets(c.log(), secrets)


if __name__ == "__main__":
    unittest.main()
