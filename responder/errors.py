"""One exception tree for everything responder raises on purpose.

    ResponderError            base: the CLI prints str(exc) on one line, no traceback
    ├── ConfigError           a missing, unknown or ill-typed setting (names key and file)
    ├── ModelError            the model artifact is missing, tampered with or mismatched
    ├── TemplateError         a reply template is missing or fails to render
    ├── MailboxError          the mail source failed (IMAP, Maildir)
    │   └── AuthenticationError   the server refused our credentials: retrying won't help
    ├── StoreError            the SQLite store is unusable
    ├── SendError             SMTP refused or failed to take a reply
    │   └── RefusedRecipient  we will not send to this address (loop, rate cap)
    └── ReviewError           a review action that is not allowed (wrong state, unknown id)

Third-party exceptions are re-raised as one of these, `from exc`, at the edge
that called the library.
"""


class ResponderError(Exception):
    """Base of every error responder raises deliberately."""

    exit_status = 1


class ConfigError(ResponderError):
    """The configuration is wrong; the message names the key and the file."""

    exit_status = 2


class ModelError(ResponderError):
    """The model artifact cannot be used; the message names the rebuild command."""

    exit_status = 2


class TemplateError(ResponderError):
    """A reply template is missing or failed to render."""


class MailboxError(ResponderError):
    """The mail source failed; usually transient (network, server restart)."""

    exit_status = 3


class AuthenticationError(MailboxError):
    """The mail server refused the credentials; retrying will not help."""

    exit_status = 4


class StoreError(ResponderError):
    """The store could not be opened or migrated."""


class SendError(ResponderError):
    """Sending a reply failed; the draft stays approved and is retried."""


class RefusedRecipient(SendError):
    """The recipient is one we must never answer (loops, rate cap)."""


class ReviewError(ResponderError):
    """A review action that the draft's state does not allow."""
