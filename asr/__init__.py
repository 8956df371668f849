"""Live transcription: Vosk streams for both legs of a call, RTP intake, transcripts, redaction.

Nothing here loads a model or opens a socket at import time; the composition root (or the CLI) builds a
``ModelPool`` and a ``TranscriptionService`` from settings.
"""
