"""Downloads from a running notebook: `DownloadButton`, and the CSV and Excel files of a table.

Why: a data-URI link would rebuild and ship every file on every filter change, and JupyterLab
sanitises links and scripts in outputs. Here the browser asks, the kernel builds the file and sends
it as a binary buffer. The CSV is the same text `lt-workbench tabulate ... --format csv` writes
(one renderer, `lt_workbench.present.tables.render`).
"""

from __future__ import annotations

import io
from typing import Any, Callable, Mapping, Sequence

import anywidget
import numpy as np
import pandas as pd
import traitlets

from lt_workbench.present.tables import render as render_table

__all__ = ["DownloadButton", "table_csv", "table_xlsx"]

_DOWNLOAD_ESM = """
function render({ model, el }) {
  const btn = document.createElement("button");
  btn.className = "jupyter-widgets jupyter-button widget-button lt-download";
  const sync = () => {
    btn.textContent = model.get("label");
    btn.title = model.get("hint");
    btn.disabled = model.get("disabled");
  };
  sync();
  model.on("change:label", sync);
  model.on("change:disabled", sync);
  model.on("change:hint", sync);
  btn.addEventListener("click", () => {
    btn.disabled = true;
    btn.textContent = "Preparing…";
    model.send({ event: "download" });
  });
  model.on("msg:custom", (msg, buffers) => {
    sync();
    if (!msg || msg.event !== "file") {
      if (msg && msg.event === "error") { btn.textContent = "Could not build the file"; btn.title = msg.message; }
      return;
    }
    const blob = new Blob(buffers || [], { type: msg.mime });
    const url = URL.createObjectURL(blob);
    const a = document.createElement("a");
    a.href = url;
    a.download = msg.filename;
    a.style.display = "none";
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(url); a.remove(); }, 2000);
  });
  el.appendChild(btn);
}
export default { render };
"""

_DOWNLOAD_CSS = """
.lt-download { min-width: 150px; margin: 2px 6px 2px 0; }
"""


class DownloadButton(anywidget.AnyWidget):
    """A button that downloads bytes built in Python at the moment it is clicked.

    Why not a data-URI link: that would rebuild and ship every file on every filter change, and
    JupyterLab sanitises links and scripts in outputs. Here the browser asks, the kernel builds the
    file (`producer() -> (filename, mime type, bytes)`) and sends it as a binary buffer, and the
    browser saves it. `payload()` gives the same bytes to Python callers and tests.
    """

    _esm = _DOWNLOAD_ESM
    _css = _DOWNLOAD_CSS
    label = traitlets.Unicode("Download").tag(sync=True)
    # Hover text. Not DOMWidget's `tooltip`: setting that on an anywidget stops its view from rendering.
    hint = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    def __init__(self, producer: Callable[[], tuple[str, str, bytes]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._producer = producer
        self.on_msg(self._on_message)

    def payload(self) -> tuple[str, str, bytes]:
        """(filename, mime type, bytes) as a click would download them."""
        return self._producer()

    def _on_message(self, _widget: Any, content: Mapping[str, Any], _buffers: Sequence[Any]) -> None:
        if not isinstance(content, Mapping) or content.get("event") != "download":
            return
        try:
            filename, mime, data = self._producer()
        except Exception as e:  # shown on the button; the kernel keeps running
            self.send({"event": "error", "message": f"could not build the file: {e}"})
            return
        self.send({"event": "file", "filename": filename, "mime": mime}, buffers=[data])




def table_csv(table: pd.DataFrame) -> bytes:
    """A table as CSV bytes (the same text the command line writes)."""
    return render_table(table, "csv").encode("utf-8")


def table_xlsx(table: pd.DataFrame, about: pd.DataFrame) -> bytes:
    """A table as an Excel workbook: sheet 'table' and sheet 'about' (what it counts, filters, disclosure)."""
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("list", "str")):
            out[col] = out[col].map(lambda v: ", ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        out.to_excel(xl, sheet_name="table", index=False)
        about.to_excel(xl, sheet_name="about", index=False)
        for ws in xl.book.worksheets:
            for column in ws.columns:
                width = max((len(str(c.value)) for c in column[:200] if c.value is not None), default=8)
                ws.column_dimensions[column[0].column_letter].width = min(max(8, width + 2), 80)
            ws.freeze_panes = "A2"
    return buf.getvalue()
