"""The production shape on one machine: `python -m deploy.stack start|stop|reload|status`
(`make stack`, `make stack-stop`, `make stack-reload`).

nginx -> two Tasklane instances (gunicorn, gunicorn.conf.py) -> PgBouncer (transaction
pooling) -> PostgreSQL, with the job worker beside them and Redis for rate limits and the
queue. Everything runs as the current user, its config, pid and log files in one run folder
(instance/stack/ by default); stopping ends only the processes whose pid files it wrote.
`start` on a running stack starts the parts that have died, on the first start's ports and
database (the environment is the caller's).
The tests (tests/stack/) start their own stack with this module, on ports of their own.

Settings (environment): STACK_PORT (nginx, 8080; the instances and PgBouncer take the next
three ports), STACK_DATABASE (tasklane_stack, created when missing), STACK_POSTGRES_URL
(postgresql://postgres@127.0.0.1:5432/postgres, to create it), STACK_REDIS_URL
(redis://127.0.0.1:6379/0), STACK_DIR (instance/stack).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the virtualenv's gunicorn and flask
INSTANCES = ("web1", "web2")
# Unprivileged user for nginx's workers and PgBouncer when started as root: PgBouncer refuses
# to run as root, and nginx's workers should not.
UNPRIVILEGED = "nobody"
# nginx and PgBouncer install to /usr/sbin, which a normal user's PATH may lack.
SEARCH_PATH = os.pathsep.join((os.environ.get("PATH", ""), "/usr/sbin", "/sbin"))
STARTUP_SECONDS = 60  # generous: a loaded 2-core machine imports the app slowly


@dataclass
class Stack:
    run: Path
    port: int  # nginx
    web_ports: dict[str, int]
    pgbouncer_port: int
    database: str
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The instances' and the worker's environment: this process's unless given, then the
    # stack's own settings, then `env`.
    base_env: dict[str, str] | None = None
    env: dict[str, str] = field(default_factory=dict)

    # ---- settings --------------------------------------------------------------------------

    @classmethod
    def from_environment(cls) -> Stack:
        port = int(os.environ.get("STACK_PORT", "8080"))
        return cls(
            run=Path(os.environ.get("STACK_DIR", ROOT / "instance" / "stack")).resolve(),
            port=port,
            web_ports={name: port + 1 + n for n, name in enumerate(INSTANCES)},
            pgbouncer_port=port + 1 + len(INSTANCES),
            database=os.environ.get("STACK_DATABASE", "tasklane_stack"),
            postgres_url=os.environ.get("STACK_POSTGRES_URL", cls.postgres_url),
            redis_url=os.environ.get("STACK_REDIS_URL", cls.redis_url),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def database_url(self, database: str | None = None) -> str:
        """Where the app connects: PgBouncer, with the server's user."""
        user = conninfo_to_dict(self.postgres_url).get("user", "postgres")
        where = f"127.0.0.1:{self.pgbouncer_port}/{database or self.database}"
        return f"postgresql+psycopg://{user}@{where}"

    def app_environment(self, name: str, database: str | None = None) -> dict[str, str]:
        base = dict(os.environ) if self.base_env is None else dict(self.base_env)
        return {
            **base,
            "FLASK_APP": "wsgi:app",
            "INSTANCE_NAME": name,
            "DATABASE_URL": self.database_url(database),
            "DATABASE_TRANSACTION_POOLING": "1",
            "TRUSTED_PROXIES": "1",  # nginx
            "RATELIMIT_STORAGE_URI": self.redis_url,
            "RATELIMIT_KEY_PREFIX": f"tasklane-{self.database}",
            "QUEUE_URL": self.redis_url,
            "BASE_URL": self.url,
            # Every instance signs cookies with the same key, kept in the run folder.
            "SECRET_KEY": self._secret_key(),
            "LOG_LEVEL": "INFO",  # the request log: which instance answered, the request id
            **self.env,
        }

    def _secret_key(self) -> str:
        path = self.run / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k not in ("base_env", "env")}
        (self.run / "stack.json").write_text(json.dumps({**data, "run": str(self.run)}))

    @classmethod
    def load(cls, run: Path) -> Stack:
        data = json.loads((run / "stack.json").read_text())
        return cls(**{**data, "run": Path(data["run"])})

    def log(self, name: str) -> Path:
        return self.run / f"{name}.log"

    # ---- the whole stack -------------------------------------------------------------------

    def start(self) -> None:
        if self.running():
            raise SystemExit(f"the stack in {self.run} is running: stop it first")
        self.run.mkdir(parents=True, exist_ok=True)
        self.save()
        try:
            self.start_pgbouncer()
            self.create_database()
            self.migrate()
            for name in INSTANCES:
                self.start_instance(name)
            self.start_worker()
            self.start_nginx()
            for name in INSTANCES:
                wait_serving(self.web_ports[name], self.pid(name))
            wait_serving(self.port)
        except BaseException:
            self.stop()
            raise

    def mend(self) -> list[str]:
        """Start the parts of this running stack that have died (an instance killed, the
        worker, PgBouncer, nginx) on the first start's ports, database and run folder (from
        stack.json); the environment is this caller's, as at any start: stack.json keeps no
        environment. `make stack` on a running stack does this. Returns the parts it started."""
        parts = {
            "pgbouncer": (self.run / "pgbouncer" / "pgbouncer.pid", self.start_pgbouncer),
            **{
                name: (self.run / f"{name}.pid", functools.partial(self.start_instance, name))
                for name in INSTANCES
            },
            "worker": (self.run / "worker.pid", self.start_worker),
            "nginx": (self.run / "nginx" / "nginx.pid", self.start_nginx),
        }
        started = []
        for name, (pid_file, start) in parts.items():  # in the order of a first start
            if not alive(read_pid(pid_file)):
                start()
                started.append(name)
        for name in INSTANCES:
            wait_serving(self.web_ports[name], self.pid(name))
        wait_serving(self.port)
        return started

    def stop(self) -> None:
        """End every process this stack started (by its pid file), the proxy first."""
        self.stop_nginx()
        for path in sorted(self.run.glob("*.pid")):  # the instances and the worker
            self.stop_process(path.stem)
        self.stop_pgbouncer()

    def running(self) -> list[str]:
        own = (self.run / "nginx" / "nginx.pid", self.run / "pgbouncer" / "pgbouncer.pid")
        return [p.stem for p in (*own, *self.run.glob("*.pid")) if alive(read_pid(p))]

    def reload(self) -> None:
        """Rolling restart: each instance in turn reloads (gunicorn's HUP: new workers with
        the new code, the old ones finish what they serve), and the next waits until its
        new workers serve. The master keeps the listening socket, so nothing is refused.

        Not stop and start: a gunicorn stopping gracefully keeps its listening socket open
        until its workers exit, so the kernel still accepts connections that nobody will
        answer; nginx would send requests there, retry the GETs, and fail the POSTs."""
        for name in INSTANCES:
            booted = self.log(name).read_text().count("Booting worker")
            os.kill(self.pid(name), signal.SIGHUP)
            workers = int(self.app_environment(name).get("WEB_CONCURRENCY", "2"))
            deadline = time.monotonic() + STARTUP_SECONDS
            while self.log(name).read_text().count("Booting worker") < booted + workers:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not boot new workers: see {self.log(name)}")
                time.sleep(0.1)
            wait_serving(self.web_ports[name], self.pid(name))
        self.route_to(INSTANCES)  # static files may have new hashes

    def route_to(self, instances) -> None:
        """nginx reloads its config (HUP: new workers, the old ones finish their requests)."""
        self.write_nginx_conf(instances)
        os.kill(read_pid(self.run / "nginx" / "nginx.pid"), signal.SIGHUP)

    # ---- PostgreSQL and PgBouncer ----------------------------------------------------------

    def create_database(self, database: str | None = None) -> None:
        name = database or self.database
        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if found.fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')

    def drop_database(self, database: str | None = None) -> None:
        with psycopg.connect(self.postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database or self.database}" WITH (FORCE)')

    def migrate(self) -> None:
        """Once, through PgBouncer, before any instance starts."""
        subprocess.run(
            [BIN / "flask", "db", "upgrade"],
            cwd=ROOT,
            env=self.app_environment("migrate"),
            check=True,
            stdout=self.log("migrate").open("a"),
            stderr=subprocess.STDOUT,
        )

    def start_pgbouncer(self) -> None:
        folder = self.run / "pgbouncer"
        folder.mkdir(exist_ok=True)
        server = conninfo_to_dict(self.postgres_url)
        fill(
            HERE / "pgbouncer.ini",
            folder / "pgbouncer.ini",
            port=self.pgbouncer_port,
            run=folder,
            postgres_host=server.get("host", "127.0.0.1"),
            postgres_port=server.get("port", "5432"),
        )
        user = server.get("user", "postgres")
        (folder / "userlist.txt").write_text(f'"{user}" ""\n')
        command = [program("pgbouncer"), "-d", str(folder / "pgbouncer.ini")]
        if os.geteuid() == 0:
            # It refuses root; as root it may switch to a user named with -u, who must own
            # the folder its pid and log files go to.
            entry = pwd.getpwnam(UNPRIVILEGED)
            for path in (folder, *folder.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            command[1:1] = ["-u", UNPRIVILEGED]
        subprocess.run(command, check=True)
        deadline = time.monotonic() + STARTUP_SECONDS
        bouncer = make_conninfo(self.postgres_url, host="127.0.0.1", port=self.pgbouncer_port)
        while True:
            try:
                with psycopg.connect(bouncer, connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PgBouncer did not start: see {folder}") from None
                time.sleep(0.2)

    def stop_pgbouncer(self) -> None:
        stop_pid_file(self.run / "pgbouncer" / "pgbouncer.pid", signal.SIGTERM)

    # ---- the instances and the worker ------------------------------------------------------

    def start_instance(
        self, name: str, *, port: int | None = None, database: str | None = None, migrate=False
    ) -> int:
        """gunicorn with the production config on `port` (its own by default), in a session
        of its own so that its workers can be killed with it. `migrate`: run `flask db
        upgrade` first, as boot.sh does in the container."""
        port = port or self.web_ports[name]
        serve = [BIN / "gunicorn", "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
        command = [*serve, "wsgi:app"]
        if migrate:
            command = ["sh", "-c", '"$0" db upgrade && exec "$@"', BIN / "flask", *command]
        return self.spawn(name, command, self.app_environment(name, database))

    def start_worker(self) -> None:
        self.spawn(
            "worker", [sys.executable, "-m", "app.jobs.worker"], self.app_environment("worker")
        )

    def spawn(self, name: str, command: list, env: dict[str, str]) -> int:
        with self.log(name).open("a") as log:
            process = subprocess.Popen(
                [str(part) for part in command],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.run / f"{name}.pid").write_text(str(process.pid))
        return process.pid

    def pid(self, name: str) -> int:
        return read_pid(self.run / f"{name}.pid")

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: gunicorn and the worker finish what they are doing first."""
        stop_pid_file(self.run / f"{name}.pid", sig, group=True)

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything in its session (gunicorn's workers)."""
        pid = self.pid(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        wait_gone(pid, 10)
        (self.run / f"{name}.pid").unlink(missing_ok=True)

    # ---- nginx -----------------------------------------------------------------------------

    def write_nginx_conf(self, instances=INSTANCES) -> Path:
        """nginx's config in the run folder, routing to `instances` (the bench uses one)."""
        from app.static_files import IMMUTABLE, fingerprint

        static = ROOT / "static"
        hashes = "\n".join(
            f'        "/static/{path.relative_to(static).as_posix()}?v={fingerprint(path)}" '
            f'"{IMMUTABLE}";'
            for path in sorted(static.rglob("*"))
            if path.is_file()
        )
        user = f"user {UNPRIVILEGED} {group_of(UNPRIVILEGED)};" if os.geteuid() == 0 else ""
        target = self.run / "nginx" / "nginx.conf"
        fill(
            HERE / "nginx.conf",
            target,
            user=user,
            run=self.run / "nginx",
            mime_types=mime_types(),
            port=self.port,
            static=static,
            static_hashes=hashes,
            upstream_servers="\n".join(
                f"        server 127.0.0.1:{self.web_ports[name]} max_fails=1 fail_timeout=5s;"
                for name in instances
            ),
        )
        return target

    def start_nginx(self) -> None:
        folder = self.run / "nginx"
        (folder / "nginx-temp").mkdir(parents=True, exist_ok=True)
        conf = self.write_nginx_conf()
        # -e: the error log before the config is read (not /var/log/nginx); -p: the prefix.
        command = [
            program("nginx"),
            "-c",
            str(conf),
            "-p",
            f"{folder}/",
            "-e",
            str(folder / "nginx-error.log"),
        ]
        check = subprocess.run([*command, "-t", "-q"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its config:\n{check.stderr}")
        subprocess.run(command, check=True)  # daemon on: returns once the master runs

    def stop_nginx(self) -> None:
        stop_pid_file(self.run / "nginx" / "nginx.pid", signal.SIGQUIT)  # graceful


# ---- helpers -------------------------------------------------------------------------------


def fill(template: Path, target: Path, **values) -> None:
    text = template.read_text()
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", str(value))
    missing = re.findall(r"\{\{\w+\}\}", text)
    if missing:
        raise ValueError(f"{template}: no value for {', '.join(missing)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(0o644)  # readable by PgBouncer's unprivileged user


def program(name: str) -> str:
    path = shutil.which(name, path=SEARCH_PATH)
    if path is None:
        raise SystemExit(f"{name} is missing: `make install-stack` installs it")
    return path


def mime_types() -> str:
    for path in ("/etc/nginx/mime.types", "/usr/local/nginx/conf/mime.types"):
        if Path(path).exists():
            return path
    raise RuntimeError("nginx's mime.types not found")


def group_of(user: str) -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def read_pid(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return 0


def alive(pid: int) -> bool:
    if pid <= 0:
        return False
    with contextlib.suppress(ChildProcessError):
        # Our own child (the tests start the stack in-process): reap it if it ended, or a
        # zombie would look alive to kill(0).
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    """Ended but not yet reaped by its parent (here PID 1 may take its time): kill(0) still
    finds it. Linux's /proc says so; elsewhere assume it runs."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"  # the state follows the (command)


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop_pid_file(path: Path, sig: int, *, group=False, seconds: float = 30) -> None:
    """Signal the process a pid file names, wait for it to end (then SIGKILL), and remove
    the file. Only ever a pid this stack wrote or had its programs write."""
    pid = read_pid(path)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig) if group else os.kill(pid, sig)
        if not wait_gone(pid, seconds):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL) if group else os.kill(pid, signal.SIGKILL)
            wait_gone(pid, 5)
    path.unlink(missing_ok=True)


def wait_serving(port: int, pid: int | None = None, seconds: float = STARTUP_SECONDS) -> None:
    """Until the server on `port` is ready to serve: GET /readyz answers 200 (its database at
    the migrations' head, Redis and the job queue answering)."""
    deadline = time.monotonic() + seconds
    while True:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        if pid is not None and not alive(pid):
            raise RuntimeError(f"the server for port {port} (pid {pid}) ended")
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing served on port {port} within {seconds} s")
        time.sleep(0.2)


def main(argv: list[str]) -> None:
    command = argv[1] if len(argv) > 1 else "start"
    run = Path(os.environ.get("STACK_DIR", ROOT / "instance" / "stack")).resolve()
    if command == "start":
        for name in ("nginx", "pgbouncer"):
            program(name)
        if (run / "stack.json").exists() and Stack.load(run).running():
            stack = Stack.load(run)  # its ports and database, not this shell's settings
            started = stack.mend()
            done = f"started again: {', '.join(started)}" if started else "it was all running"
            print(f"Tasklane's stack is serving on {stack.url} ({done})")
            return
        stack = Stack.from_environment()
        stack.start()
        print(
            f"Tasklane's stack is serving on {stack.url} (logs in {stack.run}); "
            "`make stack-stop` ends it"
        )
        return
    if not (run / "stack.json").exists():
        raise SystemExit(f"no stack in {run}")
    stack = Stack.load(run)
    if command == "stop":
        stack.stop()
    elif command == "reload":
        stack.reload()
        print("every instance reloaded")
    elif command == "status":
        print("running: " + (", ".join(stack.running()) or "nothing"))
    else:
        raise SystemExit("usage: python -m deploy.stack start|stop|reload|status")


if __name__ == "__main__":
    main(sys.argv)
