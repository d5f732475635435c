"""One module per fuzz target, each with ``one_input(data: bytes) -> None``."""
