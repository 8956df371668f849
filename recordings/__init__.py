"""Call recordings: storage, metadata, compression, retention, integrity, playback with ranges, access
audit, recording consent; and quality review (scorecards, reviews, sampling)."""
