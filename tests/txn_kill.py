"""Prefix transactions under SIGKILL: `hpcbuild txn apply` of a plan of a few thousand puts and
removals, killed at a random moment 200 times; after each kill `hpcbuild txn recover` must leave
the prefix exactly the old tree or exactly the new tree (every path, type, mode, content and
symlink target), and the package-cache files the prefix hard-links must never change.

The prefix goes back and forth: a run of plan A (old -> new) is followed by plan B (new -> old)
whenever A got through (and the other way round), so no tree is ever copied by the test.
Kill times are uniform over 0 .. 1.1 x an unkilled run (at least 50 ms), so kills land while
staging, while committing, while applying and while cleaning up; the test requires recoveries
of both kinds ("rolled back" and "completed")."""
import fcntl
import hashlib
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from hbtest import HPCBUILD, Tally, check_sanitizers, run_cli

SEED = int(os.environ.get("HB_TXN_KILL_SEED", "20261203"))
ROUNDS = int(os.environ.get("HB_TXN_KILL_ROUNDS", "200"))
BUDGET_S = 50.0   # stop early (and say so) rather than exceed the test's minute

rng = random.Random(SEED)
t = Tally()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def snapshot(prefix, cache_inodes):
    """{relpath: ("d",) | ("l", target) | ("f", mode, content)} for everything but .hpcbuild/.
    content: ("inode", n) for a hard link to a cache file (whose contents the test checks at the
    end), else the sha256 of the file: one lstat per entry and a read per copy only."""
    out = {}

    def walk(dirpath, rel_dir):
        with os.scandir(dirpath) as it:
            for e in it:
                rel = rel_dir + e.name
                if not rel_dir and e.name == ".hpcbuild":
                    continue
                st = e.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    out[rel] = ("l", os.readlink(e.path))
                elif stat.S_ISDIR(st.st_mode):
                    out[rel] = ("d",)
                    walk(e.path, rel + "/")
                else:
                    content = ("inode", st.st_ino) if st.st_ino in cache_inodes else sha256(e.path)
                    out[rel] = ("f", st.st_mode & 0o7777, content)

    walk(prefix, "")
    return out


def make_world(root):
    """The cache files and plans: old tree O (paths 0..1999), new tree N (600..2599); of the
    1400 shared paths every other one changes content.  Returns the plans empty -> O, O -> N
    and N -> O, the trees ({relpath: cache file}) and the cache files."""
    cache_dir = os.path.join(root, "pkgs")
    os.makedirs(cache_dir)
    cache = []

    def cache_file():
        path = os.path.join(cache_dir, "f%05d" % len(cache))
        with open(path, "wb") as f:
            f.write(rng.randbytes(rng.randrange(0, 600)))
        os.chmod(path, 0o755 if rng.random() < 0.1 else 0o644)
        cache.append(path)
        return path

    def relpath(k):
        if k % 250 == 7:
            return "share/odd names/ü %d \\ 'q'.txt" % k
        return "lib/pkg%d/sub%d/mod%d.py" % (k % 40, k % 7, k)

    old = {relpath(k): cache_file() for k in range(0, 2000)}
    new = {}
    for k in range(600, 2600):
        p = relpath(k)
        new[p] = old[p] if p in old and k % 2 == 0 else cache_file()

    def plan(frm, to, version):
        lines = ["remove\t%s" % p for p in sorted(frm) if p not in to]
        for i, p in enumerate(sorted(to)):
            mode = "\t600" if i % 97 == 0 else ""   # other permission bits: a copy
            lines.append("put\t%s\t%s%s" % (p, to[p], mode))
        lines += ["data\tetc/version\t%s" % version, "symlink\tlib64\t%s" % ("lib" if version == "old" else "lib/pkg1"),
                  "mkdir\tvar/run"]
        path = os.path.join(root, "plan-%d-to-%s" % (len(frm), version))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return path

    return plan({}, old, "old"), plan(old, new, "new"), plan(new, old, "old"), old, new, cache


def expected_files(tree, version):
    files = {p: ("f", None, sha256(src)) for p, src in tree.items()}
    files["etc/version"] = ("f", 0o644, hashlib.sha256((version + "\n").encode()).hexdigest())
    files["lib64"] = ("l", "lib" if version == "old" else "lib/pkg1")
    return files


def matches_model(snap, model, cache_inodes):
    got = {p: v for p, v in snap.items() if v[0] != "d"}
    if set(got) != set(model):
        return False
    def digest(content):
        return sha256(cache_inodes[content[1]]) if content[0] == "inode" else content

    return all(got[p] == m if m[0] == "l" else got[p][0] == "f" and digest(got[p][2]) == m[2]
               for p, m in model.items())


def apply_unkilled(prefix, plan):
    rc, out, err = run_cli("txn", "apply", prefix, plan)
    return rc == 0, "rc=%d out=%r err=%r" % (rc, out, err[-500:])


def check_cli(root, prefix, snap_old, cache_inodes):
    """The command's usage errors and refusals: status 2 (1 for the lock), one stderr line,
    the prefix unchanged."""
    bad_plan = os.path.join(root, "bad-plan")
    cases = [
        (["txn"], 2, "usage: hpcbuild txn"),
        (["txn", "frob"], 2, "unknown subcommand 'frob'"),
        (["txn", "apply", prefix], 2, "expected PREFIX and PLAN"),
        (["txn", "apply", "--link-mode", "bogus", prefix, bad_plan], 2, "invalid link mode 'bogus'"),
        (["txn", "recover", "--wait", "soon", prefix], 2, "invalid --wait 'soon'"),
        (["txn", "apply", prefix, bad_plan + "-missing"], 1, "cannot read the plan"),
    ]
    for lines, want in [("data\tetc/x\tx\nfrobnicate\ta\n", "line 2: invalid plan line starting 'frobnicate'"),
                        ("remove\tno/such/file\n", "line 1: cannot remove 'no/such/file'"),
                        ("put\tx\t/etc/hostname\t999\n", "invalid mode '999' for 'x'"),
                        ("data\t../x\tx\n", "invalid path '../x' in prefix")]:
        with open(bad_plan, "w") as f:
            f.write(lines)
        rc, out, err = run_cli("txn", "apply", prefix, bad_plan)
        t.check("cli", rc == 2 and want in err and err.count("\n") == 1, "%r: rc=%d err=%r" % (lines, rc, err))
    for args, status, want in cases:
        rc, out, err = run_cli(*args)
        t.check("cli", rc == status and want in err, "%s: rc=%d err=%r" % (args, rc, err))
    with open(os.path.join(prefix, ".hpcbuild", "lock"), "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        lock.write("%d\n" % os.getpid())
        lock.flush()
        rc, out, err = run_cli("txn", "apply", prefix, bad_plan)
        t.check("cli", rc == 1 and "is locked by process %d " % os.getpid() in err, "locked: rc=%d err=%r" % (rc, err))
    t.check("cli", snapshot(prefix, cache_inodes) == snap_old, "refused plans leave the prefix as it was")
    rc, out, err = run_cli("txn", "--help")
    t.check("cli", rc == 0 and "usage: hpcbuild txn apply" in out, "txn --help: %r" % out[:80])


def main():
    # tmpfs when there is one: kills are about the kernel's view, which every filesystem shares,
    # and a shared disk's journal would make the 200 rounds slow (unit.txn runs on /tmp).
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    root = tempfile.mkdtemp(prefix="hb-txn-kill-", dir=shm)
    print("working in", root)
    try:
        run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    t.finish()


def run(root):
    plan_init, plan_a, plan_b, old, new, cache = make_world(root)
    cache_state = {p: (sha256(p), os.stat(p).st_mode, os.stat(p).st_mtime_ns) for p in cache}
    cache_inodes = {os.stat(p).st_ino: p for p in cache}
    prefix = os.path.join(root, "env")

    # The two trees, reached without kills: the old one from empty, then new, then old again.
    ok, detail = apply_unkilled(prefix, plan_init)
    t.check("setup", ok, "build the old tree: " + detail)
    snap_old = snapshot(prefix, cache_inodes)
    t.check("setup", matches_model(snap_old, expected_files(old, "old"), cache_inodes), "old tree as planned")
    start = time.monotonic()
    ok, detail = apply_unkilled(prefix, plan_a)
    full_run_s = time.monotonic() - start
    t.check("setup", ok, "old -> new: " + detail)
    snap_new = snapshot(prefix, cache_inodes)
    t.check("setup", matches_model(snap_new, expected_files(new, "new"), cache_inodes), "new tree as planned")
    ok, detail = apply_unkilled(prefix, plan_b)
    t.check("setup", ok and snapshot(prefix, cache_inodes) == snap_old, "new -> old gives the old tree back: " + detail)
    linked = sum(1 for p in old if os.stat(os.path.join(prefix, p)).st_ino == os.stat(old[p]).st_ino)
    t.check("setup", linked > len(old) * 0.9, "hard links from the cache: %d of %d" % (linked, len(old)))

    check_cli(root, prefix, snap_old, cache_inodes)

    max_delay = max(0.05, 1.1 * full_run_s)
    print("seed %d, unkilled run %.0f ms, kills at 0..%.0f ms" % (SEED, full_run_s * 1000, max_delay * 1000))
    state = "old"
    outcomes = {}
    deadline = time.monotonic() + BUDGET_S
    rounds = 0
    for rounds in range(1, ROUNDS + 1):
        if time.monotonic() > deadline:
            print("time budget spent after %d rounds" % (rounds - 1))
            break
        plan = plan_a if state == "old" else plan_b
        delay = rng.uniform(0, max_delay)
        proc = subprocess.Popen([HPCBUILD, "txn", "apply", prefix, plan], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate()
        check_sanitizers(err.decode("utf-8", "replace"), "txn apply")
        finished = proc.returncode == 0
        rc, out, err = run_cli("txn", "recover", prefix)
        what = out.strip()
        outcomes[what] = outcomes.get(what, 0) + 1
        t.check("recover", rc == 0 and what in ("none", "rolled back", "completed"),
                "round %d: recover rc=%d out=%r err=%r" % (rounds, rc, out, err))
        snap = snapshot(prefix, cache_inodes)
        now = "old" if snap == snap_old else "new" if snap == snap_new else None
        if now is None:
            extra = sorted(set(snap) ^ set(snap_old))[:5]
            t.check("tree", False, "round %d (kill at %.1f ms, %s): a mix of old and new, e.g. %s" % (
                rounds, delay * 1000, what, extra))
            break
        changed = now != state
        # A rollback keeps the tree, a completion or a finished run changes it; "none" after a
        # kill may be either (killed before the transaction began, or after it ended).
        want = {"rolled back": False, "completed": True}.get(what, True if finished else changed)
        t.check("tree", changed == want,
                "round %d: %s -> %s after '%s' (run %s)" % (rounds, state, now, what,
                                                             "finished" if finished else "killed"))
        t.check("tree", not os.path.exists(os.path.join(prefix, ".hpcbuild", "txn")),
                "round %d: the transaction directory is gone" % rounds)
        state = now

    print("outcomes over %d rounds: %s" % (rounds, outcomes))
    least = max(1, rounds // 40)
    t.check("phases", outcomes.get("rolled back", 0) >= least, "kills before the commit mark: %s" % outcomes)
    t.check("phases", outcomes.get("completed", 0) >= least, "kills after the commit mark: %s" % outcomes)
    for p, (digest, mode, mtime) in cache_state.items():
        st = os.stat(p)
        t.check("cache", sha256(p) == digest and st.st_mode == mode and st.st_mtime_ns == mtime,
                "cache file %s changed" % p)


main()
