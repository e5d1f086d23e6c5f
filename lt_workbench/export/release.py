"""Public tables in the Explore Education Statistics (EES) tidy data standard, and restricted Parquet dumps of the database.

`write_release(db, out)` writes a set of public tables as England's official statistics publish them:
one CSV per table in tidy form (`time_period`, `time_identifier`, `geographic_level`, `country_code`,
`country_name`, `region_code`, `region_name`, then filters, then indicators) with a `.meta.csv` beside
it describing every filter and indicator (`col_name`, `col_type`, `label`, `indicator_grouping`,
`indicator_unit`, `indicator_dp`, `filter_hint`, `filter_grouping_column`). Every figure comes from the
public tabulation API (`tabulate.frequency(..., disclosure="public")`) inside the database snapshot's
release (`analysis.publish.public_release`), so it is protected jointly with every public output of
the same snapshot, as any other public output is; GSS symbols follow the standard: `c` suppressed,
`z` not applicable, `x` not available, `low` a non-zero figure that rounds to 0.

`write_tables(db, out)` writes every table of the database as Parquet: restricted material (it holds
free text and area names), and says so in a README, in each file's metadata and in its sidecar.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd

from lt_workbench.exceptions import ExportError, WorkbenchError
from lt_workbench.export.about import dumps
from lt_workbench.export.tables import atomic_write

__all__ = ["ReleaseTable", "RELEASE_TABLES", "write_release", "write_tables", "ees_rows", "GEOGRAPHY_COLUMNS", "META_COLUMNS",
           "RESTRICTED_NOTE"]

GEOGRAPHY_COLUMNS = ("time_period", "time_identifier", "geographic_level", "country_code", "country_name", "region_code", "region_name")
META_COLUMNS = ("col_name", "col_type", "label", "indicator_grouping", "indicator_unit", "indicator_dp", "filter_hint",
                "filter_grouping_column")
UK = ("K02000001", "United Kingdom")
RESTRICTED_NOTE = ("RESTRICTED: every table of the lt-workbench database, with free text, area names and true small counts. "
                   "Not for publication; keep it inside the secure environment. Public figures come from `lt-workbench export release`.")


@dataclass(frozen=True)
class ReleaseTable:
    """One public data file: the tabulation behind it, its filter's name and label, and what its indicators count."""

    name: str
    frame: str
    level: int | None
    unit: str
    filter_name: str
    filter_label: str
    indicator: str
    indicator_label: str
    denominator_label: str


RELEASE_TABLES: tuple[ReleaseTable, ...] = (
    ReleaseTable("pattern_categories", "patterns", 1, "review", "pattern_category", "Category of underlying pattern (SCIE 2008)",
                 "reviews", "Reviews finding a pattern of this category", "Reviews completed"),
    ReleaseTable("contributory_factor_types", "factors", 2, "review", "factor_type", "Type of contributory factor (SCIE 2008)",
                 "reviews", "Reviews coding a factor of this type", "Reviews completed"),
)
"""The default release. (Children by age band is left out: protecting a partitioned child table by year × nation ×
region took minutes in this version of the disclosure solver; add it through `tables=` when that is fast.)"""


def _symbol(value: Any) -> Any:
    """A published cell in the standard's symbols: c suppressed, z not applicable, x not available (':' in GSS)."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return "x"
    if isinstance(value, str):
        return {"c": "c", "z": "z", ":": "x", "x": "x", "low": "low"}.get(value.strip(), value)
    return value


def ees_rows(table: pd.DataFrame, spec: ReleaseTable) -> pd.DataFrame:
    """A public tabulation by year × nation × region (with totals) -> rows of the EES tidy standard."""
    from lt_workbench.model.frames import gss_codes, labels

    region_gss, nation_gss = gss_codes("region"), gss_codes("nation")
    region_names, nation_names = labels("region"), labels("nation")
    out = []
    for r in table.to_dict("records"):
        year, nation, region = r["year"], r["nation"], r["region"]
        if year == "All":
            continue  # the standard has no period for "all years"; each calendar year is published
        if nation == "All" and region == "All":
            geo = ("National", *UK, "", "")
        elif region == "All":
            geo = ("National", nation_gss[nation], nation_names[nation], "", "")
        elif nation == "england":
            geo = ("Regional", nation_gss[nation], nation_names[nation], region_gss[region], region_names[region])
        else:
            continue  # Wales, Scotland and Northern Ireland are their own region: published once, at national level
        count, den, pct = (_symbol(r["count"]), _symbol(r["denominator"]), _symbol(r["percent"]))
        if isinstance(count, (int, float)) and count > 0 and isinstance(pct, float) and round(pct, 1) == 0.0:
            pct = "low"
        out.append({"time_period": int(year), "time_identifier": "Calendar year", "geographic_level": geo[0],
                    "country_code": geo[1], "country_name": geo[2], "region_code": geo[3], "region_name": geo[4],
                    spec.filter_name: f"{r['code']} {r['label']}" if spec.frame in ("patterns", "factors") else r["label"],
                    spec.indicator: count, f"{spec.indicator}_total": den, f"percent_{spec.indicator}": pct})
    frame = pd.DataFrame(out, columns=[*GEOGRAPHY_COLUMNS, spec.filter_name, spec.indicator, f"{spec.indicator}_total",
                                       f"percent_{spec.indicator}"])
    level_order = {"National": 0, "Regional": 1}
    frame["_g"] = frame["geographic_level"].map(level_order)
    frame = frame.sort_values(["time_period", "_g", "country_code", "region_code"], kind="stable").drop(columns="_g")
    return frame.reset_index(drop=True)


def _meta(spec: ReleaseTable) -> pd.DataFrame:
    rows = [
        {"col_name": spec.filter_name, "col_type": "Filter", "label": spec.filter_label, "indicator_grouping": "",
         "indicator_unit": "", "indicator_dp": "", "filter_hint": "Code and label of the coding frame", "filter_grouping_column": ""},
        {"col_name": spec.indicator, "col_type": "Indicator", "label": spec.indicator_label, "indicator_grouping": "Counts",
         "indicator_unit": "", "indicator_dp": 0, "filter_hint": "", "filter_grouping_column": ""},
        {"col_name": f"{spec.indicator}_total", "col_type": "Indicator", "label": spec.denominator_label,
         "indicator_grouping": "Counts", "indicator_unit": "", "indicator_dp": 0, "filter_hint": "", "filter_grouping_column": ""},
        {"col_name": f"percent_{spec.indicator}", "col_type": "Indicator", "label": f"{spec.indicator_label} (percent)",
         "indicator_grouping": "Rates", "indicator_unit": "%", "indicator_dp": 1, "filter_hint": "", "filter_grouping_column": ""},
    ]
    return pd.DataFrame(rows, columns=list(META_COLUMNS))


def _csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def write_release(db: str | Path | None, out: str | os.PathLike[str], *, where: Mapping[str, Any] | None = None,
                  profile: str = "dfe", tables: Sequence[ReleaseTable] = RELEASE_TABLES,
                  command: str | None = None) -> list[Path]:
    """Write the public release files into `out`: per table NAME.csv and NAME.meta.csv, plus release.meta.json.

    Every table is computed first; files are written only when all of them were (all or nothing).
    """
    from lt_workbench import tabulate as tab
    from lt_workbench.export.about import about_facts

    folder = Path(out)
    files: dict[Path, Any] = {}
    facts: dict[str, Any] = {"release": "Explore Education Statistics tidy data standard", "tables": {}}
    from lt_workbench.analysis.publish import public_release

    # Joint with everything this snapshot's release published; hold=True: recorded in the ledger only once the
    # files below are written (a failing write, e.g. an --out the user cannot write to, records nothing).
    with public_release(db, name="export release", hold=True):
        for spec in tables:
            try:
                table = tab.frequency(spec.frame, level=spec.level, by=("year", "nation", "region"), unit=spec.unit,  # type: ignore[arg-type]
                                      where=dict(where or {}), totals=True, db=db, disclosure="public", profile=profile)
            except WorkbenchError:
                raise
            except Exception as e:  # a failure inside disclosure control: nothing may be published
                raise ExportError(f"{spec.name}: disclosure control could not protect the table ({type(e).__name__}: {e}); "
                                  "nothing was written") from e
            if table.attrs.get("disclosure") != "public":
                raise ExportError(f"{spec.name}: the tabulation did not come back public; nothing written")
            data = ees_rows(table, spec)
            data_text, meta_text = _csv(data), _csv(_meta(spec))
            files[folder / f"{spec.name}.csv"] = data_text
            files[folder / f"{spec.name}.meta.csv"] = meta_text
            about = about_facts(table, db=db, command=command)
            facts["tables"][spec.name] = {"rows": len(data), "unit": about["unit"], "disclosure": about["disclosure"],
                                          "disclosure_note": about["disclosure_note"], "profile": about["profile"],
                                          "filters": about["filters"]}
            for key in ("snapshot", "versions", "command", "taxonomy_version", "written_at"):
                facts[key] = about[key]
        plan = {path: _writer(text) for path, text in files.items()}
        plan[folder / "release.meta.json"] = _writer(dumps(facts))
        atomic_write(plan)
    return sorted(plan)


def _writer(text: str) -> Any:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")
    return write


def write_tables(db: str | Path | None, out: str | os.PathLike[str], *, command: str | None = None) -> list[Path]:
    """Every table of the database as OUT/<table>.parquet (rows in a fixed order), with README.txt saying it is restricted.

    Written into a temporary folder beside OUT and moved into place file by file only when all are written.
    """
    import pyarrow.parquet as pq

    from lt_workbench.export.about import about_facts
    from lt_workbench.model.db import connect

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    facts = about_facts(pd.DataFrame(), db=db, command=command,
                        extra={"disclosure": "restricted", "disclosure_note": RESTRICTED_NOTE, "unit": "rows of each table"})
    con = connect(db, read_only=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-tables-", dir=folder))
    try:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' "
            "ORDER BY table_name").fetchall()]
        if not names:
            raise ExportError(f"{db}: the database holds no tables; load reviews first")
        written = []
        for name in names:
            arrow = con.sql(f'SELECT * FROM "{name}" ORDER BY ALL').to_arrow_table()  # name from the catalogue, quoted
            assert arrow is not None
            meta = dict(arrow.schema.metadata or {})
            meta[b"lt_workbench.about"] = json.dumps({**facts, "table": name, "rows": arrow.num_rows}, default=str).encode()
            pq.write_table(arrow.replace_schema_metadata(meta), staging / f"{name}.parquet", compression="zstd")
            written.append(name)
        (staging / "README.txt").write_text(RESTRICTED_NOTE + "\n\nTables: " + ", ".join(written) + "\n", encoding="utf-8")
        (staging / "export.meta.json").write_text(dumps({**facts, "tables": written}), encoding="utf-8")
        out_paths = []
        for f in sorted(staging.iterdir()):
            os.replace(f, folder / f.name)
            out_paths.append(folder / f.name)
        return out_paths
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
