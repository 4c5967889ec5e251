"""`python -m service.cli`: the same as the `policy-match` command."""

from service.cli import main

raise SystemExit(main())
