"""Subcommands that touch the store, the mailbox and the web: run, review, send, serve, user."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the store-backed subcommands to the `responder` parser."""
