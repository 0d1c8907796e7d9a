"""The `andon` commands, one module per group; `cli.py` assembles them in `--help` order."""
