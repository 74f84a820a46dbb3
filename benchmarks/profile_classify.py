"""Where `responder classify` spends its time: cProfile over the first N generated files.

    .venv/bin/python benchmarks/profile_classify.py [--count 2000] [--data DIR] [--top 25]
                                           [--save out.pstats]

Runs `responder.cli.main(["classify", FILE...])` in this process under
cProfile (output to /dev/null) and prints three views: the pipeline's stages
(inclusive time of the product's main functions), time by area (own time
summed per product module, per stdlib package, C builtins), and the top
functions by own time. cProfile roughly doubles the run time; the shares,
not the absolute seconds, are the point. Generate data first (`make bench` or
`generate.py`).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# (label, file suffix, function name): the stages of `Triager.triage` and around it.
STAGES = [
    ("whole run: cli.main", "responder/cli.py", "main"),
    ("  model load (once)", "responder/classifier.py", "load_model"),
    ("  triage: Triager.triage", "responder/triage.py", "triage"),
    ("    parse: parse_message", "responder/parsing.py", "parse_message"),
    ("      stdlib email parser (BytesParser.parsebytes)", "email/parser.py", "parsebytes"),
    ("      header decoding (decode_header_value)", "responder/parsing.py",
     "decode_header_value"),
    ("      body parts (_collect)", "responder/parsing.py", "_collect"),
    ("      html_to_text", "responder/htmltext.py", "html_to_text"),
    ("      split_newest_text", "responder/quotes.py", "split_newest_text"),
    ("    screen", "responder/screening.py", "screen"),
    ("    classify (Triager.classify)", "responder/triage.py", "classify"),
    ("      Model.predict (all calls)", "responder/classifier.py", "predict"),
    ("      second_intents", "responder/intents.py", "second_intents"),
    ("      detect_language", "responder/language.py", "detect_language"),
    ("      Drafter.render", "responder/drafting.py", "render"),
    ("  verdict JSON (json.dumps)", "json/__init__.py", "dumps"),
]


def area(filename: str) -> str:
    """A coarse owner of a function: a product module, a stdlib package, or C."""
    if filename == "~" or filename.startswith("<"):
        return "C builtins and methods (called from anywhere)"
    path = filename.replace(os.sep, "/")
    if "/responder/" in path:
        return "responder/" + path.rsplit("/responder/", 1)[1]
    for marker in ("/site-packages/", "/lib/python3"):
        if marker in path:
            rest = path.rsplit(marker, 1)[1]
            if marker == "/lib/python3":
                rest = rest.split("/", 1)[1] if "/" in rest else rest
            top = rest.split("/", 1)[0]
            return f"{'third-party' if 'site-packages' in marker else 'stdlib'} {top}"
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2_000)
    parser.add_argument("--data", type=Path, default=ROOT / "bench-data" / "mail")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--save", type=Path, help="write the raw pstats here")
    args = parser.parse_args(argv)

    files = sorted(str(p) for p in args.data.glob("*.eml"))[: args.count]
    if not files:
        print(f"no .eml files in {args.data}; run benchmarks/generate.py first", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    from responder.cli import main as responder_main

    profiler = cProfile.Profile()
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        profiler.enable()
        responder_main(["classify", *files])
        profiler.disable()
    elapsed = time.perf_counter() - started
    if args.save:
        profiler.dump_stats(args.save)

    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]  # {(file, line, func): (cc, nc, tt, ct, callers)}
    total = max(sum(tt for _cc, _nc, tt, _ct, _callers in raw.values()), 1e-9)
    print(f"profiled `responder classify` over {len(files):,} files from {args.data}: "
          f"{elapsed:.2f} s under cProfile ({len(files) / elapsed:,.0f} msg/s profiled)\n")

    print("pipeline stages (inclusive time, share of the run):")
    for label, suffix, name in STAGES:
        found = [(nc, ct) for (file, _line, func), (_cc, nc, _tt, ct, _c) in raw.items()
                 if func == name and file.replace(os.sep, "/").endswith(suffix)]
        if found:
            calls = sum(nc for nc, _ in found)
            seconds = max(ct for _, ct in found)
            print(f"  {label:<58} {seconds:7.2f} s {seconds / total:6.1%}  {calls:>8,} calls")

    by_area: dict[str, float] = {}
    for (file, _line, _func), (_cc, _nc, tt, _ct, _c) in raw.items():
        by_area[area(file)] = by_area.get(area(file), 0.0) + tt
    print("\ntime by area (own time, top 15):")
    for name, seconds in sorted(by_area.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {name:<58} {seconds:7.2f} s {seconds / total:6.1%}")

    print(f"\ntop {args.top} functions by own time:")
    rows = sorted(raw.items(), key=lambda kv: -kv[1][2])[: args.top]
    for (file, line, func), (_cc, nc, tt, ct, _c) in rows:
        where = area(file) if file != "~" else "C"
        print(f"  {tt:7.2f} s {tt / total:6.1%}  cum {ct:6.2f} s  {nc:>9,}  "
              f"{func} ({where}:{line})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
