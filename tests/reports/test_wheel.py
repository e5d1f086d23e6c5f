"""A built wheel runs reports: `pip install` of the wheel into a fresh venv, used from outside the checkout.

The wheel is built from the working tree and installed with --no-deps into a new virtual
environment; the dependencies are borrowed from the test environment through a .pth file (and their
Jupyter data files through JUPYTER_PATH), so the test needs no network, while lt_workbench itself
(code, notebooks, frames, schema) comes only from the wheel. Commands run from a temporary folder, so nothing can be found through the repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from lt_workbench.config import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Nothing may reach the package except through the wheel: no PYTHONPATH, no database chosen by the environment.
    clean = {k: v for k, v in (env if env is not None else os.environ).items() if k not in ("LT_WORKBENCH_DB", "PYTHONPATH")}
    return subprocess.run(args, cwd=cwd, env=clean, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv holding only the wheel (plus borrowed dependencies)."""
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO_ROOT)], cwd=root)
    assert built.returncode == 0, built.stderr
    wheel = next(dist.glob("lt_workbench-*.whl"))
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=root)
    assert made.returncode == 0, made.stderr
    purelib = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=root).stdout.strip())
    (purelib / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    inst = _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q", str(wheel)],
                cwd=root)
    assert inst.returncode == 0, inst.stderr
    where = _run([str(venv / "bin" / "python"), "-c", "import lt_workbench; print(lt_workbench.__file__)"], cwd=root)
    assert where.stdout.strip().startswith(str(purelib)), where.stdout + where.stderr
    return venv / "bin"


def test_wheel_runs_report_and_batch_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LT_WORKBENCH_DB", "PYTHONPATH")}
    # The borrowed dependencies' data files (nbconvert's HTML templates) live under the test environment's
    # share/jupyter; a real `pip install` would have put them in the new venv.
    env["JUPYTER_PATH"] = str(Path(sys.prefix) / "share" / "jupyter")
    cli = str(installed / "lt-workbench")
    db = tmp_path / "sample.duckdb"
    loaded = _run([cli, "load", str(REPO_ROOT / "data" / "sample"), "--db", str(db)], cwd=tmp_path, env=env)
    assert loaded.returncode == 0, loaded.stderr
    listing = _run([cli, "report", "--list"], cwd=tmp_path, env=env)
    assert listing.returncode == 0 and "recommendations_tracker" in listing.stdout, listing.stderr

    one = _run([cli, "report", "recommendations_tracker", "--db", str(db), "--out", "single"], cwd=tmp_path, env=env)
    assert one.returncode == 0, one.stdout + one.stderr
    pages = list((tmp_path / "single").glob("*/recommendations_tracker.html"))
    assert len(pages) == 1 and "Recommendations tracker" in pages[0].read_text(encoding="utf-8")

    batch = tmp_path / "weekly.toml"
    batch.write_text('out = "weekly"\n[defaults]\ndisclosure = "public"\n\n[[report]]\nname = "recommendations_tracker"\n'
                     'output = "tracker"\n', encoding="utf-8")
    ran = _run([cli, "batch", str(batch), "--db", str(db)], cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert list((tmp_path / "weekly").glob("*/tracker.html")) and list((tmp_path / "weekly").glob("*/manifest.json"))
