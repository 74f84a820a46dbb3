"""`make bench`: responder's speed and memory, each figure beside its floor from the same run.

    .venv/bin/python benchmarks/run.py            # 10,000 messages, about 2-4 minutes
    .venv/bin/python benchmarks/run.py --quick    # 1,000 messages, a fast check

Figures (targets of the issue "Speed: benchmarks"):

1. triage throughput: `responder classify DIR` over the generated mail, msg/s
   of the whole process; floors: policy.default parse reading subject, sender
   and body, and the bare compat32 parse (>= 1,000 msg/s);
2. cold start: `responder classify one.eml`, and `responder run --once` on an
   empty IMAP folder, median wall time of 7 fresh processes; floors: `python
   -c pass`, `python -c "import numpy"`, an imapclient login + select + empty
   UID search (< 0.5 s each);
3. backlog: the whole mail set in a local Dovecot INBOX, one `responder run
   --once` with a fresh store, msg/s; floor: an imapclient fetch of the same
   messages, BODY.PEEK[] in batches of 500 (>= 80% of figure 1);
4. memory: peak RSS of the backlog run (< 150 MB).

Every child process has a time limit; a figure that hits it is reported as a
timeout and the run goes on. The table goes to stdout, the figures as JSON to
bench-data/results.json (bench-data/results-quick.json with --quick). Test
data comes from generate.py and is rebuilt only when its count, seed or the
generator change. Never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402 - a sibling script, not a package

from responder.config import ImapSettings  # noqa: E402

if TYPE_CHECKING:  # imported when needed: the IMAP figures are optional
    from imap_server import BenchServer

BENCH_DATA = ROOT / "bench-data"
PYTHON = sys.executable
RESPONDER = str(Path(PYTHON).with_name("responder"))
FLOORS = str(HERE / "floors.py")
GNU_TIME = "/usr/bin/time"

LOADS = {"append": "MULTIAPPEND over one connection",
         "maildir": "files written into INBOX's new/"}

TARGET_THROUGHPUT = 1_000.0  # msg/s
TARGET_COLD_START = 0.5  # s
TARGET_BACKLOG_SHARE = 0.8  # of the classify throughput
TARGET_RSS_MB = 150.0


# -- figures ---------------------------------------------------------------------------
@dataclass
class Floor:
    """A reference beside a figure: what the same work costs without responder."""

    label: str
    value: float | None
    unit: str
    note: str = ""


@dataclass
class Figure:
    key: str
    label: str
    value: float | None  # None: not measured (timeout, failure, skipped)
    unit: str
    target: str
    ok: bool | None
    floors: list[Floor] = field(default_factory=list)
    note: str = ""


@dataclass
class Measured:
    """One child process: wall seconds, exit status (None on timeout), peak RSS in KB and
    CPU seconds (user + system; both only when measured with `rss=True`)."""

    seconds: float
    returncode: int | None
    stdout: str = ""
    stderr: str = ""
    max_rss_kb: int | None = None
    cpu_seconds: float | None = None

    @property
    def failed(self) -> str:
        """Why the run does not count, or "" when it does."""
        if self.returncode is None:
            return f"timed out after {self.seconds:.0f} s"
        if self.returncode != 0:
            tail = " | ".join(self.stderr.strip().splitlines()[-3:])
            return f"exit status {self.returncode}: {tail}"
        return ""


RSS_METHOD = (f"{GNU_TIME} -f '%M %U %S' (GNU time: max RSS, CPU of the process)"
              if Path(GNU_TIME).is_file()
              else "resource.getrusage(RUSAGE_CHILDREN) in a wrapper process")
_RSS_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime} {u.ru_stime}')\n"
    "sys.exit(rc)\n"
)


def run_process(cmd: list[str], *, timeout: float, env: dict[str, str], cwd: Path,
                rss: bool = False, discard_stdout: bool = False) -> Measured:
    """Run `cmd` in a fresh process (group), timed from outside; killed at `timeout`."""
    rss_file = None
    if rss:
        handle, rss_file = tempfile.mkstemp(prefix="bench-rss-")
        os.close(handle)
        if Path(GNU_TIME).is_file():
            cmd = [GNU_TIME, "-f", "%M %U %S", "-o", rss_file, *cmd]
        else:
            cmd = [PYTHON, "-c", _RSS_WRAPPER, rss_file, *cmd]
    started = time.perf_counter()
    process = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if discard_stdout else subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
        returncode: int | None = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # our own child's group only
        out, err = process.communicate()
        returncode = None
    seconds = time.perf_counter() - started
    measured = Measured(seconds, returncode, (out or b"").decode("utf-8", "replace"),
                        (err or b"").decode("utf-8", "replace"))
    if rss_file:
        try:
            # GNU time puts "Command exited with non-zero status" lines first.
            rss, user, system = Path(rss_file).read_text().strip().splitlines()[-1].split()
            measured.max_rss_kb = int(rss)
            measured.cpu_seconds = float(user) + float(system)
        except (OSError, ValueError, IndexError):
            pass
        os.unlink(rss_file)
    return measured


def median_run(cmd: list[str], *, repeat: int, env: dict[str, str], cwd: Path,
               timeout: float = 30.0) -> tuple[float | None, str]:
    """Median wall time of `repeat` fresh runs after one untimed warm-up (disk cache)."""
    warm = run_process(cmd, timeout=timeout, env=env, cwd=cwd, discard_stdout=True)
    if warm.failed:
        return None, warm.failed
    times = []
    for _ in range(repeat):
        measured = run_process(cmd, timeout=timeout, env=env, cwd=cwd, discard_stdout=True)
        if measured.failed:
            return None, measured.failed
        times.append(measured.seconds)
    return statistics.median(times), f"runs {min(times):.3f}-{max(times):.3f} s"


def rate(count: int, measured: Measured) -> float | None:
    return None if measured.failed else count / measured.seconds


def child_env() -> dict[str, str]:
    """Our environment without any RESPONDER_* setting that could change what is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env["RESPONDER_IMAP_PASSWORD"] = "bench-password"  # imap_server.PASSWORD
    env["BENCH_IMAP_PASSWORD"] = env["RESPONDER_IMAP_PASSWORD"]
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def write_config(path: Path, *, port: int | None = None, user: str = "",
                 folder: str = "INBOX", store: Path | None = None) -> Path:
    lines = ['[responder]', 'log_level = "INFO"']
    if port is not None:
        lines += ['[source]', 'kind = "imap"', '[imap]', 'host = "127.0.0.1"', f"port = {port}",
                  'security = "plain"', f'username = "{user}"', f'folder = "{folder}"']
    if store is not None:
        lines += ['[store]', f'path = "{store}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- the benchmarks ----------------------------------------------------------------------
def bench_throughput(mail: Path, count: int, work: Path, env: dict[str, str],
                     timeout: float) -> tuple[Figure, Measured]:
    config = write_config(work / "classify.toml")
    measured = run_process([RESPONDER, "--config", str(config), "classify", str(mail)],
                           timeout=timeout, env=env, cwd=work, rss=True, discard_stdout=True)
    value = rate(count, measured)
    floors = []
    match = re.search(r"classified (\d+) messages in ([\d.]+) s", measured.stderr)
    if match and not measured.failed and float(match.group(2)) > 0:
        floors.append(Floor("in-loop rate (after start-up and model load)",
                            int(match.group(1)) / float(match.group(2)), "msg/s",
                            "reference, not a floor"))
    if measured.cpu_seconds and not measured.failed:
        floors.append(Floor("reference: CPU time (user+sys) per message",
                            measured.cpu_seconds / count * 1000, "ms"))
    for label, command in (("floor: policy.default parse + subject, from, body",
                            "parse-default"),
                           ("floor: compat32 bare parse", "parse-compat32")):
        floor = run_process([PYTHON, FLOORS, command, str(mail)], timeout=timeout, env=env,
                            cwd=work)
        floors.append(Floor(label, rate(count, floor), "msg/s", floor.failed))
    figure = Figure(
        key="triage_throughput", unit="msg/s", value=value,
        label=f"1  triage: responder classify, {count:,} files (whole process)",
        target=f">= {TARGET_THROUGHPUT:,.0f} msg/s",
        ok=None if value is None else value >= TARGET_THROUGHPUT,
        floors=floors, note=measured.failed,
    )
    return figure, measured


def pick_one(mail: Path) -> Path:
    """A typical small customer mail: the median-sized of the first 51 files."""
    files = sorted(mail.glob("*.eml"))[:51]
    return sorted(files, key=lambda p: (p.stat().st_size, p.name))[len(files) // 2]


def bench_cold_classify(mail: Path, work: Path, env: dict[str, str], repeat: int) -> Figure:
    config = write_config(work / "classify.toml")
    one = pick_one(mail)
    value, note = median_run([RESPONDER, "--config", str(config), "classify", str(one)],
                             repeat=repeat, env=env, cwd=work)
    floors = []
    for label, code in (("floor: python -c pass", "pass"),
                        ('floor: python -c "import numpy"', "import numpy")):
        floor, floor_note = median_run([PYTHON, "-c", code], repeat=repeat, env=env, cwd=work)
        floors.append(Floor(label, floor, "s", floor_note))
    return Figure(
        key="cold_start_classify", unit="s", value=value,
        label=f"2a cold start: responder classify one.eml (median of {repeat})",
        target=f"< {TARGET_COLD_START} s",
        ok=None if value is None else value < TARGET_COLD_START,
        floors=floors, note=f"{one.name}, {one.stat().st_size:,} B; {note}",
    )


def bench_cold_run(server: BenchServer, work: Path, env: dict[str, str],
                   repeat: int) -> Figure:
    store = work / "cold" / "store.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    config = write_config(work / "cold.toml", port=server.port, user=server.user,
                          folder=server.empty_folder, store=store)
    value, note = median_run([RESPONDER, "--config", str(config), "run", "--once"],
                             repeat=repeat, env=env, cwd=work)
    floor, floor_note = median_run(
        [PYTHON, FLOORS, "imap-empty", server.host, str(server.port), server.user,
         server.empty_folder],
        repeat=repeat, env=env, cwd=work)
    return Figure(
        key="cold_start_run_once", unit="s", value=value,
        label=f"2b cold start: responder run --once, empty IMAP folder (median of {repeat})",
        target=f"< {TARGET_COLD_START} s",
        ok=None if value is None else value < TARGET_COLD_START,
        floors=[Floor("floor: imapclient login + select + UID search (fresh process)", floor,
                      "s", floor_note)],
        note=f"store kept between runs, as under cron; {note}",
    )


def bench_backlog(server: BenchServer, count: int, work: Path, env: dict[str, str],
                  timeout: float, classify: Measured) -> tuple[Figure, Figure]:
    classify_rate = rate(count, classify)
    fetch = run_process([PYTHON, FLOORS, "imap-fetch", server.host, str(server.port),
                         server.user, "INBOX", "500"], timeout=timeout, env=env, cwd=work)
    store = work / "backlog" / "store.db"
    store.parent.mkdir(parents=True, exist_ok=True)
    config = write_config(work / "backlog.toml", port=server.port, user=server.user,
                          store=store)
    measured = run_process([RESPONDER, "--config", str(config), "run", "--once"],
                           timeout=timeout, env=env, cwd=work, rss=True)
    value = rate(count, measured)
    note = measured.failed
    done = re.search(r"poll done: (\d+) new", measured.stdout)
    if not note and (done is None or int(done.group(1)) != count):
        said = done.group(0) if done else (measured.stdout.strip().splitlines() or ["-"])[-1]
        note = f"expected {count} new messages; the poll said: {said}"
    share = value / classify_rate if value is not None and classify_rate else None
    floors = [
        Floor("floor: imapclient BODY.PEEK[] fetch alone, batches of 500",
              rate(count, fetch), "msg/s", fetch.failed),
        Floor("reference: classify throughput (figure 1)", classify_rate, "msg/s"),
    ]
    if share is not None:
        floors.append(Floor("backlog / classify, wall time (the figure)", share * 100, "%"))
    if measured.cpu_seconds and classify.cpu_seconds and not note and not classify.failed:
        floors.append(Floor("reference: CPU time (user+sys) per message",
                            measured.cpu_seconds / count * 1000, "ms"))
        floors.append(Floor("backlog / classify, by CPU time (less sensitive to a busy "
                            "machine)", classify.cpu_seconds / measured.cpu_seconds * 100, "%"))
    backlog = Figure(
        key="backlog_throughput", unit="msg/s", value=value,
        label=f"3  backlog: responder run --once, {count:,} msgs in Dovecot INBOX, fresh store",
        target=f">= {TARGET_BACKLOG_SHARE:.0%} of figure 1"
        + (f" ({classify_rate * TARGET_BACKLOG_SHARE:,.0f})" if classify_rate else ""),
        ok=None if share is None else share >= TARGET_BACKLOG_SHARE,
        floors=floors, note=note,
    )
    rss_mb = measured.max_rss_kb / 1024 if measured.max_rss_kb and not note else None
    memory = Figure(
        key="backlog_peak_rss", unit="MB", value=rss_mb,
        label="4  memory: peak RSS of the backlog run",
        target=f"< {TARGET_RSS_MB:.0f} MB", ok=None if rss_mb is None else rss_mb < TARGET_RSS_MB,
        note=f"MB = 2^20 bytes; {RSS_METHOD}" + (f"; {note}" if note else ""),
    )
    return backlog, memory


def skipped(key: str, label: str, unit: str, target: str, why: str) -> Figure:
    return Figure(key=key, label=label, value=None, unit=unit, target=target, ok=None, note=why)


# -- output ------------------------------------------------------------------------------
def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "%":
        return f"{value:.0f} %"
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{value:,.0f} {unit}"


def format_table(figures: list[Figure], header: str) -> str:
    width = max(len(f.label) for f in figures)
    width = max([width] + [len(fl.label) + 4 for f in figures for fl in f.floors])
    lines = [header, "",
             f"{'figure':<{width}}  {'measured':>13}  {'target':<24} status",
             f"{'-' * width}  {'-' * 13}  {'-' * 24} {'-' * 6}"]
    for figure in figures:
        status = {True: "ok", False: "BELOW", None: "n/a"}[figure.ok]
        lines.append(f"{figure.label:<{width}}  {fmt(figure.value, figure.unit):>13}  "
                     f"{figure.target:<24} {status}")
        for floor in figure.floors:
            extra = f"  ({floor.note})" if floor.note else ""
            lines.append(f"    {floor.label:<{width - 4}}  {fmt(floor.value, floor.unit):>13}"
                         f"{extra}")
        if figure.note:
            lines.append(f"    note: {figure.note}")
    return "\n".join(lines)


def dovecot_version() -> str:
    try:
        return subprocess.run(["/usr/sbin/dovecot", "--version"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unavailable"


def ensure_data(mail: Path, count: int, seed: int) -> dict:
    if generate.is_current(mail, count, seed):
        return generate.read_manifest(mail) or {}
    print(f"generating {count:,} messages into {mail} ...", flush=True)
    return generate.generate(mail, count, seed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 messages, a fast check")
    parser.add_argument("--count", type=int, help="messages to generate and triage")
    parser.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per cold start")
    parser.add_argument("--skip-imap", action="store_true", help="no Dovecot: figures 1, 2a")
    parser.add_argument("--load", choices=sorted(LOADS), default="append",
                        help="how the backlog gets into Dovecot (default: append)")
    parser.add_argument("--json", type=Path, help="where to write the figures")
    args = parser.parse_args(argv)
    count = args.count or (1_000 if args.quick else generate.DEFAULT_COUNT)
    mail = (generate.DEFAULT_OUT if count == generate.DEFAULT_COUNT
            else BENCH_DATA / f"mail-{count}")
    results = args.json or BENCH_DATA / ("results-quick.json" if args.quick else "results.json")
    # Limits: generous for a healthy build (10-30x the expected time), short enough
    # that a pathological one still ends `make bench` in minutes.
    timeout = max(60.0, count * 0.03)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]

    manifest = ensure_data(mail, count, args.seed)
    work = BENCH_DATA / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = child_env()

    print(f"1/4 triage throughput over {count:,} files ...", flush=True)
    throughput, classify = bench_throughput(mail, count, work, env, timeout)
    if classify.max_rss_kb and not classify.failed:
        throughput.floors.append(Floor("reference: peak RSS of this classify run",
                                       classify.max_rss_kb / 1024, "MB"))
    print("2/4 cold start ...", flush=True)
    figures = [throughput, bench_cold_classify(mail, work, env, args.repeat)]

    imap_labels = [
        ("cold_start_run_once", "2b cold start: responder run --once, empty IMAP folder", "s",
         f"< {TARGET_COLD_START} s"),
        ("backlog_throughput", f"3  backlog: responder run --once, {count:,} msgs in Dovecot",
         "msg/s", f">= {TARGET_BACKLOG_SHARE:.0%} of figure 1"),
        ("backlog_peak_rss", "4  memory: peak RSS of the backlog run", "MB",
         f"< {TARGET_RSS_MB:.0f} MB"),
    ]
    server = None
    if args.skip_imap:
        figures += [skipped(*spec, "skipped (--skip-imap)") for spec in imap_labels]
    else:
        files = sorted(mail.glob("*.eml"))
        print(f"    loading {len(files):,} messages into Dovecot ({args.load}) ...", flush=True)
        try:
            from imap_server import BenchServer  # tests/dovecot.py and a dovecot binary

            server = BenchServer(files, load=args.load).start()
        except Exception as exc:  # noqa: BLE001 - no Dovecot must not lose figures 1 and 2a
            why = f"Dovecot unavailable: {(str(exc).strip() or repr(exc)).splitlines()[0]}"
            print(f"    {why}", file=sys.stderr)
            figures += [skipped(*spec, why) for spec in imap_labels]
    if server is not None:
        try:
            figures.append(bench_cold_run(server, work, env, args.repeat))
            print("3/4 backlog ...", flush=True)
            server.warm_up()
            backlog, memory = bench_backlog(server, count, work, env, timeout, classify)
            backlog.note = "; ".join(filter(None, [
                f"loaded by {LOADS[args.load]} in {server.load_seconds:.1f} s and indexed "
                f"before timing; responder's default batch_size {ImapSettings().batch_size}",
                backlog.note]))
            figures += [backlog, memory]
        finally:
            server.close()
    print("4/4 done", flush=True)
    load_after = os.getloadavg()[0]

    header = (f"responder benchmarks: {count:,} generated messages "
              f"({manifest.get('bytes', 0) / 1e6:.1f} MB; mean {manifest.get('mean_bytes', 0):,} B,"
              f" median {manifest.get('median_bytes', 0):,} B, max "
              f"{manifest.get('max_bytes', 0):,} B), seed {args.seed}\n"
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
              f"Dovecot {dovecot_version()}, {time.strftime('%Y-%m-%d %H:%M:%S')}, "
              f"bench took {time.perf_counter() - started:.0f} s\n"
              f"load average (1 min) {load_before:.2f} before, {load_after:.2f} after (ours "
              "included)" + (" -- the machine was busy: compare figures with their floors, "
                             "not with other runs" if load_before > 0.5 * (os.cpu_count() or 1)
                             else ""))
    print()
    print(format_table(figures, header))
    below = [f.key for f in figures if f.ok is False]
    if below:
        print(f"\nbelow target: {', '.join(below)}; profile with "
              f"`.venv/bin/python benchmarks/profile_classify.py` (see benchmarks/README.md)")
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({
        "count": count, "seed": args.seed, "quick": args.quick,
        "python": platform.python_version(), "cpus": os.cpu_count(),
        "dovecot": dovecot_version(), "rss_method": RSS_METHOD,
        "load_average": {"start": load_before, "end": load_after},
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - started, 1),
        "data": manifest, "figures": [asdict(f) for f in figures],
    }, indent=2) + "\n", encoding="utf-8")
    print(f"\nfigures written to {results}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
