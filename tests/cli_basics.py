"""The hpcbuild command line as a whole: every command has --help, unknown
commands and options fail with status 2 and one line on stderr."""
import sys, os
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import Tally, run_cli

COMMANDS = ["version", "spec", "matchspec", "requirement", "marker", "depurl"]
t = Tally()

rc, out, err = run_cli("--help")
t.check("help", rc == 0 and all(c in out for c in COMMANDS), "hpcbuild --help lists every command")
rc, out, err = run_cli()
t.check("help", rc == 2 and "usage" in err, "hpcbuild with no command prints usage and exits 2")
rc, out, err = run_cli("--version")
t.check("help", rc == 0 and out.startswith("hpcbuild "), "hpcbuild --version")
for c in COMMANDS:
    rc, out, err = run_cli(c, "--help")
    t.check("help", rc == 0 and "usage: hpcbuild " + c in out, "%s --help: rc=%d out=%r" % (c, rc, out[:80]))

rc, out, err = run_cli("frobnicate")
t.check("errors", rc == 2 and "unknown command 'frobnicate'" in err, "unknown command: %r" % err)
rc, out, err = run_cli("version", "compare", "1", "2")
t.check("errors", rc == 2 and "--ecosystem" in err and err.count("\n") == 1, "missing --ecosystem: %r" % err)
rc, out, err = run_cli("version", "compare", "--ecosystem", "npm", "1", "2")
t.check("errors", rc == 2 and "unknown ecosystem 'npm'" in err, "bad ecosystem: %r" % err)
rc, out, err = run_cli("version", "frob", "--ecosystem", "pypi")
t.check("errors", rc == 2 and "unknown subcommand" in err, "bad subcommand: %r" % err)
rc, out, err = run_cli("spec", "contains", "--ecosystem", "pypi", "--bogus", ">=1", "1")
t.check("errors", rc == 2 and "unknown option '--bogus'" in err, "bad option: %r" % err)
t.finish()
