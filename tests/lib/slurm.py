"""A real single-node Slurm for tests: Debian 12's slurm-wlm 22.05 and munge, run as root.

    with slurm.Cluster(tmpdir) as c:
        subprocess.run(["sbatch", "--parsable", "job.sh"], env=c.env)
        c.wait_idle()                 # every job left the queue (optional helper)
        for job in c.jobcomp(): ...   # one record per finished job (jobcomp/filetxt)

Everything lives under tmpdir: slurm.conf, the munge key and socket, state, spool, logs and
pid files; the ports are chosen free at start, so a leftover daemon or a second test cannot
collide.  __exit__ cancels every job, stops slurmd, slurmctld and munged and then kills any
process still carrying this cluster's SLURM_CONF in its environment (slurmstepd, job scripts),
even after failures.  Cluster.available() says (without starting anything) why Slurm cannot run
here; starting raises SlurmUnavailable with the reason and the daemons' log tails.
Stdlib only (run by /usr/bin/python3).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol", "scancel")
SBIN_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


class SlurmUnavailable(RuntimeError):
    """Slurm cannot run on this machine (missing binaries, not root, a daemon did not start)."""


def _free_ports(count):
    """count distinct TCP ports that were free on 127.0.0.1 and the wildcard address a moment ago."""
    socks, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _tail(path, lines=25):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(%s)" % e


def _mem_available_mb():
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    raise SlurmUnavailable("/proc/meminfo: no MemAvailable line")


def _pid_env_has(pid, entry):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return entry in f.read().split(b"\0")
    except OSError:
        return False


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie child of ours counts as gone
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


JOBCOMP_FIELD = re.compile(r"(\w+)=(.*?)(?= \w+=|$)")


def parse_jobcomp_line(line):
    """One jobcomp/filetxt line ('JobId=3 UserId=root(0) ... Name=a b JobState=COMPLETED ...')
    as a dict of every field; values may contain spaces (Name, WorkDir)."""
    return {k: v.strip() for k, v in JOBCOMP_FIELD.findall(line.rstrip("\n"))}


def _epoch(stamp):
    """Slurm's local-time stamp 2024-05-01T12:00:03 in seconds since the epoch (None if unknown)."""
    try:
        return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%S"))
    except (ValueError, TypeError):
        return None


class Cluster:
    """One slurmctld + one slurmd on this machine, for the duration of a with-block.

    c.env        the environment for sbatch/squeue/... and anything that runs them (hpcbuild):
                 os.environ plus SLURM_CONF=<tmpdir>/slurm.conf and a PATH with /usr/bin
    c.dir        the cluster's directory (absolute; jobs may write their logs there)
    c.conf       path of slurm.conf;  c.node: the node name;  c.cpus, c.mem_mb: what it offers
    c.partition  'debug' (the default partition)
    c.jobcomp()  finished jobs: dicts id (int), name, state, start, end (epoch seconds),
                 exit_code ('0:0'), raw (every field) in completion order
    c.squeue(ids=None) {id: state} as squeue reports them now
    c.wait_idle(timeout) waits until squeue lists no job
    c.logs()     the daemons' log tails (for failure messages)
    """

    NAME = "hbtest"
    PARTITION = "debug"

    def __init__(self, tmpdir, kill_invalid_depend=False, start_timeout=30):
        self.dir = os.path.abspath(tmpdir)
        self.kill_invalid_depend = kill_invalid_depend
        self.start_timeout = start_timeout
        self.conf = os.path.join(self.dir, "slurm.conf")
        self.partition = self.PARTITION
        self.node = None
        self.cpus = 0
        self.mem_mb = 0
        self.env = None
        self._procs = []  # (name, Popen) in start order
        self._munge_pid = os.path.join(self.dir, "munge", "munged.pid")
        self.munge_socket = os.path.join(self.dir, "munge", "munge.socket")

    # -- checks ------------------------------------------------------------------------------
    @staticmethod
    def available():
        """None when Slurm can be started here, else the reason (a string). Starts nothing."""
        if os.geteuid() != 0:
            return "not root (slurmd must run as root to start jobs as their users)"
        missing = [b for b in BINARIES if not shutil.which(b, path=SBIN_PATH)]
        if missing:
            return "missing %s (apt-get install slurm-wlm munge)" % " ".join(missing)
        return None

    # -- paths -------------------------------------------------------------------------------
    def _p(self, *parts):
        return os.path.join(self.dir, *parts)

    def logs(self):
        parts = []
        for name in ("munge/munged.log", "log/slurmctld.log", "log/slurmd.log",
                     "log/slurmctld.out", "log/slurmd.out"):
            path = self._p(name)
            if os.path.exists(path):
                parts.append("--- %s\n%s" % (path, _tail(path)))
        return "\n".join(parts)

    # -- start -------------------------------------------------------------------------------
    def __enter__(self):
        reason = self.available()
        if reason:
            raise SlurmUnavailable(reason)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _hardware(self):
        """(node name, 'CPUs=.. Boards=.. ...' topology from slurmd -C, threads per core)."""
        out = subprocess.run(["slurmd", "-C"], capture_output=True, text=True,
                             env=self._daemon_env()).stdout
        line = next((l for l in out.splitlines() if l.startswith("NodeName=")), None)
        if not line:
            raise SlurmUnavailable("slurmd -C printed no NodeName line:\n" + out)
        fields = dict(f.split("=", 1) for f in line.split())
        keep = ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore")
        topo = " ".join("%s=%s" % (k, fields[k]) for k in keep if k in fields)
        return socket.gethostname().split(".")[0], topo, int(fields.get("ThreadsPerCore", "1"))

    def _daemon_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM")}
        env["PATH"] = SBIN_PATH + ":" + env.get("PATH", "")
        env["SLURM_CONF"] = self.conf
        return env

    def _write_conf(self, node, topo, threads):
        ctld_port, slurmd_port = _free_ports(2)
        self.cpus = int(re.search(r"CPUs=(\d+)", topo).group(1)) if "CPUs=" in topo else os.cpu_count()
        self.mem_mb = max(256, int(_mem_available_mb() * 0.9))
        sched = ["bf_interval=1", "sched_min_interval=0"]
        lines = [
            "ClusterName=%s" % self.NAME,
            "SlurmctldHost=%s(127.0.0.1)" % node,
            "SlurmctldPort=%d" % ctld_port,
            "SlurmdPort=%d" % slurmd_port,
            "SlurmUser=root",
            "SlurmdUser=root",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            "AuthInfo=socket=%s" % self.munge_socket,
            "StateSaveLocation=%s" % self._p("state"),
            "SlurmdSpoolDir=%s" % self._p("spool"),
            "SlurmctldPidFile=%s" % self._p("run", "slurmctld.pid"),
            "SlurmdPidFile=%s" % self._p("run", "slurmd.pid"),
            "SlurmctldLogFile=%s" % self._p("log", "slurmctld.log"),
            "SlurmdLogFile=%s" % self._p("log", "slurmd.log"),
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "JobCompType=jobcomp/filetxt",
            "JobCompLoc=%s" % self._p("jobcomp.txt"),
            "SchedulerType=sched/backfill",
            "SchedulerParameters=%s" % ",".join(sched),
            "SelectType=select/cons_tres",
            # CR_Core: one core per 1-cpu job; with hyperthreads a core is two cpus, so
            # schedule cpus instead and two 1-cpu jobs still run at once on two cpus.
            "SelectTypeParameters=%s" % ("CR_CPU" if threads > 1 else "CR_Core"),
            "MpiDefault=none",
            "ReturnToService=2",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            "InactiveLimit=0",
            "KillWait=2",
            "MinJobAge=300",
            "NodeName=%s NodeAddr=127.0.0.1 NodeHostname=%s %s RealMemory=%d State=UNKNOWN"
            % (node, node, topo, self.mem_mb),
            "PartitionName=%s Nodes=%s Default=YES MaxTime=INFINITE State=UP"
            % (self.PARTITION, node),
        ]
        if self.kill_invalid_depend:
            # 22.05 reads it here; under SchedulerParameters it is silently ignored
            lines.append("DependencyParameters=kill_invalid_depend")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write("# written by tests/lib/slurm.py for one test; removed with it\n")
            f.write("\n".join(lines) + "\n")

    def _spawn(self, name, argv, log):
        out = open(self._p("log", log), "ab")
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                    env=self._daemon_env(), start_new_session=True)
        finally:
            out.close()
        self._procs.append((name, proc))
        return proc

    def _start_munge(self):
        mdir = self._p("munge")
        os.makedirs(mdir, mode=0o700, exist_ok=True)
        key = os.path.join(mdir, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        # --force: munged otherwise refuses a socket directory not executable by all (0700 here).
        self._spawn("munged", ["munged", "--foreground", "--force",
                               "--socket=" + self.munge_socket, "--key-file=" + key,
                               "--pid-file=" + self._munge_pid,
                               "--log-file=" + os.path.join(mdir, "munged.log"),
                               "--seed-file=" + os.path.join(mdir, "munged.seed")], "munged.out")
        self._wait(lambda: os.path.exists(self.munge_socket), "munged socket %s" % self.munge_socket)

    def _start(self):
        for sub in ("state", "spool", "log", "run"):
            os.makedirs(self._p(sub), exist_ok=True)
        self.node, topo, threads = self._hardware()
        self._write_conf(self.node, topo, threads)
        self.env = dict(os.environ, SLURM_CONF=self.conf,
                        PATH=os.environ.get("PATH", "/usr/bin:/bin") + ":" + SBIN_PATH)
        for k in list(self.env):
            if k.startswith("SLURM") and k != "SLURM_CONF":
                del self.env[k]
        self._start_munge()
        self._spawn("slurmctld", ["slurmctld", "-D", "-i", "-f", self.conf], "slurmctld.out")
        self._wait(self._ctld_up, "slurmctld answering (scontrol ping)")
        self._spawn("slurmd", ["slurmd", "-D", "-N", self.node, "-f", self.conf], "slurmd.out")
        self._wait(self._node_idle, "node %s idle in sinfo" % self.node)

    def _wait(self, ready, what):
        deadline = time.monotonic() + self.start_timeout
        while True:
            for name, proc in self._procs:
                if proc.poll() is not None:
                    raise SlurmUnavailable("%s exited with %s while waiting for %s\n%s"
                                           % (name, proc.returncode, what, self.logs()))
            if ready():
                return
            if time.monotonic() > deadline:
                raise SlurmUnavailable("timed out after %ds waiting for %s\n%s"
                                       % (self.start_timeout, what, self.logs()))
            time.sleep(0.2)

    def _run(self, *argv, check=False):
        return subprocess.run(list(argv), capture_output=True, text=True, env=self.env, check=check,
                              timeout=30)

    def _ctld_up(self):
        return "is UP" in self._run("scontrol", "ping").stdout

    def _node_idle(self):
        out = self._run("sinfo", "-h", "-N", "-n", self.node, "-o", "%T").stdout.strip()
        return out == "idle"

    # -- queries -----------------------------------------------------------------------------
    def squeue(self, ids=None):
        """{job id: state} for the jobs squeue lists now (all states, or only ids)."""
        argv = ["squeue", "-h", "-t", "all", "-o", "%i|%T"]
        if ids:
            argv += ["-j", ",".join(str(i) for i in ids)]
        res = {}
        for line in self._run(*argv).stdout.splitlines():
            jid, _, state = line.partition("|")
            if jid.strip().isdigit():
                res[int(jid)] = state.strip()
        return res

    def wait_idle(self, timeout=30):
        """Waits until no job is pending, running or completing; raises with the logs if not."""
        deadline = time.monotonic() + timeout
        while True:
            out = self._run("squeue", "-h", "-o", "%i").stdout.strip()
            if not out:
                return
            if time.monotonic() > deadline:
                raise AssertionError("jobs still queued after %ds: %s\n%s" % (timeout, out, self.logs()))
            time.sleep(0.2)

    def jobcomp(self):
        """The finished jobs from jobcomp/filetxt, in completion order."""
        path = self._p("jobcomp.txt")
        if not os.path.exists(path):
            return []
        jobs = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                raw = parse_jobcomp_line(line)
                jobs.append({"id": int(raw.get("JobId", "0")), "name": raw.get("Name"),
                             "state": raw.get("JobState"), "start": _epoch(raw.get("StartTime")),
                             "end": _epoch(raw.get("EndTime")), "exit_code": raw.get("ExitCode"),
                             "raw": raw})
        return jobs

    # -- stop --------------------------------------------------------------------------------
    def _stragglers(self):
        """Pids (not ours) whose environment carries this cluster's SLURM_CONF."""
        entry = ("SLURM_CONF=%s" % self.conf).encode()
        me = os.getpid()
        pids = []
        for name in os.listdir("/proc"):
            if name.isdigit() and int(name) != me and _pid_env_has(int(name), entry):
                pids.append(int(name))
        return pids

    def stop(self):
        """Cancels every job and stops every process this cluster started; safe to call twice."""
        if any(name == "slurmctld" and proc.poll() is None for name, proc in self._procs):
            try:
                self._run("scancel", "--quiet", "--full", "--partition", self.PARTITION)
            except (OSError, subprocess.SubprocessError):
                pass
        # slurmd first (it owns the steps), then slurmctld, then munged
        for name, proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        # slurmstepd and job processes are not our children: find them by environment
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pids = self._stragglers()
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline:
                pids = [p for p in pids if _alive(p)]
                time.sleep(0.1)
            if not pids:
                break
        self._procs = [(n, p) for n, p in self._procs if p.poll() is None]
