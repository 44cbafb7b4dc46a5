"""Regenerate tenants/data/municipalities.json from the `japancode` package.

Run once when the list of municipalities changes (合併 etc.):

    pip install japancode==0.1.0
    python tools/build_municipalities.py

japancode (MIT licence, Kentaro Ozeki) lists 1,916 entries: the 1,741
municipalities plus the wards (行政区) of designated cities, which are not
tenants of their own and are only used here to flag 政令市.
"""

from __future__ import annotations

import json
import pathlib
import sys
from importlib import resources

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from tenants.codes import check_digit

OUT = pathlib.Path(__file__).resolve().parents[1] / "tenants" / "data" / "municipalities.json"


def main() -> None:
    data = resources.files("japancode") / "data"
    rows = json.loads((data / "municipalities.json").read_text("utf-8"))
    prefs = json.loads((data / "prefectures.json").read_text("utf-8"))

    designated = {r["city"].split(" ")[0] for r in rows if " " in r["city"]}
    municipalities = []
    for r in rows:
        if " " in r["city"]:  # a ward of a designated city
            continue
        code = r["lgcode"].zfill(6)
        if check_digit(code[:5]) != code[5]:
            raise SystemExit(f"check digit mismatch: {code} {r['city']}")
        name = r["city"]
        kind = "特別区" if name.endswith("区") else name[-1]
        if kind not in ("市", "町", "村", "特別区"):
            raise SystemExit(f"unknown kind: {name}")
        municipalities.append(
            {
                "code": code,
                "prefecture_code": code[:2],
                "name": name,
                "kana": r["citykana"],
                "kind": kind,
                "designated_city": name in designated,
                "lat": round(float(r["lat"]), 6),
                "lng": round(float(r["lng"]), 6),
            }
        )
    out = {
        "source": "japancode 0.1.0 (MIT), https://pypi.org/project/japancode/",
        "prefectures": [
            {
                "code": p["lgcode"][:2],
                "name": p["pref"],
                "kana": p["prefkana"],
            }
            for p in prefs
        ],
        "municipalities": municipalities,
    }
    # One record per line keeps diffs readable when municipalities merge.
    def block(items: list) -> str:
        return ",\n".join(json.dumps(x, ensure_ascii=False) for x in items)

    OUT.write_text(
        "{\n"
        f"\"source\": {json.dumps(out['source'])},\n"
        f"\"prefectures\": [\n{block(out['prefectures'])}\n],\n"
        f"\"municipalities\": [\n{block(out['municipalities'])}\n]}}\n",
        "utf-8",
    )
    print(f"wrote {len(municipalities)} municipalities to {OUT}")


if __name__ == "__main__":
    main()
