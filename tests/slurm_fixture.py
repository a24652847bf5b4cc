"""The test Slurm (tests/lib/slurm.py) is real: Debian's slurmctld and slurmd schedule batch
jobs submitted the way hpcbuild's Slurm executor submits them (sbatch --parsable --job-name
--output [--dependency=afterok:ID]), and the behaviour the executor relies on holds:

  A (sleep 2) and C (independent) run at once on the node's 2 cpus; B (afterok:A) starts
  only after A ended; D exits 3 (FAILED, ExitCode 3:0) and its dependant E never runs:
  by default E stays PENDING with Reason=DependencyNeverSatisfied until scancel (then
  CANCELLED), with kill_invalid_depend Slurm cancels it itself.
  squeue -h -j IDS (no -t) drops finished jobs; squeue -t all and scontrol show job still
  report them (MinJobAge); sacct fails because accounting storage is off; jobcomp.txt has a
  line per finished job.  A cluster that cannot start raises SlurmUnavailable with the log
  tails, and nothing survives a cluster's with-block.

Prints SKIP and exits 77 where Slurm cannot run (not root, not installed), unless
HPCBUILD_REQUIRE_SLURM=1.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import slurm  # noqa: E402
from hbtest import Tally  # noqa: E402

t = Tally()
T0 = time.monotonic()
STAMP = 'echo "$1 $(date +%s.%N)"'


def submit(c, name, body, *opts):
    """Writes a batch script and submits it as the executor does; returns the job id."""
    script = os.path.join(c.dir, name + ".sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\nstamp() { %s; }\n%s\n" % (STAMP, body))
    out = subprocess.run(["sbatch", "--parsable", "--job-name", name,
                          "--output", os.path.join(c.dir, name + ".log"), "--cpus-per-task", "1",
                          *opts, script], capture_output=True, text=True, env=c.env)
    t.check("sbatch", out.returncode == 0 and out.stdout.strip().isdigit(),
            "sbatch %s: rc %d %s%s" % (name, out.returncode, out.stdout, out.stderr))
    return int(out.stdout.strip().split(";")[0])


def stamps(c, name):
    """{'start': t, 'end': t, ...} from the job's log (lines 'word epoch'), plus 'text'."""
    res = {"text": ""}
    try:
        with open(os.path.join(c.dir, name + ".log"), encoding="utf-8") as f:
            for line in f:
                res["text"] += line
                word, _, val = line.strip().partition(" ")
                try:
                    res[word] = float(val)
                except ValueError:
                    pass
    except OSError:
        pass
    return res


def run(c, *argv):
    return subprocess.run(list(argv), capture_output=True, text=True, env=c.env)


def reason(c, jid):
    return run(c, "squeue", "-h", "-j", str(jid), "-o", "%T|%r").stdout.strip()


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    t.check("wait", False, "timed out waiting for " + what)
    return None


def dependency_graph(c):
    seen = {}  # job id -> set of states squeue reported

    def watch():
        for jid, state in c.squeue().items():
            seen.setdefault(jid, set()).add(state)

    a = submit(c, "A", "stamp start; sleep 2; echo A; stamp end")
    b = submit(c, "B", "stamp start; echo B", "--dependency=afterok:%d" % a)
    cc = submit(c, "C", "stamp start; sleep 2; stamp end")
    # while A runs, B waits on its dependency
    wait_for(lambda: (watch(), c.squeue([a]).get(a) == "RUNNING")[1], 15, "A running")
    t.check("pending", reason(c, b) == "PENDING|Dependency", "B: %r" % reason(c, b))
    d = submit(c, "D", "stamp start; exit 3")
    e = submit(c, "E", "stamp start; echo E", "--dependency=afterok:%d" % d)
    # default Slurm 22.05: E stays pending, its reason says the dependency can never be met
    never = wait_for(lambda: (watch(), reason(c, e) == "PENDING|DependencyNeverSatisfied")[1],
                     20, "E DependencyNeverSatisfied")
    t.check("never-satisfied", never, "E: %r" % reason(c, e))
    show_e = run(c, "scontrol", "show", "job", str(e)).stdout
    t.check("never-satisfied", "Dependency=afterok:%d(failed)" % d in show_e, show_e)
    wait_for(lambda: (watch(), set(c.squeue([a, b, cc, d]).values()) <= {"COMPLETED", "FAILED"})[1],
             20, "A B C D finished")
    # the executor's poll: squeue without -t lists no finished job (an empty answer, rc 0)
    poll = run(c, "squeue", "-h", "-j", "%d,%d,%d,%d" % (a, b, cc, d), "-o", "%i|%T")
    t.check("quirks", poll.returncode == 0 and poll.stdout == "", "squeue -j finished: %r" % (poll,))
    final = c.squeue([a, b, cc, d])
    t.check("states", final == {a: "COMPLETED", b: "COMPLETED", cc: "COMPLETED", d: "FAILED"},
            repr(final))
    show_d = run(c, "scontrol", "show", "job", str(d)).stdout
    t.check("quirks", "JobState=FAILED Reason=NonZeroExitCode" in show_d and "ExitCode=3:0" in show_d,
            show_d)
    sacct = run(c, "sacct", "-j", str(a))
    t.check("quirks", sacct.returncode != 0 and "accounting storage is disabled" in sacct.stderr,
            repr(sacct))
    # per job, --kill-on-invalid-dep=yes makes Slurm cancel the dependant itself
    f = submit(c, "F", "exit 4")
    g = submit(c, "G", "echo G", "--dependency=afterok:%d" % f, "--kill-on-invalid-dep=yes")
    t0 = time.monotonic()
    wait_for(lambda: (watch(), c.squeue([g]).get(g) == "CANCELLED")[1], 20, "G cancelled by Slurm")
    print("G cancelled %.1f s after submission" % (time.monotonic() - t0))
    show_g = run(c, "scontrol", "show", "job", str(g)).stdout
    t.check("kill-on-invalid-dep", "JobState=CANCELLED Reason=DependencyNeverSatisfied" in show_g, show_g)
    # cancelling the stuck dependant ends it as CANCELLED
    run(c, "scancel", str(e))
    wait_for(lambda: (watch(), c.squeue([e]).get(e) == "CANCELLED")[1], 10, "E cancelled")
    c.wait_idle()

    for jid, want in ((a, "PENDING"), (a, "RUNNING"), (b, "PENDING"), (e, "PENDING"),
                      (a, "COMPLETED"), (d, "FAILED"), (e, "CANCELLED")):
        t.check("squeue-states", want in seen.get(jid, ()), "job %d never seen %s: %s"
                % (jid, want, sorted(seen.get(jid, ()))))

    logs = {n: stamps(c, n) for n in "ABCDEFG"}
    t.check("output", "start" not in logs["G"], "G ran: %r" % logs["G"])
    t.check("output", "A\n" in logs["A"]["text"] and "B\n" in logs["B"]["text"], repr(logs))
    t.check("output", "start" not in logs["E"], "E ran: %r" % logs["E"])
    la, lb, lc = logs["A"], logs["B"], logs["C"]
    t.check("order", lb.get("start", 0) >= la.get("end", 1e18), "B started before A ended: %r" % logs)
    t.check("concurrent", lc.get("start", 1e18) < la.get("end", 0) and la.get("start", 1e18) < lc.get("end", 0),
            "A and C did not overlap: %r" % logs)

    comp = {j["id"]: j for j in c.jobcomp()}
    t.check("jobcomp", set(comp) == {a, b, cc, d, e, f, g}, "jobcomp ids %s" % sorted(comp))
    t.check("jobcomp", comp.get(g, {}).get("state") == "CANCELLED", repr(comp.get(g)))
    if set(comp) >= {a, b, cc, d, e}:
        t.check("jobcomp", [comp[x]["name"] for x in (a, b, cc, d, e)] == list("ABCDE"), repr(comp))
        t.check("jobcomp", [comp[x]["state"] for x in (a, b, cc, d, e)]
                == ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CANCELLED"], repr(comp))
        t.check("jobcomp", comp[d]["exit_code"] == "3:0", repr(comp[d]))
        t.check("order", comp[b]["start"] >= comp[a]["end"], "jobcomp: B before A ended")
        t.check("concurrent", comp[cc]["start"] <= comp[a]["start"] + 1, "jobcomp: C late")


def kill_invalid_depend(c):
    d = submit(c, "D2", "exit 3")
    e = submit(c, "E2", "echo E2", "--dependency=afterok:%d" % d)
    t0 = time.monotonic()
    wait_for(lambda: c.squeue([e]).get(e) == "CANCELLED", 20, "E2 cancelled by Slurm")
    print("E2 cancelled %.1f s after submission" % (time.monotonic() - t0))
    show = run(c, "scontrol", "show", "job", str(e)).stdout
    t.check("kill-invalid-depend", "JobState=CANCELLED Reason=DependencyNeverSatisfied" in show, show)
    comp = {j["id"]: j["state"] for j in c.jobcomp()}
    t.check("kill-invalid-depend", comp == {d: "FAILED", e: "CANCELLED"}, repr(comp))


class BrokenConf(slurm.Cluster):
    def _write_conf(self, *args):
        super()._write_conf(*args)
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write("NoSuchOption=1\n")


def leftovers(cluster):
    return cluster._stragglers() + [p.pid for _, p in cluster._procs if p.poll() is None]


def main():
    why = slurm.Cluster.available()
    if why:
        print("SKIP slurm.fixture: Slurm cannot run here: %s" % why)
        sys.exit(1 if os.environ.get("HPCBUILD_REQUIRE_SLURM") == "1" else 77)
    tmp = tempfile.mkdtemp(prefix="hb-slurm-")
    try:
        with slurm.Cluster(os.path.join(tmp, "one")) as c:
            t.check("start", c.cpus >= 2, "need 2 cpus for the concurrency check, have %d" % c.cpus)
            dependency_graph(c)
        t.check("stop", leftovers(c) == [], "survived: %s" % leftovers(c))

        c2 = slurm.Cluster(os.path.join(tmp, "two"), kill_invalid_depend=True)
        try:
            with c2:
                kill_invalid_depend(c2)
                submit(c2, "long", "echo pid $$; sleep 300")
                wait_for(lambda: "pid" in stamps(c2, "long"), 15, "the long job running")
                raise KeyError("a test failing with a job still running")
        except KeyError:
            pass
        pid = int(stamps(c2, "long").get("pid", 0))
        t.check("stop", pid and not slurm._alive(pid), "the running job's shell %d survived" % pid)
        t.check("stop", leftovers(c2) == [], "survived: %s" % leftovers(c2))

        broken = BrokenConf(os.path.join(tmp, "broken"))
        try:
            with broken:
                t.check("unavailable", False, "a cluster with a bad slurm.conf started")
        except slurm.SlurmUnavailable as e:
            t.check("unavailable", "slurmctld exited" in str(e) and "NoSuchOption" in str(e), str(e))
        t.check("stop", leftovers(broken) == [], "survived: %s" % leftovers(broken))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    wall = time.monotonic() - T0
    print("wall time %.1f s" % wall)
    t.check("time", wall < 40, "the fixture took %.1f s" % wall)
    t.finish()


main()
