"""Pure domain: no clock, no database, no sockets. Every operation takes ``now`` and an ``actor``."""
