"""The explorer in a real browser: JupyterLab on 127.0.0.1 driven by Debian's Chromium through Playwright.

What it proves that the Python-side tests cannot: the notebook runs in a real kernel, plotly's
FigureWidget (anywidget) renders, a filter changed in the page reaches the kernel and the chart is
redrawn with new data, clicks on bars reach Python, and the download button delivers a file.

Everything lives in a temporary folder: HOME, Jupyter's config/data/runtime dirs, IPython's dir,
JupyterLab's settings, the notebook root and the database (the synthetic sample). The system
Chromium is used (`/usr/bin/chromium`); a browser is never downloaded. The server and its kernels run
in their own process group, killed in the fixture's teardown.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

HERE = Path(__file__).parent.parent
REPO = HERE.parent
NOTEBOOK = REPO / "notebooks" / "explorer.ipynb"
SAMPLE = REPO / "data" / "sample"
ARTIFACTS = HERE / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (127.0.0.1 only)
        return json.loads(r.read().decode("utf-8"))


class Lab:
    """A running JupyterLab: its URL pieces and log, for the test and for failure messages."""

    def __init__(self, port: int, token: str, root: Path, home: Path, log: Path, proc: subprocess.Popen, db: Path) -> None:
        self.port, self.token, self.root, self.home, self.log, self.proc = port, token, root, home, log, proc
        self.db = db
        self.ledger = db.with_name("releases.sqlite")  # the explorer session's release ledger (LT_WORKBENCH_LEDGER)

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def kernels_idle(self) -> bool:
        sessions = _get_json(self.url("api/sessions"))
        states = [s.get("kernel", {}).get("execution_state") for s in sessions]
        return bool(states) and all(st == "idle" for st in states)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    # CI sets LT_WORKBENCH_REQUIRE_BROWSER=1 (.ci/run): there a missing browser is a failure, not a skip.
    required = os.environ.get("LT_WORKBENCH_REQUIRE_BROWSER") == "1"
    give_up = pytest.fail if required else pytest.skip
    if not CHROMIUM.exists():
        give_up(
            "BROWSER TEST SKIPPED: /usr/bin/chromium is missing. Install Debian's chromium "
            "(`make browser-deps`, or `apt-get install -y chromium` as root); this test never downloads a browser."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        give_up("BROWSER TEST SKIPPED: the playwright Python package is not installed (pip install -e '.[test]')")
    from lt_workbench.model.load import load

    base = tmp_path_factory.mktemp("lab")
    home, root = base / "home", base / "root"
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": base / "jupyter" / "config",
        "JUPYTER_DATA_DIR": base / "jupyter" / "data",
        "JUPYTER_RUNTIME_DIR": base / "jupyter" / "runtime",
        "IPYTHONDIR": base / "ipython",
        "JUPYTERLAB_SETTINGS_DIR": base / "jupyter" / "lab" / "user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "jupyter" / "lab" / "workspaces",
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
        "MPLCONFIGDIR": home / ".mpl",
    }
    for d in [*dirs.values(), root]:
        d.mkdir(parents=True, exist_ok=True)
    # No calls home from the page: no news feed, no update check (their toasts would also cover the page).
    notif = dirs["JUPYTERLAB_SETTINGS_DIR"] / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True, exist_ok=True)
    (notif / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    db = base / "sample.duckdb"
    result = load([SAMPLE], db, progress=False)
    assert result.exit_code == 0, result.summary()
    shutil.copy(NOTEBOOK, root / "explorer.ipynb")

    port, token = _free_port(), uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON"))}
    env.update({k: str(v) for k, v in dirs.items()})
    env["LT_WORKBENCH_DB"] = str(db)
    env["LT_WORKBENCH_LEDGER"] = str(db.with_name("releases.sqlite"))
    env["PYTHONNOUSERSITE"] = "1"
    log = base / "jupyterlab.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--allow-root", "--no-browser", "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--ServerApp.disable_check_xsrf=False",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(port, token, root, home, log, proc, db)
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                _get_json(server.url("api/status"), timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer within 90 s:\n{server.log_tail()}")
                time.sleep(0.5)
        yield server
    finally:
        # The server and its kernels share a process group we created: end exactly that group.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


# JavaScript read from the page: plotly keeps each figure's data on its graph div (gd.data).
_FIGURES_JS = """
() => Array.from(document.querySelectorAll('.jp-OutputArea .js-plotly-plot')).map(gd => ({
  title: (gd.layout && gd.layout.title && gd.layout.title.text) || '',
  traces: (gd.data || []).map(t => ({type: t.type, x: t.x ? Array.from(t.x) : null, y: t.y ? Array.from(t.y) : null,
                                      z: t.z ? Array.from(t.z).map(r => Array.from(r || [])) : null})),
  ticks: Array.from(gd.querySelectorAll('.yaxislayer-above .ytick text')).map(e => e.textContent),
  bars: gd.querySelectorAll('.bars .point path').length,
  paths: Array.from(gd.querySelectorAll('.bars .point path')).map(p => p.getAttribute('d')),
  notes: ((gd.layout && gd.layout.annotations) || []).map(a => a.text || ''),
}))
"""


# Layout facts read from the page: every filter control inside the viewport (after scrolling it into view),
# the evidence panel's box against every plot area, axis titles against their figure's box.
_LAYOUT_JS = """
() => {
  const r = e => { const b = e.getBoundingClientRect(); return {x: b.left, y: b.top, r: b.right, b: b.bottom}; };
  const hit = (a, b) => a.x < b.r - 1 && b.x < a.r - 1 && a.y < b.b - 1 && b.y < a.b - 1;
  const root = document.querySelector('.jp-OutputArea .ltw-root');
  const W = window.innerWidth, H = window.innerHeight;
  const fb = document.querySelector('#filebrowser');
  const controls = Array.from(root.querySelectorAll('.ltw-filters .widget-dropdown, .ltw-filters .widget-hslider,'
    + ' .ltw-filters .widget-toggle-buttons, .ltw-filters .widget-inline-hbox'));
  const outside = [];
  for (const c of controls) {
    c.scrollIntoView({block: 'center', inline: 'nearest'});
    const b = r(c);
    if (b.x < 0 || b.r > W + 0.5 || b.y < 0 || b.b > H + 0.5) outside.push({label: c.textContent.slice(0, 30), box: b});
  }
  root.scrollIntoView({block: 'start'});
  const ev = r(root.querySelector('.ltw-evidence'));
  const plots = Array.from(root.querySelectorAll('.js-plotly-plot'));
  const overlaps = [];
  const cut = [];
  for (const [i, p] of plots.entries()) {
    for (const area of p.querySelectorAll('.nsewdrag, .ytick text, .xtick text, .bars .point path')) {
      if (hit(ev, r(area))) { overlaps.push({plot: i, what: area.getAttribute('class') || area.tagName}); break; }
    }
    const fig = r(p);
    for (const t of p.querySelectorAll('.g-xtitle text, .g-ytitle text, .gtitle')) {
      const b = r(t);
      if (b.r > b.x && (b.x < fig.x - 1 || b.r > fig.r + 1 || b.b > fig.b + 1)) cut.push({plot: i, text: t.textContent.slice(0, 40)});
    }
  }
  const last = r(plots[plots.length - 1]);
  return {filebrowser: !!fb && fb.offsetWidth > 0, controls: controls.length, outside, overlaps, cut_titles: cut,
          evidence_below: ev.y >= last.b - 1, evidence: ev, width: W};
}
"""


def _figures(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(_FIGURES_JS)


def _dropdown(page: Any, label: str) -> Any:
    return page.locator(f".jp-OutputArea .widget-dropdown:has(label:text-is('{label}')) select")


def _bar_x(page: Any) -> list[float] | None:
    figs = _figures(page)
    return figs[0]["traces"][0]["x"] if figs and figs[0]["traces"] else None


def _click_first_bar(page: Any) -> None:
    bar = page.locator(".jp-OutputArea .js-plotly-plot").first.locator(".bars .point path").first
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box is not None, "no bar to click"
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)


@pytest.mark.timeout(420)
def test_explorer_runs_and_redraws_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    import duckdb
    import pandas as pd

    from lt_workbench.analysis import tabulate as tab

    with duckdb.connect(str(lab.db), read_only=True) as c:
        last = int(c.execute("SELECT max(year_completed) FROM stg_reviews").fetchall()[0][0])
    shot = tmp_path / "explorer.png"
    console: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            env={**{k: v for k, v in os.environ.items() if k not in ("HOME",)}, "HOME": str(lab.home)}, timeout=60_000,
        )
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 3000}, accept_downloads=True)
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(lab.url("lab/tree/explorer.ipynb"), wait_until="domcontentloaded")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)

            # Wait for the kernel to be idle (REST and the notebook toolbar both say so) before Run All.
            deadline = time.monotonic() + 90
            while not lab.kernels_idle():
                assert time.monotonic() < deadline, f"kernel never idle:\n{lab.log_tail()}"
                time.sleep(0.5)
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)

            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()

            # The three figures render with data; the first is the bar chart with plain-words labels.
            page.wait_for_function(
                "() => { const g = document.querySelectorAll('.jp-OutputArea .js-plotly-plot');"
                " return g.length >= 3 && g[0].data && g[0].data[0] && g[0].data[0].x && g[0].data[0].x.length > 0"
                " && g[0].querySelectorAll('.bars .point path').length > 0; }",
                timeout=120_000,
            )
            status = page.locator(".jp-OutputArea .ltw-status").first
            expect(status).to_contain_text("reviews in scope")
            before = _figures(page)
            assert "Top recurring patterns" in before[0]["title"]
            assert before[0]["bars"] > 0
            assert any("·" in t and any(ch.islower() for ch in t) for t in before[0]["ticks"]), before[0]["ticks"]
            x_before = before[0]["traces"][0]["x"]
            y_before = before[0]["traces"][0]["y"]

            # Change a filter in the page: Region -> North West. The chart must be redrawn with new data.
            region = _dropdown(page, "Region")
            region.scroll_into_view_if_needed()
            region.select_option(label="North West")
            page.wait_for_function(
                "(old) => { const g = document.querySelector('.jp-OutputArea .js-plotly-plot');"
                " return g && g.data && JSON.stringify(Array.from(g.data[0].x)) !== JSON.stringify(old); }",
                arg=x_before, timeout=60_000,  # both sides stringified by the page (Python's json.dumps adds spaces)
            )
            expect(status).to_contain_text("North West")
            region_figs = _figures(page)
            # the bars were redrawn, with data (North West over all years has counts to show in public mode)
            assert region_figs[0]["bars"] > 0 and region_figs[0]["paths"] != before[0]["paths"]
            x_region = region_figs[0]["traces"][0]["x"]

            # Public mode: a click on a bar reaches Python, which explains why evidence is not shown.
            evidence = page.locator(".jp-OutputArea .ltw-evidence")
            _click_first_bar(page)
            expect(evidence).to_contain_text("not shown in public mode", timeout=30_000)

            # "since 2015": type into the year slider's readout, as a user can.
            readout = page.locator(".jp-OutputArea .widget-hslider:has(label:text-is('Years')) .widget-readout").first
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type(f"2015 - {last}")
            page.keyboard.press("Enter")
            expect(status).to_contain_text(f"2015–{last}", timeout=30_000)
            page.wait_for_function(
                "(old) => { const g = document.querySelector('.jp-OutputArea .js-plotly-plot');"
                " return g && g.data && JSON.stringify(Array.from(g.data[0].x)) !== JSON.stringify(old); }",
                arg=x_region, timeout=60_000,
            )
            after = _figures(page)
            x_after, y_after = after[0]["traces"][0]["x"], after[0]["traces"][0]["y"]
            assert (x_after, y_after) != (x_before, y_before)
            # ... with tabulate's numbers for these filters (public mode: suppressed patterns have no bar), asked in
            # the session's release: one number per question (protected alone, a range linked to its single-year
            # slices may hide differently from the session, which published the all-years views first)
            from lt_workbench.analysis.publish import public_release

            with public_release(lab.db, ledger=lab.ledger):
                expected = tab.frequency("patterns", level=2, where={"region": "north_west", "year": range(2015, last + 1)},
                                         db=lab.db, disclosure="public")
            shown = expected.assign(n=pd.to_numeric(expected["count"], errors="coerce"),
                                    p=pd.to_numeric(expected["percent"], errors="coerce"))
            shown = shown[(shown["n"] > 0) & shown["p"].notna()].sort_values("n", ascending=False, kind="mergesort").head(15)
            assert x_after == pytest.approx(list(shown["p"]))
            assert [y.rsplit(" · ", 1)[-1] for y in y_after] == list(shown["code"])
            assert after[0]["bars"] == len(shown)
            if not len(shown):  # on the sample, after the national and North West views: all hidden, and it says why
                assert any(n.startswith("Nothing can be shown here in public mode") for n in after[0]["notes"]), after[0]["notes"]
            # The year heat map follows the filter too (its cells are the same patterns as the bars). In public mode
            # the session's release may refuse single years (and periods) beside the totals on the bars: then the
            # figure says so instead of drawing (on the sample, North West 2015-: a total of 10 over eight years).
            year = after[1]
            assert year["traces"][0]["y"] or year["title"] == "By year: not shown in public mode", year["title"]

            # Restricted mode: the same click opens what reviewers wrote.
            page.locator(".jp-OutputArea .widget-toggle-buttons button", has_text="Restricted").first.click()
            expect(status).to_contain_text("Restricted", timeout=30_000)
            page.wait_for_function(
                "() => { const g = document.querySelector('.jp-OutputArea .js-plotly-plot');"
                " return g && g.querySelectorAll('.bars .point path').length > 0; }", timeout=30_000)
            page.wait_for_function(  # restricted: outside releases, the year heat map is drawn
                "() => { const g = document.querySelectorAll('.jp-OutputArea .js-plotly-plot');"
                " return g.length >= 2 && g[1].data && g[1].data[0].y && g[1].data[0].y.length > 0; }", timeout=30_000)
            _click_first_bar(page)
            expect(evidence).to_contain_text("Episode", timeout=30_000)
            expect(evidence).to_contain_text("North West")

            # The download button delivers the table shown, built in the kernel on click.
            button = page.locator(".jp-OutputArea button.lt-download", has_text="Download CSV")
            button.scroll_into_view_if_needed()
            with page.expect_download(timeout=30_000) as info:
                button.click()
            download = info.value
            saved = tmp_path / download.suggested_filename
            download.save_as(saved)
            assert saved.name.endswith("-restricted.csv")
            assert saved.read_text(encoding="utf-8").startswith("code,label,count,")  # the bars' own table

            # Laptop and desktop widths, with JupyterLab's file browser open: the layout checks by the DOM.
            for width, height in ((1280, 800), (1600, 1000)):
                page.set_viewport_size({"width": width, "height": height})
                if not page.locator("#filebrowser").is_visible():
                    page.locator(".jp-SideBar .lm-TabBar-tab[data-id='filebrowser']").first.click()
                page.wait_for_timeout(1500)  # plotly relayouts on resize
                geometry = page.evaluate(_LAYOUT_JS)
                where = f"at {width}x{height}: {json.dumps(geometry)[:3000]}"
                assert geometry["filebrowser"], "the file browser should be open " + where
                assert geometry["controls"] and not geometry["outside"], "filter controls outside the viewport " + where
                assert geometry["overlaps"] == [], "the evidence panel covers a plot " + where
                assert geometry["cut_titles"] == [], "axis titles cut " + where
                if width == 1280:
                    assert geometry["evidence_below"], "on a laptop the evidence goes below the figures " + where
                page.locator(".jp-OutputArea .ltw-root").first.evaluate("e => e.scrollIntoView({block: 'start'})")
                page.mouse.move(5, 5)
                page.wait_for_timeout(500)
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"explorer-{width}.png"), full_page=False)
            page.set_viewport_size({"width": 1600, "height": 3000})
            page.wait_for_timeout(1000)

            # A picture of the explorer as a user sees it after these steps, for people to look at.
            page.locator(".jp-OutputArea .ltw-root").first.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.mouse.move(5, 5)  # no hover label over the chart
            page.wait_for_timeout(800)
            page.screenshot(path=str(shot), full_page=False)
        except Exception:
            # Keep what the page looked like, and what it logged, for whoever reads the failure.
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                page.screenshot(path=str(ARTIFACTS / "explorer-failure.png"))
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            (ARTIFACTS / "explorer-failure-console.txt").write_text("\n".join(console) + "\n\n" + lab.log_tail(200))
            raise
        finally:
            browser.close()
    assert shot.exists() and shot.stat().st_size > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "explorer.png")
    errors = [c for c in console if "pageerror" in c]
    assert not errors, "\n".join(errors)
