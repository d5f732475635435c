"""Fuzzing harness and targets for voice_agent's parsers (run with ``python -m fuzz``)."""
