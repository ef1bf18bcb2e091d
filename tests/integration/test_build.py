"""The build as an operator runs it: configure's checks and messages, the
install locations, and make distcheck. Works on a copy of the tree so the
developer's own build is untouched."""

import glob
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import REPO


def tracked_files():
    """Files of the source tree (tracked and new, minus ignored ones)."""
    res = subprocess.run(["git", "-C", REPO, "ls-files", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, text=True)
    if res.returncode != 0:
        raise unittest.SkipTest("not a git checkout")
    return [f for f in res.stdout.splitlines() if os.path.exists(os.path.join(REPO, f))]


def run(cmd, cwd, env=None, timeout=600):
    full_env = dict(os.environ)
    full_env.update(env or {})
    res = subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True,
                         timeout=timeout)
    return res.returncode, res.stdout + res.stderr


class BuildTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hss-build-")
        cls.src = os.path.join(cls.tmp, "src")
        for f in tracked_files():
            dst = os.path.join(cls.src, f)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.join(REPO, f), dst)
        rc, out = run(["autoreconf", "-fi"], cls.src)
        if rc != 0:
            raise AssertionError("autoreconf failed:\n" + out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def build_dir(self, name):
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        return d

    def test_missing_collectd_headers(self):
        rc, out = run([os.path.join(self.src, "configure"),
                       "--with-collectd-include=/nonexistent/collectd"], self.build_dir("nohdr"))
        self.assertNotEqual(rc, 0)
        self.assertIn("collectd plugin headers not found in /nonexistent/collectd", out)
        self.assertIn("collectd-dev", out)

    def test_missing_libcurl(self):
        empty = self.build_dir("empty-pc")
        rc, out = run([os.path.join(self.src, "configure")], self.build_dir("nocurl"),
                      env={"PKG_CONFIG_LIBDIR": empty, "PKG_CONFIG_PATH": ""})
        self.assertNotEqual(rc, 0)
        self.assertIn("libcurl >= 7.87 development files not found", out)

    def test_missing_json_c(self):
        only_curl = self.build_dir("curl-only-pc")
        for pc in glob.glob("/usr/lib/*/pkgconfig/libcurl.pc") + glob.glob("/usr/lib/pkgconfig/libcurl.pc"):
            shutil.copy(pc, only_curl)
        rc, out = run([os.path.join(self.src, "configure")], self.build_dir("nojson"),
                      env={"PKG_CONFIG_LIBDIR": only_curl, "PKG_CONFIG_PATH": ""})
        self.assertNotEqual(rc, 0)
        self.assertIn("json-c development files not found", out)

    def test_install_locations(self):
        b = self.build_dir("inst")
        rc, out = run([os.path.join(self.src, "configure"), "--prefix=/usr",
                       "--sysconfdir=/etc"], b)
        self.assertEqual(rc, 0, out)
        rc, out = run(["make", f"-j{os.cpu_count() or 2}"], b)
        self.assertEqual(rc, 0, out)
        dest = os.path.join(self.tmp, "destdir")
        rc, out = run(["make", "install", f"DESTDIR={dest}"], b)
        self.assertEqual(rc, 0, out)
        self.assertTrue(os.path.isfile(os.path.join(dest, "usr/lib/collectd/hss_imgstats.so")),
                        "default plugin dir is $libdir/collectd = /usr/lib/collectd")
        self.assertTrue(os.path.isfile(os.path.join(
            dest, "etc/collectd/collectd.conf.d/hss_imgstats.conf.example")))
        self.assertEqual(glob.glob(os.path.join(dest, "usr/lib/collectd/*.la")), [],
                         "no libtool archive in collectd's plugin dir")
        # --with-collectd-plugindir overrides it.
        b2 = self.build_dir("inst2")
        rc, out = run([os.path.join(self.src, "configure"), "--prefix=/usr",
                       "--with-collectd-plugindir=/opt/collectd/plugins"], b2)
        self.assertEqual(rc, 0, out)
        rc, out = run(["make", f"-j{os.cpu_count() or 2}", "install", f"DESTDIR={dest}2"], b2)
        self.assertEqual(rc, 0, out)
        self.assertTrue(os.path.isfile(os.path.join(dest + "2", "opt/collectd/plugins/hss_imgstats.so")))

    def test_distcheck(self):
        b = self.build_dir("dist")
        rc, out = run([os.path.join(self.src, "configure")], b)
        self.assertEqual(rc, 0, out)
        rc, out = run(["make", f"-j{os.cpu_count() or 2}", "distcheck"], b, timeout=900)
        self.assertEqual(rc, 0, out[-4000:])
        self.assertIn("archives ready for distribution", out)
        tarballs = glob.glob(os.path.join(b, "hss_imgstats-*.tar.gz"))
        self.assertEqual(len(tarballs), 1)
        # The tarball builds the same module as the tree: same exported
        # symbols, same sources compiled.
        rc, out = run(["make", f"-j{os.cpu_count() or 2}"], b)
        self.assertEqual(rc, 0, out)
        x = self.build_dir("from-tarball")
        rc, out = run(["tar", "xzf", tarballs[0], "-C", x], x)
        self.assertEqual(rc, 0, out)
        top = glob.glob(os.path.join(x, "hss_imgstats-*"))[0]
        rc, out = run(["./configure", "-q"], top)
        self.assertEqual(rc, 0, out)
        rc, out = run(["make", f"-j{os.cpu_count() or 2}"], top)
        self.assertEqual(rc, 0, out)

        def exported(so):
            res = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True)
            return sorted(line.split()[-1] for line in res.stdout.splitlines())
        tree_so = os.path.join(b, ".libs", "hss_imgstats.so")
        dist_so = os.path.join(top, ".libs", "hss_imgstats.so")
        self.assertEqual(exported(dist_so), exported(tree_so))
        self.assertIn("module_register", exported(dist_so))
        objs = lambda d: sorted(os.path.basename(f) for f in glob.glob(os.path.join(d, "src", "*.lo")))
        self.assertEqual(objs(top), objs(b))


if __name__ == "__main__":
    unittest.main()


class DocsTest(unittest.TestCase):
    """README, the man page and the example config agree with the code."""

    def options_in_code(self):
        import re
        with open(os.path.join(REPO, "src", "hss_config.c")) as f:
            code = f.read()
        return set(re.findall(r'strcasecmp\(c->key, "([A-Za-z]+)"\)', code)) - {"Project", "Account"}

    def test_every_option_documented(self):
        options = self.options_in_code()
        self.assertGreater(len(options), 15)
        with open(os.path.join(REPO, "README.md")) as f:
            readme = f.read()
        with open(os.path.join(REPO, "doc", "collectd-hss_imgstats.5")) as f:
            man = f.read()
        for opt in sorted(options):
            self.assertIn(f"`{opt}`", readme, f"README does not document {opt}")
            self.assertIn(f"\\fB{opt}\\fR", man, f"the man page does not document {opt}")

    def test_metric_names_documented(self):
        import re
        with open(os.path.join(REPO, "src", "metrics.c")) as f:
            names = set(re.findall(r'"(count|bool)",\s*"([a-z_-]+)"', f.read()))
        self.assertEqual(len(names), 17)
        with open(os.path.join(REPO, "README.md")) as f:
            readme = f.read()
        for _type, ti in names:
            self.assertIn(ti, readme)
