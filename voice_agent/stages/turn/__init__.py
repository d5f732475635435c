"""Turn detection: when a pause ends the caller's turn, given what the dialogue expects."""
