"""The container image, without a Docker engine: the Dockerfile's app stage is read (its
COPY, WORKDIR, ENV, RUN's directories, USER and CMD), exactly what it copies is laid out in
a temporary folder, requirements.txt is installed into a fresh venv, and the CMD (boot.sh)
runs as an unprivileged user against a new PostgreSQL database: it must migrate and answer
/readyz, the sign-in page and the static files that page names. Then the same check with one
COPY line left out must fail, for each COPY line: the checker notices what the image lacks.

What stands in for the image: the venv's bin/ first on PATH (the image installs into the
system Python), the Python of the FROM line's version from this machine, the node stage's
node_modules/ taken from the work tree (as `npm ci` leaves it). Slow (a venv and pip: tens of
seconds, then a boot per COPY line), so marked `slow`; it runs in `make test` all the same.
"""

from __future__ import annotations

import contextlib
import fnmatch
import http.client
import json
import os
import pwd
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.helpers import new_database
from tests.live import Client, free_port

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

UNPRIVILEGED = "nobody"  # the stand-in for the image's `tasklane` user (no login, no home)
READY_WITHIN = 180  # seconds from boot.sh's start to /readyz 200, on a machine other jobs load


# ---- reading the Dockerfile ---------------------------------------------------------------


@dataclass
class Stage:
    image: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    @property
    def workdir(self) -> str:
        return self.values("WORKDIR")[-1]


def read_dockerfile(text: str) -> dict[str, Stage]:
    """The stages by name (`FROM image AS name`), each with its instructions, continuation
    lines joined and comments dropped."""
    stages: dict[str, Stage] = {}
    current: Stage | None = None
    logical = re.sub(r"\\\n", " ", "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    ))  # fmt: skip
    for line in logical.splitlines():
        if not line.strip():
            continue
        keyword, _, args = line.strip().partition(" ")
        keyword, args = keyword.upper(), args.strip()
        if keyword == "FROM":
            image, _, name = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", args, re.I).group(0, 1, 2)
            current = stages[name] = Stage(image=image, name=name)
        else:
            assert current is not None, f"{keyword} before FROM"
            current.instructions.append((keyword, args))
    return stages


def parse_env(args: str) -> dict[str, str]:
    words = shlex.split(args)
    if words and "=" not in words[0]:  # the old form, ENV NAME value
        return {words[0]: " ".join(words[1:])}
    return dict(word.split("=", 1) for word in words)


def parse_copy(args: str) -> tuple[dict[str, str], list[str], str]:
    """(flags, sources, destination) of a COPY line."""
    words = shlex.split(args)
    flags = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    if words and words[0].startswith("["):
        words = json.loads(" ".join(words))
    return flags, words[:-1], words[-1]


# ---- laying out what the app stage copies ---------------------------------------------------


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `relative` (or a folder it is in) out of the context."""
    parts = relative.split("/")
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        for n in range(1, len(parts) + 1):
            path = "/".join(parts[:n])
            if fnmatch.fnmatchcase(path, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(parts[n - 1], bare)
            ):
                return True
    return False


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip().rstrip("/") for line in lines if line.strip() and line[0] != "#"]
    assert not any(p.startswith("!") for p in patterns), "exceptions (!) are not handled here"
    return patterns


def _copy_tree(source: Path, target: Path, patterns: list[str]) -> None:
    """Copy `source` to `target`, leaving out what `patterns` ignore (matched against paths
    in the build context, ROOT)."""
    if ignored(source.relative_to(ROOT).as_posix(), patterns):
        return
    if source.is_dir():
        target.mkdir(parents=True, exist_ok=True)
        for child in source.iterdir():
            _copy_tree(child, target / child.name, patterns)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _resolve_source(flags: dict, source: str, stages: dict[str, Stage]) -> Path:
    stage = flags.get("from")
    if not stage:
        return ROOT / source
    # Another stage's file: the node stage's WORKDIR holds what `npm ci` made there, which
    # is node_modules/ of the work tree (`make vendor` ran the same `npm ci`).
    relative = Path(source).relative_to(stages[stage].workdir)
    assert relative.parts[0] == "node_modules", f"only {stage}'s node_modules is known here"
    return ROOT / relative


def lay_out(stages: dict[str, Stage], filesystem: Path, *, skip: str | None = None) -> Stage:
    """Copy into `filesystem` (the image's /) what the app stage copies, leaving out the COPY
    line `skip`; make the folders its RUN lines make. Returns the app stage."""
    app = stages["app"]
    patterns = dockerignore()
    workdir = filesystem / app.workdir.lstrip("/")
    workdir.mkdir(parents=True, exist_ok=True)
    for args in app.values("COPY"):
        if args == skip:
            continue
        flags, sources, destination = parse_copy(args)
        target = workdir / destination
        # .dockerignore filters the build context, not what another stage made.
        ignoring = [] if flags.get("from") else patterns
        for source in sources:
            path = _resolve_source(flags, source, stages)
            assert path.exists(), f"COPY {args}: {path} does not exist"
            into_folder = destination.endswith("/") or len(sources) > 1
            named = target / path.name if into_folder and not path.is_dir() else target
            _copy_tree(path, named, ignoring)
    for args in app.values("RUN"):
        for folder in re.findall(r"mkdir -p (\S+)", args):
            (filesystem / folder.lstrip("/")).mkdir(parents=True, exist_ok=True)
    return app


def owned_folders(app: Stage, filesystem: Path) -> list[Path]:
    """The folders the app stage's RUN lines chown to its user: the only writable ones."""
    return [
        filesystem / folder.lstrip("/")
        for args in app.values("RUN")
        for folder in re.findall(r"chown\s+\S+\s+(\S+)", args)
    ]


# ---- running it ----------------------------------------------------------------------------


def _reachable_by_others(path: Path) -> bool:
    """Whether a user other than root may execute `path` (every folder on the way open)."""
    path = path.resolve()
    folders_open = all(p.stat().st_mode & stat.S_IXOTH for p in path.parents)
    return path.is_file() and folders_open and bool(path.stat().st_mode & stat.S_IXOTH)


def python_for(image: str) -> Path:
    version = re.match(r"python:(\d+\.\d+)", image).group(1)
    for candidate in (f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"):
        if Path(candidate).exists() and _reachable_by_others(Path(candidate)):
            return Path(candidate)
    pytest.skip(f"no Python {version} that an unprivileged user can run")


def run_user() -> tuple[int | None, str]:
    """As root: the unprivileged user's uid. Otherwise None: the tests run as whoever runs
    them (an unprivileged user already)."""
    if os.geteuid() != 0:
        return None, f"the current user ({pwd.getpwuid(os.geteuid()).pw_name}), not root"
    return pwd.getpwnam(UNPRIVILEGED).pw_uid, UNPRIVILEGED


def install(venv: Path, workdir: Path) -> None:
    """The image's `pip install -r requirements.txt`, into the venv (pip's cache allowed)."""
    requirements = workdir / "requirements.txt"
    assert requirements.exists(), "no requirements.txt in the image"
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def boots_and_serves(app: Stage, filesystem: Path, venv: Path, database_url: str) -> None:
    """Start the CMD as the unprivileged user with the stage's ENV; fail (AssertionError)
    unless it answers /readyz 200, the sign-in page and every static file that page names,
    and its HEALTHCHECK passes."""
    try:
        _boot_and_ask(app, filesystem, venv, database_url)
    except (OSError, http.client.HTTPException) as error:  # no CMD, a dropped connection...
        log = filesystem / "boot.log"
        said = log.read_text()[-3000:] if log.exists() else ""
        raise AssertionError(f"the image does not serve: {error!r}\n{said}") from error


def _boot_and_ask(app: Stage, filesystem: Path, venv: Path, database_url: str) -> None:
    uid, _ = run_user()
    workdir = filesystem / app.workdir.lstrip("/")
    install(venv, workdir)
    home = filesystem / "home"
    home.mkdir(exist_ok=True)
    for folder in [*owned_folders(app, filesystem), home]:
        if uid is not None:
            os.chown(folder, uid, -1)
    port = free_port()
    env = {
        **{k: v for args in app.values("ENV") for k, v in parse_env(args).items()},
        "PATH": f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "container-test-secret",
        "LANG": "C.UTF-8",
    }
    command = json.loads(app.values("CMD")[-1])
    log = filesystem / "boot.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            user=uid,
            group=None if uid is None else pwd.getpwuid(uid).pw_gid,
            extra_groups=None if uid is None else [],
            start_new_session=True,  # one group: gunicorn, its workers, the queue consumer
        )
    try:
        _wait_ready(process, f"127.0.0.1:{port}", log)
        client = Client(f"127.0.0.1:{port}", timeout=10)
        page = client.get("/login")
        assert page.status == 200, f"/login answered {page.status}\n{log.read_text()[-3000:]}"
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page.body)
        assert assets, "the sign-in page names no static file"
        for asset in assets:
            assert client.get(asset).status == 200, f"{asset} is missing from the image"
        probe = subprocess.run(
            healthcheck(app), cwd=workdir, env=env, user=uid, capture_output=True, timeout=10
        )
        assert probe.returncode == 0, f"the HEALTHCHECK failed: {probe.stderr}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def healthcheck(app: Stage) -> list[str]:
    """The HEALTHCHECK's command (exec form), its options left to Docker."""
    (args,) = app.values("HEALTHCHECK")
    return json.loads(args[args.index("CMD") + len("CMD") :])


def _wait_ready(process, base: str, log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"boot.sh exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError):
            response = Client(base, timeout=5).get("/readyz")
            if response.status == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"/readyz never answered 200:\n{log.read_text()[-3000:]}")


# ---- the tests -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    return read_dockerfile((ROOT / "Dockerfile").read_text())


@pytest.fixture(scope="module")
def scratch():
    """A folder the unprivileged user can enter (pytest's own are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="tasklane-image-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def venv(stages, scratch) -> Path:
    """A fresh venv of the FROM line's Python, for the image's site-packages."""
    path = scratch / "venv"
    python = python_for(stages["app"].image)
    subprocess.run([str(python), "-m", "venv", str(path)], check=True, timeout=120)
    return path


def test_the_image_migrates_and_serves_as_an_unprivileged_user(
    stages, scratch, venv, postgres_url, tmp_path
):
    filesystem = scratch / "full"
    app = lay_out(stages, filesystem)
    assert app.values("USER") == ["tasklane"], "the image must not run as root"
    assert "/healthz" in " ".join(healthcheck(app)), "liveness, not readiness, for Docker"
    uid, who = run_user()
    with new_database(postgres_url, tmp_path) as database:
        boots_and_serves(app, filesystem, venv, database)
    print(f"boot.sh ran as {who}")  # shown with -s
    # As root, the user wrote only where the image lets it: the folders chowned to it.
    writable = owned_folders(app, filesystem)
    written = [
        path
        for path in (filesystem / "app").rglob("*")
        if path.stat().st_uid == uid and not any(f == path or f in path.parents for f in writable)
    ]
    assert not written, written
    assert uid is None or any(p.stat().st_uid == uid for f in writable for p in f.rglob("*"))


def _copy_lines() -> list[str]:
    return read_dockerfile((ROOT / "Dockerfile").read_text())["app"].values("COPY")


@pytest.mark.parametrize("missing", _copy_lines())
def test_the_check_fails_without_any_one_copy_line(
    stages, scratch, venv, postgres_url, tmp_path, missing
):
    filesystem = scratch / f"without-{free_port()}"
    app = lay_out(stages, filesystem, skip=missing)
    with new_database(postgres_url, tmp_path) as database, pytest.raises(AssertionError):
        boots_and_serves(app, filesystem, venv, database)


def test_the_layout_follows_dockerignore():
    patterns = dockerignore()
    assert ignored("app/__pycache__/x.pyc", patterns)
    assert ignored("static/vendor/htmx.min.js", patterns)
    assert not ignored("static/css/app.css", patterns)
