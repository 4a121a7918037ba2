"""The hub's command line, settings, process supervisor and shared plumbing (clock, logging, errors)."""
