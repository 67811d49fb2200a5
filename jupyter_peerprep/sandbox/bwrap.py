"""The ``bwrap`` sandbox backend (default): bubblewrap namespaces, rlimits and a cgroup.

Per run:

- ``bwrap --unshare-all`` (network, pid, ipc, uts, cgroup, user namespaces): no network at all,
  the program is pid 2 of its own pid namespace and sees only its own processes; ``bwrap``'s
  init is pid 1 and ``--die-with-parent`` ties it to us, so killing ``bwrap`` kills everything
  the program started, ``setsid`` daemons included.
- Root filesystem: a fresh tmpfs with read-only binds of ``/usr`` (and the merged-usr
  symlinks), ``/proc`` of the new pid namespace and a minimal ``/dev``. No ``/etc``, ``/root``,
  ``/home``, ``/work`` of the host, no service state, no question bank. Writable: ``/work``,
  ``/tmp`` and ``/dev/shm``, each a private tmpfs capped at ``tmp_mb``; they vanish with the run.
- Clean environment (``--clearenv``): no ``JUPYTERHUB_*`` token, no database URL.
- Identity: when the service runs as root, ``bwrap`` is started as an unprivileged host uid
  (``sandbox_uid``, nobody by default) through ``setpriv``. RLIMIT_NPROC never binds uid 0, so
  this is what makes the process limit real; with a user namespace per run the kernel counts
  processes per namespace, so concurrent runs do not share one budget.
- Limits: ``prlimit`` (address space, file size, open files, CPU, no core files) on the whole
  tree; RLIMIT_NPROC is set inside by the program itself (the harness) so that it counts per
  run; a memory + pids cgroup per run when the service may create cgroups (root, cgroup v1 or
  v2), which also bounds tmpfs pages and lets us kill every member; the reader caps output; a
  wall-clock timer kills the process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import uuid
from pathlib import Path
from typing import Any

from traitlets import Bool, Integer, List, Unicode, default

from .base import CappedReader, Sandbox, SandboxError, SandboxLimits, SandboxResult, monotonic
from .runtimes import find_deno

MERGED_USR_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")


class CgroupSet:
    """A memory + pids (+ cpu) cgroup (v1 hierarchies or v2) for one run or one server; best
    effort, root only. Also used by the local spawner: one per single-user server."""

    def __init__(self, root: Path, name: str, *, cpu: bool = False) -> None:
        self.root = root
        self.name = name
        self.cpu = cpu
        self.v2 = (root / "cgroup.controllers").exists()
        if self.v2:
            self.dirs = [root / "peerprep" / name]
        else:
            controllers = ["memory", "pids", *(["cpu"] if cpu else [])]
            self.dirs = [root / c / "peerprep" / name for c in controllers]

    @classmethod
    def available(cls, root: Path, *, cpu: bool = False) -> bool:
        if os.geteuid() != 0:
            return False
        wanted = {"memory", "pids", *(["cpu"] if cpu else [])}
        if (root / "cgroup.controllers").exists():
            controllers = (root / "cgroup.controllers").read_text().split()
            return wanted <= set(controllers) and os.access(root, os.W_OK)
        return all(os.access(root / c, os.W_OK) for c in wanted)

    def create(
        self,
        memory_bytes: int,
        pids: int,
        *,
        cpu_shares: int | None = None,
        cpu_quota: float | None = None,
    ) -> None:
        """Make the cgroup with its limits. ``cpu_shares`` is the relative CPU weight (cgroup
        v1 ``cpu.shares``: 1024 is that of an ordinary group), ``cpu_quota`` a cap in CPUs;
        both need ``cpu=True``."""
        if self.v2:
            parent = self.root / "peerprep"
            parent.mkdir(exist_ok=True)
            with contextlib.suppress(OSError):
                controllers = "+memory +pids" + (" +cpu" if self.cpu else "")
                (parent / "cgroup.subtree_control").write_text(controllers)
            self.dirs[0].mkdir()
            (self.dirs[0] / "memory.max").write_text(str(memory_bytes))
            with contextlib.suppress(OSError):
                (self.dirs[0] / "memory.swap.max").write_text("0")
            (self.dirs[0] / "pids.max").write_text(str(pids))
            if self.cpu and cpu_shares:
                weight = max(1, min(10000, cpu_shares * 100 // 1024))
                (self.dirs[0] / "cpu.weight").write_text(str(weight))
            if self.cpu and cpu_quota:
                (self.dirs[0] / "cpu.max").write_text(f"{int(cpu_quota * 100000)} 100000")
            return
        mem, pid = self.dirs[:2]
        mem.mkdir(parents=True)
        (mem / "memory.limit_in_bytes").write_text(str(memory_bytes))
        with contextlib.suppress(OSError):
            (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
        pid.mkdir(parents=True)
        (pid / "pids.max").write_text(str(pids))
        if self.cpu:
            cpu = self.dirs[2]
            cpu.mkdir(parents=True)
            if cpu_shares:
                (cpu / "cpu.shares").write_text(str(cpu_shares))
            if cpu_quota:
                (cpu / "cpu.cfs_period_us").write_text("100000")
                (cpu / "cpu.cfs_quota_us").write_text(str(int(cpu_quota * 100000)))

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` joining the cgroup before it execs, so the whole tree is in it from its
        first instant; if it cannot join, it does not run."""
        script = "".join(f"echo $$ > {f} && " for f in self.procs_files) + 'exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *cmd]

    @property
    def procs_files(self) -> list[str]:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def oom_killed(self) -> bool:
        try:
            if self.v2:
                events = (self.dirs[0] / "memory.events").read_text()
            else:
                events = (self.dirs[0] / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in events.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill_all(self) -> None:
        for d in self.dirs:
            try:
                pids = (d / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for p in pids:
                with contextlib.suppress(OSError, ValueError):
                    os.kill(int(p), signal.SIGKILL)

    async def remove(self) -> None:
        for _ in range(50):
            self.kill_all()
            left = []
            for d in self.dirs:
                try:
                    d.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:
                    left.append(d)
            if not left:
                return
            await asyncio.sleep(0.02)


class BwrapSandbox(Sandbox):
    """Runs each program in a fresh bubblewrap sandbox (Debian package ``bubblewrap``)."""

    name = "bwrap"

    bwrap_path = Unicode("bwrap", help="The bubblewrap executable.").tag(config=True)

    python = Unicode(
        "/usr/bin/python3",
        help="""Python interpreter used inside the sandbox. Must live under one of ro_binds
        (the system Python by default: a virtualenv or pyenv under /root is not visible).""",
    ).tag(config=True)

    ro_binds = List(
        Unicode(),
        default_value=["/usr"],
        help="""Host paths bound read-only into the sandbox. Only what the interpreter needs;
        never the service's state, the question bank or home directories.""",
    ).tag(config=True)

    deno = Unicode(
        help="""The Deno executable bound read-only into runs of JavaScript and TypeScript
        solutions (at /opt/peerprep/bin/deno inside). Defaults to the one the 'deno' package
        from PyPI installed next to this Python, else 'deno' on PATH.""",
    ).tag(config=True)

    @default("deno")
    def _default_deno(self) -> str:
        return find_deno() or ""

    sandbox_uid = Integer(
        65534,
        help="""Unprivileged host uid (and gid) bwrap runs as when the service runs as root.
        RLIMIT_NPROC does not bind root, so this is what stops fork bombs.""",
    ).tag(config=True)

    inner_uid = Integer(1000, help="The uid the program sees inside the sandbox.").tag(config=True)

    use_cgroups = Bool(
        True,
        help="""Give every run its own memory + pids cgroup when the service may create one
        (root with writable cgroup controllers). Bounds the memory of all processes of a run
        together, tmpfs pages included.""",
    ).tag(config=True)

    cgroup_root = Unicode("/sys/fs/cgroup", help="Where the cgroup hierarchies are mounted.").tag(
        config=True
    )

    cgroup_overhead_mb = Integer(
        64,
        help="Memory allowed to a run's cgroup on top of the per-process limit and the tmpfs.",
    ).tag(config=True)

    def _root_args(self) -> list[str]:
        args: list[str] = []
        for path in self.ro_binds:
            args += ["--ro-bind", path, path]
        for link in MERGED_USR_LINKS:
            if os.path.islink(link):
                args += ["--symlink", os.readlink(link), link]
            elif os.path.isdir(link) and link not in self.ro_binds:
                args += ["--ro-bind", link, link]
        return args

    def _deno_args(self, limits: SandboxLimits) -> list[str]:
        if not limits.deno:
            return []
        if not self.deno or not os.path.isfile(self.deno):
            raise SandboxError(
                "JavaScript and TypeScript need Deno: pip install 'jupyter_peerprep[languages]' "
                f"or set BwrapSandbox.deno to the deno executable (now {self.deno!r})"
            )
        return ["--ro-bind", self.deno, self.deno_inside]

    def command(self, args: list[str], limits: SandboxLimits) -> list[str]:
        """The full command line for one run (without the cgroup wrapper)."""
        tmp_bytes = str(limits.tmp_mb * 1024 * 1024)
        mem = limits.memory_mb * 1024 * 1024
        cmd = [
            "prlimit",
            *([f"--as={mem}"] if limits.address_space else []),
            f"--fsize={limits.fsize_mb * 1024 * 1024}",
            f"--nofile={limits.nofile}",
            f"--cpu={max(1, int(limits.cpu_s))}",
            "--core=0",
            "--",
        ]
        if os.geteuid() == 0:
            uid = str(self.sandbox_uid)
            cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--"]
        cmd += [
            self.bwrap_path,
            "--unshare-all",
            "--unshare-user",
            "--uid",
            str(self.inner_uid),
            "--gid",
            str(self.inner_uid),
            "--hostname",
            "sandbox",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv",
            "PATH",
            "/usr/bin:/bin",
            "--setenv",
            "HOME",
            "/work",
            "--setenv",
            "LANG",
            self.env_lang,
            "--setenv",
            "PYTHONDONTWRITEBYTECODE",
            "1",
            *[a for k, v in sorted(self.extra_env.items()) for a in ("--setenv", k, v)],
            *self._root_args(),
            *self._deno_args(limits),
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            tmp_bytes,
            "--tmpfs",
            "/dev/shm",  # noqa: S108 (inside the sandbox: a private tmpfs)
            "--size",
            tmp_bytes,
            "--tmpfs",
            "/tmp",  # noqa: S108
            "--size",
            tmp_bytes,
            "--tmpfs",
            "/work",
            "--remount-ro",
            "/",
            "--chdir",
            "/work",
            "--cap-drop",
            "ALL",
            self.python,
            *args,
        ]
        return cmd

    async def check(self) -> None:
        for exe in (self.bwrap_path, "prlimit"):
            if not shutil.which(exe):
                raise SandboxError(
                    f"{exe} is not installed; install the Debian packages bubblewrap and "
                    f"util-linux, or set Grader.backend = 'docker'."
                )
        result = await self.run_python(["-c", "print('ok')"], limits=SandboxLimits(wall_s=10))
        if result.stdout.strip() != b"ok":
            raise SandboxError(
                "bwrap cannot start a sandbox here: "
                + result.stderr.decode(errors="replace").strip()[-500:]
            )

    async def run_python(
        self, args: list[str], *, stdin: bytes = b"", limits: SandboxLimits
    ) -> SandboxResult:
        cmd = self.command(args, limits)
        cgroup: CgroupSet | None = None
        root = Path(self.cgroup_root)
        if self.use_cgroups and CgroupSet.available(root):
            cgroup = CgroupSet(root, uuid.uuid4().hex)
            memory = (limits.memory_mb + 3 * limits.tmp_mb + self.cgroup_overhead_mb) << 20
            try:
                cgroup.create(memory, limits.pids + 2)
            except OSError as e:
                self.log.warning("No cgroup for this sandbox run (%s); rlimits only", e)
                await cgroup.remove()
                cgroup = None
        if cgroup is not None:
            cmd = cgroup.wrap(cmd)
        try:
            return await self._run(cmd, stdin, limits, cgroup)
        finally:
            if cgroup is not None:
                await cgroup.remove()

    async def _run(
        self,
        cmd: list[str],
        stdin: bytes,
        limits: SandboxLimits,
        cgroup: CgroupSet | None,
    ) -> SandboxResult:
        result = SandboxResult(backend=self.name)
        started = monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": self.env_lang},
                cwd="/",
            )
        except OSError as e:
            raise SandboxError(f"cannot start bwrap: {e}") from e

        def kill() -> None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            if cgroup is not None:
                cgroup.kill_all()

        budget = [limits.output_bytes]
        out = CappedReader(budget, kill)
        err = CappedReader(budget, kill)
        assert proc.stdin and proc.stdout and proc.stderr

        async def feed() -> None:
            assert proc.stdin
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError, OSError):
                proc.stdin.close()

        tasks: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(feed()),
            asyncio.ensure_future(out.drain(proc.stdout)),
            asyncio.ensure_future(err.drain(proc.stderr)),
            asyncio.ensure_future(proc.wait()),
        ]
        try:
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=limits.wall_s)
        except asyncio.TimeoutError:
            result.timed_out = True
            kill()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await proc.wait()
        except BaseException:
            kill()
            await proc.wait()
            raise
        finally:
            # Whatever happened, nothing of this run survives it.
            kill()
        result.wall_s = monotonic() - started
        result.stdout = bytes(out.data)
        result.stderr = bytes(err.data)
        result.output_exceeded = out.exceeded or err.exceeded
        result.exit_code = (
            None if proc.returncode is None or proc.returncode < 0 else (proc.returncode)
        )
        if cgroup is not None and cgroup.oom_killed():
            result.oom_killed = True
        return result
