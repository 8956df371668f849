"""Call recordings: storage, metadata, compression, retention, integrity, playback with ranges, access
audit, recording consent; ingest when a call ends (wiring.py) and the daily retention job (jobs.py); and
quality review (scorecards, reviews, sampling)."""
