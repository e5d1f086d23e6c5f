"""Fault injection: kills and interrupts at random moments of a load (workers included), a full disk,
Ctrl-C at COMMIT. After each: no orphan process, nothing left in /dev/shm, the outcome reported
equal to what the database holds (checked by content hash), and the next load succeeds."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import duckdb
import pytest

from lt_workbench.exceptions import LoadError, LoadInterrupted
from lt_workbench.model.files import leftovers, manifest_path, sources_path
from lt_workbench.model.load import load
from lt_workbench.model.publish import held_signals
from lt_workbench.model.snapshot import snapshot, verify_file

CORPUS = sorted((Path(__file__).parent.parent / "data" / "tabulate" / "corpus").glob("*.json"))
TRIALS = 20

# The CLI's load, forced through the worker processes (as a large batch would be) on this small corpus.
LOADER = textwrap.dedent("""
    import sys
    import lt_workbench.model.load as L
    L._PARALLEL_FROM = 0
    _load = L.load
    L.load = lambda *a, **k: _load(*a, **{**k, "workers": 2})
    from lt_workbench.cli import main
    sys.argv = ["lt-workbench", "load", *sys.argv[1:]]
    print("ready", flush=True)
    main()
""")


def _tagged_processes(tag: str) -> list[int]:
    """Processes whose environment carries this trial's tag (the loader and any worker it forked)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"LT_TRIAL={tag}".encode() in f.read().split(b"\0"):
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _shm_of(pid: int) -> list[str]:
    shm = Path("/dev/shm")
    return [p.name for p in shm.glob(f"lt-workbench-load-{pid}-*")] if shm.is_dir() else []


def _hash(db: Path) -> str:
    return str(snapshot(db)["content_hash"])


def _copy_db(src: Path, dst: Path) -> None:
    for a, b in ((src, dst), (manifest_path(src), manifest_path(dst)), (sources_path(src), sources_path(dst))):
        shutil.copyfile(a, b)
    # The manifest knows the file by inode: a copy is a new file, so publish its own entry.
    text = manifest_path(dst).read_text().replace(f'"inode": {src.stat().st_ino}', f'"inode": {dst.stat().st_ino}')
    manifest_path(dst).write_text(text)


@pytest.mark.timeout(1200)
def test_random_kills_and_interrupts_during_load_leave_the_truth_and_no_leftovers(tmp_path: Path) -> None:
    base = tmp_path / "base.duckdb"
    load(CORPUS[:20], base, progress=False)
    before = _hash(base)
    after_db = tmp_path / "after.duckdb"
    _copy_db(base, after_db)
    load(CORPUS, after_db, progress=False)
    after = _hash(after_db)
    assert before != after

    def run(db: Path, tag: str) -> tuple[subprocess.Popen[str], float]:
        env = {**os.environ, "LT_TRIAL": tag}
        proc = subprocess.Popen([sys.executable, "-c", LOADER, *map(str, CORPUS), "--db", str(db), "--wait", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        return proc, time.monotonic()

    calibrate = tmp_path / "calibrate.duckdb"
    _copy_db(base, calibrate)
    proc, t0 = run(calibrate, uuid.uuid4().hex)
    proc.communicate(timeout=300)
    span = time.monotonic() - t0
    assert proc.returncode == 0

    rng = random.Random(13)
    seen: dict[str, int] = {}
    for trial in range(TRIALS):
        db = tmp_path / f"trial{trial}.duckdb"
        _copy_db(base, db)
        tag = uuid.uuid4().hex
        sig = rng.choice([signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
        proc, t0 = run(db, tag)
        time.sleep(rng.uniform(0, span * 0.9))  # span includes the exit: most kills land mid-load
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=300)
        rc = proc.returncode
        deadline = time.monotonic() + 20
        while _tagged_processes(tag) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _tagged_processes(tag) == [], f"trial {trial}: orphan processes after {sig.name}"
        assert _shm_of(proc.pid) == [], f"trial {trial}: shared memory left after {sig.name}"
        assert "Traceback" not in err, f"trial {trial} ({sig.name}):\n{err}"
        state = _hash(db)
        verify_file(db)  # the published file is whole
        if "published snapshot" in out:
            assert state == after and rc in (0, -sig), (trial, sig.name, out, err)  # (a kill may land after the report)
            outcome = "published"
        elif err.strip() == "lt-workbench: interrupted":  # while the command line was being read: nothing begun
            assert state == before and rc == 130, (trial, sig.name, out, err)
            outcome = "unchanged"
        elif "the database is unchanged" in err:
            assert state == before and rc == 2, (trial, sig.name, out, err)
            outcome = "unchanged"
        else:  # no word: killed outright (SIGKILL, or a signal before the command began)
            assert rc < 0, (trial, sig.name, rc, out, err)
            assert state in (before, after)
            outcome = "killed"
        seen[f"{sig.name}:{outcome}"] = seen.get(f"{sig.name}:{outcome}", 0) + 1
        # The next run succeeds and tidies what a killed writer left.
        again = subprocess.run([sys.executable, "-m", "lt_workbench", "load", *map(str, CORPUS), "--db", str(db)],
                               capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert _hash(db) == after and leftovers(db) == []
    print(seen)
    assert sum(seen.values()) == TRIALS


def test_ctrl_c_at_commit_says_the_database_is_unchanged_and_it_is(tmp_path: Path) -> None:
    db = tmp_path / "c.duckdb"
    load(CORPUS[:10], db, progress=False)
    before = _hash(db)

    def ctrl_c(con: duckdb.DuckDBPyConnection) -> None:
        raise KeyboardInterrupt

    with pytest.raises(LoadInterrupted, match="before anything was published: the database is unchanged"):
        load(CORPUS, db, progress=False, _before_commit=ctrl_c)
    assert _hash(db) == before and leftovers(db) == []


def test_an_interrupt_while_publishing_is_held_until_the_snapshot_is_whole() -> None:
    with held_signals() as got:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
    assert got == [signal.SIGINT, signal.SIGTERM]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_disk_error_inside_duckdb_is_the_message(tmp_path: Path) -> None:
    db = tmp_path / "e.duckdb"
    load(CORPUS[:10], db, progress=False)
    before = _hash(db)

    def disk(con: duckdb.DuckDBPyConnection) -> None:
        raise duckdb.IOException('IO Error: Could not write file "x.wal": Input/output error')

    with pytest.raises(LoadError, match=r"input/output error \(EIO\).*the database is unchanged"):
        load(CORPUS, db, progress=False, _before_commit=disk)
    assert _hash(db) == before and leftovers(db) == []


def _can_mount() -> bool:
    return sys.platform.startswith("linux") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount(), reason="needs root to mount a small tmpfs")
def test_a_full_disk_says_so_and_leaves_the_published_snapshot_and_room(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(disk)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        db = disk / "full.duckdb"
        load(CORPUS[:10], db, progress=False)
        before = _hash(db)
        sample = Path(__file__).parents[2] / "data" / "sample"
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * max(0, free - db.stat().st_size - 256 * 1024))  # room for less than a copy
        done = subprocess.run([sys.executable, "-m", "lt_workbench", "load", str(sample), "--db", str(db)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 2, done.stderr
        assert "the disk is full (no space left on device)" in done.stderr and "unchanged" in done.stderr
        assert "Traceback" not in done.stderr and "ROLLBACK" not in done.stderr
        assert _hash(db) == before and leftovers(db) == []
        filler.unlink()
        assert subprocess.run([sys.executable, "-m", "lt_workbench", "load", str(CORPUS[11]), "--db", str(db)],
                              capture_output=True, text=True, timeout=300).returncode == 0
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


# A Python caller of load() (a scheduler running it in a process of its own), with SIGTERM at its default action
# or the caller's own handler; `when` is where SIGTERM arrives: in the middle of the checking workers (before
# commit, with worker processes and their /dev/shm files alive), or during the publication (held back).
CALLER = textwrap.dedent("""
    import os, signal, sys, time
    import lt_workbench.model.load as L
    import lt_workbench.model.publish as P
    db, when, handler, *files = sys.argv[1:]
    L._PARALLEL_FROM = 0
    if handler == "own":
        def own(signum, frame):
            print("own handler ran", flush=True)
            sys.exit(143)
        signal.signal(signal.SIGTERM, own)
    hook = None
    if when == "workers":
        real_read = L._read_spilled
        def read_spilled(files):  # the first chunk back from a worker: the others are still being checked
            os.kill(os.getpid(), signal.SIGTERM)
            return real_read(files)
        L._read_spilled = read_spilled
    else:
        real_replace = P.os.replace
        def replace(a, b):  # the rename that publishes
            os.kill(os.getpid(), signal.SIGTERM)
            return real_replace(a, b)
        P.os.replace = replace
    try:
        r = L.load(files, db, workers=2, progress=False)
        print("returned", r.late_signals, flush=True)
    except BaseException as e:
        print("raised", type(e).__name__, flush=True)
        raise
    time.sleep(1)
    print("still running", flush=True)
""")


@pytest.mark.parametrize("when,handler", [("workers", "default"), ("publishing", "default"), ("workers", "own"), ("publishing", "own")])
def test_sigterm_in_a_python_caller_unwinds_the_load_then_ends_the_process_as_asked(tmp_path: Path, when: str, handler: str) -> None:
    db = tmp_path / "p.duckdb"
    load(CORPUS[:20], db, progress=False)
    before = _hash(db)
    tag = uuid.uuid4().hex
    proc = subprocess.Popen([sys.executable, "-c", CALLER, str(db), when, handler, *map(str, CORPUS)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "LT_TRIAL": tag})
    out, err = proc.communicate(timeout=300)
    deadline = time.monotonic() + 20
    while _tagged_processes(tag) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _tagged_processes(tag) == [], "worker processes outlived the caller"
    spilled = [*_shm_of(proc.pid), *(p.name for p in Path(tempfile.gettempdir()).glob(f"lt-workbench-load-{proc.pid}-*"))]
    assert spilled == [], f"the workers' files were left behind: {spilled}"
    assert leftovers(db) == [], "the unpublished copy was left beside the database"
    verify_file(db)
    assert "still running" not in out, "SIGTERM was swallowed: the caller kept running"
    assert "Traceback" not in err or handler == "own", err
    if handler == "default":
        assert proc.returncode == -signal.SIGTERM, (proc.returncode, out, err)
    else:
        assert proc.returncode == 143 and "own handler ran" in out, (proc.returncode, out, err)
    state = _hash(db)
    assert state == (before if when == "workers" else _hash_of_full_load(tmp_path)), (when, handler, out)
    again = load(CORPUS, db, progress=False)  # the next load runs as usual
    assert again.snapshot_id and leftovers(db) == []


def _hash_of_full_load(tmp_path: Path) -> str:
    full = tmp_path / "full.duckdb"
    if not full.exists():
        load(CORPUS, full, progress=False)
    return _hash(full)
