"""The `floe` command line."""
