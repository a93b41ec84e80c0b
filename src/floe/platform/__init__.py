"""The local platform: real services as local processes, a supervisor, releases and bootstrap."""
