"""What a mail source hands the worker, and the local Maildir source (the embedded default).

A source yields batches of `Fetched` messages that the store has not seen,
and is told afterwards which of them the store committed (`mark_done`). The
IMAP source lives in `mailbox.py`, the only importer of imapclient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from responder.errors import ConfigError
from responder.store import FolderState, Store


@dataclass(frozen=True, slots=True)
class Fetched:
    """One message as fetched: `raw` is None when it was too large to fetch and parse;
    then `header` holds its header block, if the source could read it."""

    location: str
    raw: bytes | None
    size: int
    uid: int = 0
    header: bytes | None = None


@dataclass
class Batch:
    items: list[Fetched] = field(default_factory=list)
    folder: str | None = None  # the folder key of `folder_state`, for IMAP
    uidvalidity: int = 0

    def state_after(self, last_uid: int) -> FolderState | None:
        if self.folder is None:
            return None
        return FolderState(folder=self.folder, uidvalidity=self.uidvalidity, last_uid=last_uid)


class MailSource(Protocol):
    prefix: str  # every location of this source starts with it

    def open(self) -> None: ...
    def close(self) -> None: ...
    def batches(self, store: Store) -> Iterator[Batch]: ...
    def mark_done(self, locations: list[str]) -> None: ...


class MaildirSource:
    """Reads a local Maildir (new/ and cur/) and leaves the files as they are."""

    def __init__(self, path: Path, *, batch_size: int = 200, max_bytes: int = 25_000_000) -> None:
        self.path = path
        self.batch_size = batch_size
        self.max_bytes = max_bytes
        self.prefix = f"maildir:{path.resolve()}:"

    def open(self) -> None:
        if not (self.path / "new").is_dir() and not (self.path / "cur").is_dir():
            # A wrong path: retrying will not help, so it is a configuration error.
            raise ConfigError(f"[maildir] path {self.path}: not a Maildir (no new/ or cur/ "
                              "folder)")

    def close(self) -> None:
        pass

    def _files(self) -> list[Path]:
        files: list[Path] = []
        for sub in ("new", "cur"):
            folder = self.path / sub
            if folder.is_dir():
                files.extend(p for p in folder.iterdir() if p.is_file()
                             and not p.name.startswith("."))
        return sorted(files, key=lambda p: p.name)

    def batches(self, store: Store) -> Iterator[Batch]:
        files = self._files()
        for start in range(0, len(files), self.batch_size):
            chunk = files[start : start + self.batch_size]
            locations = {self.prefix + p.name.split(":", 1)[0]: p for p in chunk}
            known = store.known_locations(locations)
            batch = Batch()
            for location, path in locations.items():
                if location in known:
                    continue
                size = path.stat().st_size
                raw = header = None
                if size <= self.max_bytes:
                    raw = path.read_bytes()
                else:
                    with path.open("rb") as handle:
                        header = handle.read(64_000).split(b"\n\n", 1)[0]
                batch.items.append(Fetched(location, raw, size, header=header))
            if batch.items:
                yield batch

    def mark_done(self, locations: list[str]) -> None:
        """The demo inbox is part of the project: leave its files untouched."""
