"""The `responder` command: parses arguments, loads config, wires objects; no logic.

Exit statuses: 0 done; 1 an unexpected error (a bug: the traceback is logged);
2 a usage, config or model error; 3 the mail server stayed unreachable;
4 the mail server refused our credentials.
Every error a user can cause is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from responder.config import Config, load_config
from responder.errors import ConfigError, ResponderError

log = logging.getLogger("responder")

SKIPPED_SUFFIXES = (".md", ".json", ".jsonl")


def iter_message_files(paths: Sequence[str]) -> list[Path]:
    """Files named, and every regular file under folders named, in order.

    Hidden files and folders and `*.md`, `*.json`, `*.jsonl` inside folders are
    left aside; a file named explicitly is always read.
    """
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ConfigError(f"{missing[0]}: no such file or folder")
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_file():
            out.append(path)
            continue
        if not path.is_dir():
            raise ConfigError(f"{name}: not a file or folder")
        out.extend(_walk_folder(path))
    return out


def _walk_folder(folder: Path) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot read the folder: {exc.strerror}") from exc
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk_folder(entry)
        elif entry.is_file() and not entry.name.lower().endswith(SKIPPED_SUFFIXES):
            yield entry


def _progress(items: list, label: str) -> Iterator:
    """A progress bar on stderr for long runs on a terminal; plain iteration otherwise."""
    if len(items) >= 50 and sys.stderr.isatty():
        from tqdm import tqdm

        return iter(tqdm(items, desc=label, unit="msg", file=sys.stderr, leave=False))
    return iter(items)


def make_triager(config: Config):
    """The triager for `config`; the model loads on first use."""
    from responder.classifier import load_model
    from responder.drafting import Drafter
    from responder.triage import Triager, TriageSettings

    return Triager(
        load_model=lambda: load_model(config.model_path),
        drafter=Drafter(config.templates_path),
        settings=TriageSettings(
            own_addresses=config.own_addresses,
            shop_name=config.responder.shop_name,
            signature=config.responder.signature,
        ),
    )


# -- commands -------------------------------------------------------------

def cmd_classify(args: argparse.Namespace, config: Config) -> int:
    files = iter_message_files(args.paths)
    triager = make_triager(config)
    triager.model  # noqa: B018 - fail fast, before any output, on a broken model
    out = sys.stdout
    started = time.perf_counter()
    counts: dict[str, int] = {}
    for path in _progress(files, "classify"):
        try:
            raw = path.read_bytes()
        except OSError as exc:
            log.warning("%s: cannot read: %s", path, exc.strerror)
            raw = b""
        verdict = triager.triage(raw).verdict
        counts[f"{verdict.category}/{verdict.action}"] = (
            counts.get(f"{verdict.category}/{verdict.action}", 0) + 1
        )
        out.write(json.dumps(verdict.contract(str(path)), ensure_ascii=False) + "\n")
    elapsed = time.perf_counter() - started
    log.info("classified %d messages in %.2f s: %s", len(files), elapsed,
             ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "nothing")
    return 0


def cmd_train(args: argparse.Namespace, config: Config) -> int:
    try:
        from responder.training import train
    except ImportError as exc:
        raise ResponderError(
            f"training needs scikit-learn ({exc.name} is missing): pip install 'responder[train]'"
        ) from exc
    model_path = Path(args.output) if args.output else config.model_path
    corpus = Path(args.corpus)
    card = Path(args.card) if args.card else model_path.parent / "README.md"
    report = train(corpus, model_path, card)
    m = report.metrics
    print(f"trained on {report.examples} examples -> {model_path}")
    print(f"cross-validated: accuracy {m['accuracy']}, macro-F1 {m['macro_f1']}, "
          f"drafted {m['at_thresholds']['drafted_share']:.1%}, "
          f"wrong drafts {m['at_thresholds']['wrong_draft_share']:.2%}; card: {card}")
    return 0


def cmd_evaluate(args: argparse.Namespace, config: Config) -> int:
    from responder.evaluation import evaluate_folders, format_report

    report = evaluate_folders([Path(p) for p in args.dirs], make_triager(config))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="responder",
        description="Triage support mail, draft policy replies, let staff approve, then send.",
    )
    parser.add_argument("--config", "-c", help="config file (default: $RESPONDER_CONFIG, "
                        "else ./responder.toml if present, else built-in defaults)")
    parser.add_argument("--verbose", "-v", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("classify", help="print one JSON verdict per message file")
    p.add_argument("paths", nargs="+", metavar="PATH", help="message files or folders")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("train", help="rebuild the model from the corpus")
    p.add_argument("--corpus", default=str(Path(__file__).resolve().parent.parent
                                           / "models" / "corpus"), help="corpus folder")
    p.add_argument("--output", help="model file to write (default: [model] path)")
    p.add_argument("--card", help="model card to write (default: README.md beside the model)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score verdicts against labels.jsonl in folders")
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_evaluate)

    from responder import commands

    commands.register(sub)
    return parser


def setup_logging(level: str, verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        setup_logging(config.responder.log_level, args.verbose)
        return int(args.func(args, config) or 0)
    except ResponderError as exc:
        print(f"responder: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("responder: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
