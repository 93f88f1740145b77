"""The dbt project in `dbt/`, as dagster-dbt sees it (its manifest is prepared by `make`), and the
dbt command that runs it."""

import importlib.metadata
import os
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"


def dbt_executable() -> str:
    """The `dbt` command that dbt-core installed into this environment.

    Found from the installed package, not from PATH: Dagster may be started from an IDE, a service
    manager or a container without the environment's bin folder on PATH. Falls back to the
    interpreter's scripts folder, then to `dbt` on PATH."""
    try:
        files = importlib.metadata.distribution("dbt-core").files or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for file in files:
        if file.name in ("dbt", "dbt.exe") and file.parent.name in ("bin", "Scripts"):
            located = Path(str(file.locate())).resolve()
            if located.is_file():
                return str(located)
    beside = Path(sysconfig.get_path("scripts")) / "dbt"
    if beside.is_file():
        return str(beside)
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.is_file() else "dbt"


@contextmanager
def _dbt_first_on_path() -> Iterator[None]:
    """dagster-dbt's own preparation runs `dbt` by name from PATH: put this environment's first
    while it runs (PATH is restored after)."""
    folder = str(Path(dbt_executable()).parent)
    saved = os.environ.get("PATH")
    os.environ["PATH"] = os.pathsep.join(filter(None, [folder, saved]))
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = saved


# What the manifest is made from (the Makefile's `manifest` target lists the same).
DBT_SOURCES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")
DBT_SOURCE_FOLDERS = ("models", "macros", "seeds", "tests", "snapshots", "analyses")


def manifest_is_current(project: DbtProject) -> bool:
    """Whether the manifest is newer than every file of the dbt project it is made from."""
    if not project.manifest_path.exists():
        return False
    built = project.manifest_path.stat().st_mtime
    files = [project.project_dir / name for name in DBT_SOURCES]
    for folder in DBT_SOURCE_FOLDERS:
        files.extend(p for p in (project.project_dir / folder).rglob("*") if p.is_file())
    return all(f.stat().st_mtime <= built for f in files if f.exists())


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
# Every `dg` command (dg dev, dg launch) and `dagster dev` ask dagster-dbt to parse the project
# again when the code loads, in each process (code server, daemon, every run). Only when a dbt file
# changed since the manifest was made: `make demo` stays as fast as before, and concurrent runs do
# not queue on dagster-dbt's parse lock.
if not manifest_is_current(dbt_project):
    with _dbt_first_on_path():
        dbt_project.prepare_if_dev()
