"""One module per command group; each imports what it uses inside its commands,
so listing commands in ``--help`` costs only click."""
