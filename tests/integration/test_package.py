"""The Debian package: dpkg-buildpackage turns the tree into a .deb that
depends on the collectd-core it was built against; installed, collectd loads
the plugin from /usr/lib/collectd and values flow; purge leaves nothing."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import IntegrationCase, wait_for
from test_build import run, tracked_files

PACKAGE = "hss-imgstats"
FILES = ["/usr/lib/collectd/hss_imgstats.so",
         "/etc/collectd/collectd.conf.d/hss_imgstats.conf.example",
         "/usr/share/man/man5/collectd-hss_imgstats.5.gz",
         "/usr/share/doc/hss-imgstats"]


def installed(package):
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                         capture_output=True, text=True)
    return res.returncode == 0 and "installed" in res.stdout and "not-installed" not in res.stdout


@unittest.skipUnless(shutil.which("dpkg-buildpackage") and os.geteuid() == 0,
                     "needs dpkg-dev, debhelper and root")
class PackageTest(IntegrationCase):

    def test_build_install_load_purge(self):
        if installed(PACKAGE):
            self.skipTest(f"{PACKAGE} is already installed on this machine; not touching it")
        tmp = tempfile.mkdtemp(prefix="hss-deb-")
        self.addCleanup(shutil.rmtree, tmp, True)
        src = os.path.join(tmp, "hss-imgstats")
        for f in tracked_files():
            dst = os.path.join(src, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__)))), f), dst)
        rc, out = run(["dpkg-buildpackage", "-us", "-uc", "-b"], src, timeout=900)
        self.assertEqual(rc, 0, out[-4000:])
        debs = glob.glob(os.path.join(tmp, f"{PACKAGE}_*.deb"))
        self.assertEqual(len(debs), 1, os.listdir(tmp))
        rc, out = run(["dpkg-deb", "-f", debs[0], "Depends"], tmp)
        version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "collectd-core"],
                                 capture_output=True, text=True).stdout.rsplit("-", 1)[0]
        self.assertIn(f"collectd-core (>= {version})", out)
        self.assertIn(f"collectd-core (<< {version}.1~)", out)

        self.addCleanup(run, ["dpkg", "--purge", PACKAGE], tmp)
        rc, out = run(["dpkg", "-i", debs[0]], tmp)
        self.assertEqual(rc, 0, out)
        for f in FILES:
            self.assertTrue(os.path.exists(f), f)

        # Values from the installed module, loaded from /usr/lib/collectd.
        c = self.collectd(self.token_account("pkg", self.project("deb", "p-deb")),
                          plugindir="/usr/lib/collectd").start()
        wait_for(lambda: c.csv_values("deb", "count", "total-local"), 20, what="values")
        c.stop()
        self.assertIn('plugin "hss_imgstats" successfully loaded', c.log())

        rc, out = run(["dpkg", "--purge", PACKAGE], tmp)
        self.assertEqual(rc, 0, out)
        self.assertFalse(installed(PACKAGE))
        for f in FILES:
            self.assertFalse(os.path.exists(f), f"{f} left behind after purge")


if __name__ == "__main__":
    unittest.main()
