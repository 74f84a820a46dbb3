"""`python -m responder` is the same as the `responder` command."""

from responder.cli import main

raise SystemExit(main())
