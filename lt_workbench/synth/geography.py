"""Fictional geography of the synthetic corpus: invented area names in the real regions and nations.

Any resemblance of a name to a real place is coincidental. North West has more areas and more reviews
so that its planted trend has enough reviews per period to be seen.
"""

from __future__ import annotations

__all__ = ["REGIONS", "AREAS"]

# region: (abbreviation, nation, share of reviews, fictional area names)
REGIONS: dict[str, tuple[str, str, float, tuple[str, ...]]] = {
    # region: (abbreviation, nation, share of reviews, fictional area names)
    "north_east": ("NE", "england", 0.06, ("Farrowdene", "Kestrel Haugh", "Sleetburn")),
    "north_west": ("NW", "england", 0.20, ("Amberley Vale", "Northmoor", "Cindermoss", "Wraybridge Fold", "Lantern Bay")),
    "yorkshire_and_the_humber": ("YH", "england", 0.08, ("Quillerby", "Sorrelthwaite", "Gimmerdale")),
    "east_midlands": ("EM", "england", 0.06, ("Brindle Cross", "Oakhallow", "Marrowfield")),
    "west_midlands": ("WM", "england", 0.08, ("Copperwick", "Foxglove Heath", "Anvilbury")),
    "east_of_england": ("EE", "england", 0.07, ("Reedmarsh", "Saltfen", "Wherry St Agnes")),
    "london": ("LN", "england", 0.10, ("Bellweather", "Ropeyard", "Lamplight Hill")),
    "south_east": ("SE", "england", 0.09, ("Chalkhaven", "Downsmere", "Plover Weald")),
    "south_west": ("SW", "england", 0.07, ("Clotterham", "Tidewell", "Granite Coombe")),
    "wales": ("WA", "wales", 0.07, ("Aberwennol", "Cwm Tawelog", "Bryn Eirlys")),
    "scotland": ("SC", "scotland", 0.07, ("Glenmorrow", "Strathkelpie", "Inverbrack")),
    "northern_ireland": ("NI", "northern_ireland", 0.05, ("Ballykinnear", "Lough Sellan")),
}

AREAS: tuple[dict[str, str], ...] = tuple(
    {"code": f"SYN-{abbr}-{k:02d}", "name": name, "region": region, "nation": nation}
    for region, (abbr, nation, _w, names) in REGIONS.items()
    for k, name in enumerate(names, start=1)
)
