"""The local instance (dagster.yaml, `instance_class`): Dagster's default SQLite storage, same
files and schema, with the event log's connections kept open.

Dagster's `SqliteEventLogStorage` creates a new SQLAlchemy engine for every read and write and
closes the SQLite connection after it, so every statement is compiled again and every close runs
a WAL checkpoint. A ranged run records one materialisation per asset and date (2,555 for the
demo's year of 7 partitioned assets), each written to the run's database and mirrored to the index
database: that was ~7.5 ms an event here, about a third of the demo. This subclass keeps one engine
and one open connection per database (the index and the 8 run databases used last; an older one is
closed), which cuts an event to ~3 ms.

Dagster offers one hook that knows the instance's folder: a custom instance class's defaults
(`config_defaults(base_dir)`). `PooledSqliteInstance` uses it to make `PooledSqliteStorage` the
default storage, in the folder Dagster's default would use (`DagsterInstance.get()` with
DAGSTER_HOME, `DagsterInstance.from_config(folder)`, and the instance a run worker is handed).

What stays as it was:
- the files: runs in `history/runs.db`, schedules in `schedules/`, the event log in `history/runs/`
  (one database per run and the index), Dagster's own schema, so an existing instance keeps its
  history and Dagster's default storage reads what this one wrote;
- the UI following a run live: Dagster's watcher (`watch`) is told of new events by the run
  database's file changing, which a connection's close (its checkpoint) used to do; after a write
  to a run database this one touches that file (its modification time), so it still changes with
  every write;
- a forked process never uses (or closes) a connection it inherited: SQLite forbids it. The child
  forgets them and opens its own; the parent's stay open in the parent.

One thing is added: processes set up the databases one at a time. Dagster's SQLite storage creates
and stamps (with its schema version) each missing database when it starts, unguarded, so processes
starting together on a fresh folder (`dg dev`'s webserver, daemon and code server; two
`dagster asset materialize`) can both stamp one: the database then has two schema versions and
every later process fails on it ("more than one head present"). Creating the storage holds an
exclusive lock on `storage.lock` in the instance's folder.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from dagster import DagsterInstance

# Dagster has no public API for an instance's storage: these are the classes and the config record
# its own instance configuration uses (the one private API the project imports; test_layout.py).
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

# Dagster's names for these (a test checks they still agree): the cross-run database, and how long
# a connection waits for another process's write lock.
INDEX_SHARD_NAME = "index"
SQLITE_BUSY_TIMEOUT_SECONDS = 30

# Run databases kept open besides the index: a run process uses one; the webserver and the daemon
# read many, so older ones are closed (each open database holds 3 file descriptors).
KEPT_RUN_DATABASES = 8

# Held, in the instance's folder, by a process setting up the instance's databases (see above).
STORAGE_LOCK = "storage.lock"

_storages: weakref.WeakSet[PooledSqliteEventLogStorage] = weakref.WeakSet()
# Engines a forked child inherited: kept referenced so the child never closes the parent's
# connections (closing one would release the parent's SQLite locks on that file in the child's
# view, or checkpoint under it). Multiprocessing children end with os._exit, so they are never
# collected.
_inherited: list[Engine] = []


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with one engine and one open connection per database."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables: set[str] = set()  # tables of the index database known to exist
        super().__init__(base_dir, inst_data=inst_data)
        _storages.add(self)

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: dict[str, Any]) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)  # (Dagster's returns its own class)

    def _engine(self, shard: str) -> Engine:
        """The shard's engine (caller holds `_db_lock`): created, and the database set up, once."""
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,  # one connection is used at a time (under _db_lock); more are closed on return
                # the watcher thread reads through the same connection, one at a time
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            run_shards = [name for name in self._engines if name != INDEX_SHARD_NAME]
            for name in run_shards[:-KEPT_RUN_DATABASES]:
                self._engines.pop(name).dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            with self._engine(shard).connect() as conn:
                raw = conn.connection.dbapi_connection
                changes = raw.total_changes if raw is not None else 0
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME and raw is not None and raw.total_changes != changes:
                    # Let a watcher see the write: the database file itself changes (see above).
                    os.utime(self.path_for_shard(shard))

    def has_table(self, table_name: str) -> bool:
        """Dagster asks before every asset event and check (a new engine and connection each time);
        a table, once there, stays: only its presence is remembered."""
        if table_name in self._tables:
            return True
        found = super().has_table(table_name)
        if found:
            self._tables.add(table_name)
        return found

    def close_connections(self) -> None:
        """Close every kept connection (each close checkpoints its database)."""
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self.close_connections()  # the run databases are deleted: none may stay open
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self.close_connections()

    def _forget_after_fork(self) -> None:
        """In a forked child: drop what belongs to the parent (connections, lock, watcher thread)."""
        _inherited.extend(self._engines.values())
        self._engines = OrderedDict()
        self._db_lock = threading.Lock()  # another thread may have held it at the fork
        self._obs = None  # the watcher thread did not survive the fork
        self._watchers = defaultdict(dict)


def _after_fork_in_child() -> None:
    for storage in list(_storages):
        storage._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def event_log_directory(base_dir: str) -> str:
    """Where Dagster's default storage keeps the event log of the instance in `base_dir`."""
    return os.path.join(base_dir, "history", "runs", "")


@contextmanager
def _setting_up(base_dir: str) -> Iterator[None]:
    """One process at a time creates (or opens) the databases in `base_dir`."""
    os.makedirs(base_dir, exist_ok=True)
    with open(os.path.join(base_dir, STORAGE_LOCK), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


class PooledSqliteStorage(DagsterSqliteStorage):
    """Dagster's default storage (`DagsterSqliteStorage`: runs, event log, schedules in `base_dir`)
    with `PooledSqliteEventLogStorage` as its event log."""

    def __init__(self, base_dir: str, inst_data: Any = None):
        with _setting_up(base_dir):
            super().__init__(base_dir, inst_data=inst_data)
            self._event_log_storage = PooledSqliteEventLogStorage(event_log_directory(base_dir))

    @classmethod
    def from_config_value(cls, inst_data: Any, config_value: Any) -> PooledSqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)  # (Dagster's returns its own class)


class PooledSqliteInstance(DagsterInstance):
    """A `DagsterInstance` whose default storage is `PooledSqliteStorage` in the instance's folder;
    everything else is Dagster's default, and dagster.yaml can still set `storage` (e.g. PostgreSQL)."""

    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}

    @classmethod
    def config_defaults(cls, base_dir: str) -> dict[str, Any]:
        return {
            **InstanceRef.config_defaults(base_dir),
            "storage": ConfigurableClassData(
                __name__, PooledSqliteStorage.__name__, yaml.dump({"base_dir": base_dir}, default_flow_style=False)
            ),
        }
