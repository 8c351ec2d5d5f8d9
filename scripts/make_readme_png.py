"""Regenerate docs/img/sample_map.png, the README's picture, with the real PNG export.

It runs exactly the command the README quotes,

    geo-idlib map examples/idlib_report_2020-02-20.txt --from 2019-12-19 --to 2020-02-20 \\
        -o docs/img/sample_map.png --size 1200x800 --overwrite

(Debian's headless Chromium, /usr/bin/chromium or $GEO_IDLIB_CHROMIUM), then, when the file is larger
than the budget, re-encodes it losslessly with Pillow's optimiser and, only if that is still too
large, as a 256-colour palette PNG (the map has a few flat colours). Prints the size and the time.

Usage: .venv/bin/python -m scripts.make_readme_png [--out PATH] [--size WxH] [--max-kb 400]
(`make readme-img`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = "examples/idlib_report_2020-02-20.txt"
D1, D2 = "2019-12-19", "2020-02-20"


def export(out: Path, size: str) -> float:
    """Run the CLI export; return the seconds it took. Exits with the CLI's code on failure."""
    cli = Path(sys.executable).with_name("geo-idlib")
    cmd = [str(cli), "map", REPORT, "--from", D1, "--to", D2, "-o", str(out), "--size", size, "--overwrite"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.exit(done.returncode)
    return time.perf_counter() - t0


def shrink(out: Path, max_bytes: int) -> str:
    """Re-encode ``out`` in place when it is over ``max_bytes``; return what was done."""
    if out.stat().st_size <= max_bytes:
        return "as exported"
    from PIL import Image

    with Image.open(out) as im:
        im.load()
    im.save(out, format="PNG", optimize=True)
    if out.stat().st_size <= max_bytes:
        return "re-encoded losslessly (Pillow optimize)"
    im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        out, format="PNG", optimize=True)
    if out.stat().st_size <= max_bytes:
        return "quantised to 256 colours"
    kb = out.stat().st_size / 1024
    out.unlink()
    sys.exit(f"{out}: {kb:.0f} KB even with 256 colours, over {max_bytes / 1024:.0f} KB; "
             "use a smaller --size")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="docs/img/sample_map.png", help="output PNG, relative to the repository")
    ap.add_argument("--size", default="1200x800", help="viewport WxH in CSS pixels (default 1200x800)")
    ap.add_argument("--max-kb", type=int, default=400, help="size budget in KB (default 400)")
    args = ap.parse_args()
    out = ROOT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    seconds = export(out, args.size)
    how = shrink(out, args.max_kb * 1024)
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1024:.0f} KB, {args.size}, {how}; export {seconds:.1f} s")


if __name__ == "__main__":
    main()
