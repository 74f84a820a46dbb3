"""responder: triage support mail, draft policy replies, let staff approve, then send."""

__version__ = "0.1.0"
