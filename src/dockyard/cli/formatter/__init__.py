"""Docker's output formatting (docker/cli's cli/command/formatter): ``--format`` with its
``table`` and ``json`` forms, header rows, tabwriter columns, and the typed rows the
listings hand it."""
