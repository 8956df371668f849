"""The shell of the 12345 hotline: settings, database, event bus, clock, composition root and CLI."""
