"""Target `docker`: the host kernel seen through a privileged container.

One long-lived container per test session (per worker) from an image built
offline (docker/image.py: FROM scratch, the static executor and probes).
Its PID 1 is an idle executor whose stdin is our attach socket: when this
process goes away, even killed, docker closes that stdin, PID 1 exits and
the container (auto-remove) disappears.  Cases go to executors started
with `docker exec -i`, in --mode userns: a privileged container shares the
host's global binfmt_misc, so each case first enters its own user
namespace and mounts a private instance (Linux >= 6.7), as on the host.

Engines that refuse --privileged (userns-remap): EXECSPEC_DOCKER_PRIVILEGED=0
runs with CAP_SYS_ADMIN and unconfined seccomp/AppArmor instead.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

from harness import build
from harness.executor import Executor
from model.profiles import parse_version

from .base import TargetUnavailable
from .sandbox import SandboxTarget

ROOT = Path(__file__).resolve().parents[2]
LABEL = "execspec"


def _image_module():
    # docker/ is the project's directory, not the SDK package of that name
    spec = importlib.util.spec_from_file_location("execspec_docker_image", ROOT / "docker" / "image.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def engine():
    """A client of an engine that answers, or TargetUnavailable saying why."""
    try:
        import docker
    except ImportError:
        raise TargetUnavailable("docker target: the docker SDK is not installed (pip install docker)") from None
    if shutil.which("docker") is None:
        raise TargetUnavailable("docker target: no docker CLI (apt-get install --no-install-recommends docker.io)")
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as e:  # DockerException, connection errors
        raise TargetUnavailable(f"docker target: no engine answers ({e.__class__.__name__}); "
                                "start one with docker/engine.sh start") from None
    return client


class DockerTarget(SandboxTarget):
    name = "docker"

    def __init__(self, kernel: str | None = None):
        self.client = engine()
        t0 = time.monotonic()
        self.image = _image_module().ensure_image(self.client)
        self.build_seconds = time.monotonic() - t0
        privileged = os.environ.get("EXECSPEC_DOCKER_PRIVILEGED", "1") != "0"
        self._remove_stale()
        t1 = time.monotonic()
        self.mode = "privileged"
        try:
            self._start_container(privileged)
        except Exception as e:
            if not privileged:
                raise TargetUnavailable(f"docker target: the container did not start: {e}") from None
            # Docker 20.10 grants a privileged container every capability it
            # knows, and runc fails where this process's bounding set lacks
            # one (CAP_SYS_RESOURCE here); the SYS_ADMIN form is enough.
            self.mode = f"CAP_SYS_ADMIN (privileged refused: {str(e).splitlines()[0][-90:]})"
            self._start_container(False)
        if not privileged:
            self.mode = "CAP_SYS_ADMIN"
        self.start_seconds = time.monotonic() - t1
        self.release = self.client.info().get("KernelVersion", os.uname().release)
        self.kernel = kernel or self.release
        from model import kconfig  # the container runs on the host's kernel
        self.kernel_config = kconfig.host()
        self.per_userns_binfmt_misc = parse_version(self.release)[:2] >= (6, 7)
        self.executor = self._executor()
        self.pool: list[Executor] = []
        try:
            self.executor._ensure_started()
        except Exception as e:
            self.close()
            raise TargetUnavailable(f"docker target: the executor did not start in the container: {e}") from None

    def _start_container(self, privileged: bool) -> None:
        api = self.client.api
        host = api.create_host_config(
            privileged=privileged, auto_remove=True, network_mode="none",
            **({} if privileged else {"cap_add": ["SYS_ADMIN"],
                                      "security_opt": ["seccomp=unconfined", "apparmor=unconfined"]}))
        if not privileged:
            # --security-opt systempaths=unconfined: no masked /proc paths, so
            # a case may mount a procfs of its own PID namespace (the probe's exe)
            host["MaskedPaths"] = []
            host["ReadonlyPaths"] = []
        c = api.create_container(self.image, stdin_open=True, labels={LABEL: str(os.getpid())}, host_config=host)
        self.cid = c["Id"]
        try:
            # our end of PID 1's stdin: its EOF (this process exiting) ends the container
            self._stdin = api.attach_socket(self.cid, params={"stdin": 1, "stream": 1})
            api.start(self.cid)
        except Exception:
            try:
                api.remove_container(self.cid, force=True)
            except Exception:
                pass
            raise

    def _executor(self) -> Executor:
        n = len(build.probe_paths())
        probes = [a for i in range(n) for a in ("--probe", f"/probe{i}")]
        return Executor(argv=["docker", "exec", "-i", self.cid, "/executor", *probes,
                              "--mode", "userns", "--scratch", "/tmp", "--no-pdeathsig"])

    def _remove_stale(self) -> None:
        """Containers of runs whose process is gone (their PID 1 normally
        exits with them; this covers an engine that kept one)."""
        for c in self.client.containers.list(all=True, filters={"label": LABEL}):
            pid = int(c.labels.get(LABEL, "0") or 0)
            if pid and pid != os.getpid() and not Path(f"/proc/{pid}").exists():
                c.remove(force=True)

    def describe(self) -> str:
        return f"docker ({self.mode} container {self.cid[:12]} of {self.image}, kernel {self.release})"

    def close(self) -> None:
        for e in [getattr(self, "executor", None), *getattr(self, "pool", [])]:
            if e is not None:
                e.close()
        try:
            self._stdin.close()  # PID 1 sees EOF and exits; auto-remove deletes the container
        except Exception:
            pass
        try:
            self.client.api.remove_container(self.cid, force=True)
        except Exception:
            pass  # already gone (auto-remove)
