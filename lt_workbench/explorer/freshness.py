"""New data while the explorer is open: "new data loaded — refresh", with the new snapshot's id and hash.

Why: a load publishes a new snapshot of the database beside the one an open explorer reads (see
`lt_workbench.model.snapshot`); the explorer's connection keeps its snapshot, so its numbers stay
consistent, and this part says when newer data is there and reconnects when asked. The check is a
stat and a small JSON read (no database connection), made at every refresh.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import ipywidgets as widgets

from lt_workbench.model.db import connect
from lt_workbench.model.snapshot import connection_snapshot, newer_snapshot

if TYPE_CHECKING:
    from lt_workbench.explorer.explorer import Explorer

__all__ = ["Freshness"]


class Freshness:
    """The notice and its button; `check()` at each refresh, `reload()` when the user asks."""

    def __init__(self, ex: Explorer) -> None:
        self.ex = ex
        self.seen = connection_snapshot(ex.con)
        self.newer: str | None = None  # the id of a newer published snapshot, once one is seen
        self.note = widgets.HTML()
        self.button = widgets.Button(description="Load the new data", tooltip="Reopen the database and recompute",
                                     layout=widgets.Layout(width="170px", display="none"))
        self.button.on_click(lambda _b: ex._sched.dispatch(self.reload))
        self.box = widgets.HBox([self.note, self.button], layout=widgets.Layout(align_items="center"))

    def check(self) -> None:
        """Show the notice when a newer snapshot than the one this explorer reads has been published."""
        if not self.ex._own_con:
            return  # a connection handed in is the caller's to reopen
        info = newer_snapshot(self.ex.db_path, self.seen)
        # A load that changed no review (every file rejected, or all unchanged) still publishes a snapshot, with
        # the content hash of the one this explorer reads: its figures would not change, so nothing to say.
        if info is None or info.content_hash == self.ex.release.snapshot():
            self.newer, self.note.value, self.button.layout.display = None, "", "none"
            return
        self.newer = info.snapshot_id
        self.note.value = (f"<div class='ltw-status ltw-empty'><b>New data loaded — refresh</b>: snapshot "
                           f"{html.escape(info.snapshot_id)} (content hash {html.escape(info.content_hash[:12])}, "
                           f"{info.reviews:,} reviews) was published after this explorer opened. The figures still show "
                           "the data it opened with.</div>")
        self.button.layout.display = ""

    def reload(self) -> None:
        """Close the connection, open the newest snapshot and recompute with the same filters."""
        ex = self.ex
        with ex._lock:
            ex.con.close()
            ex.con = connect(ex.db_path, read_only=True)
            ex.release.reopened(ex.con)
            self.seen = connection_snapshot(ex.con)
        ex.refresh()
