"""The table of valid calls of the public API, and the bad-input harness built on it."""
