"""`responder run` and `responder run --idle`: call `Worker.run_once()` repeatedly.

Polling uses APScheduler: one job at the configured interval, one poll at a
time (`max_instances=1`), missed runs coalesced into one. `--idle` waits with
IMAP IDLE between polls, re-issued every `[imap] idle_seconds` (well within
the 29 minutes after which servers may drop it), and falls back to polling
when the server lacks IDLE. SIGTERM and SIGINT stop cleanly after the message
in hand.
"""

from __future__ import annotations

import logging
import signal
import threading

from responder.config import Config
from responder.errors import AuthenticationError, ConfigError, MailboxError, ResponderError
from responder.store import Store

log = logging.getLogger(__name__)


def _install_signal_handlers(stop: threading.Event, on_stop=None) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("received %s; stopping after the message in hand", signal.Signals(signum).name)
        stop.set()
        if on_stop is not None:
            on_stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _poll(config: Config, stop: threading.Event) -> bool:
    """One poll; errors that retrying will fix are logged, the rest stop the service.
    True if the poll ran to its end."""
    from responder.commands import make_worker

    with Store(config.store.path) as store:
        try:
            report = make_worker(config, store, stop=stop).run_once()
        except (AuthenticationError, ConfigError):
            raise
        except MailboxError as exc:
            log.error("poll failed: %s; the next poll will try again", exc)
            return False
        except ResponderError as exc:
            log.error("poll failed: %s", exc)
            return False
    return not report.locked_out


def _mail_since_poll(watcher, config: Config) -> bool:
    with Store(config.store.path) as store:
        return watcher.has_new_mail(store)


def run_forever(config: Config, *, idle: bool = False) -> int:
    stop = threading.Event()
    if idle and config.source.kind == "imap":
        _install_signal_handlers(stop)
        return _run_idle(config, stop)
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = BlockingScheduler()
    failure: list[BaseException] = []

    def job() -> None:
        try:
            _poll(config, stop)
        except (AuthenticationError, ConfigError) as exc:
            failure.append(exc)
            stop.set()
            scheduler.shutdown(wait=False)

    scheduler.add_job(job, "interval", seconds=config.worker.poll_seconds, max_instances=1,
                      coalesce=True, misfire_grace_time=None, next_run_time=_now(),
                      id="poll")
    _install_signal_handlers(stop, on_stop=lambda: scheduler.shutdown(wait=False))
    log.info("polling every %s s; stop with SIGTERM or Ctrl-C", config.worker.poll_seconds)
    scheduler.start()
    if failure:
        raise failure[0]
    return 0


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _run_idle(config: Config, stop: threading.Event) -> int:
    from responder.mailbox import ImapSource

    log.info("waiting for mail with IMAP IDLE; stop with SIGTERM or Ctrl-C")
    while not stop.is_set():
        polled = _poll(config, stop)
        if stop.is_set():
            break
        watcher = ImapSource(config.imap)
        try:
            watcher.open()
            # Mail that came between the poll's SEARCH and this SELECT is not new to
            # this connection, so IDLE would never announce it: poll again at once.
            # Only after a poll that ran to its end, lest a failing poll spin.
            if polled and _mail_since_poll(watcher, config):
                continue
            if watcher.supports_idle():
                # Short IDLE slices so that a stop request is noticed within seconds.
                waited = 0
                while waited < config.imap.idle_seconds and not stop.is_set():
                    if watcher.wait_for_mail(min(5, config.imap.idle_seconds - waited)):
                        break
                    waited += 5
            else:
                log.info("the server lacks IDLE; polling every %s s", config.worker.poll_seconds)
                stop.wait(config.worker.poll_seconds)
        except MailboxError as exc:
            log.warning("IDLE interrupted (%s); polling again", exc)
            stop.wait(min(30, config.worker.poll_seconds))
        finally:
            watcher.close()
    return 0
