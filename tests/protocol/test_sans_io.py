"""protocol/ is sans-I/O: only the standard library, and no clocks, sockets or event loops."""

import ast
import sys
from pathlib import Path

import voice_agent.protocol

FORBIDDEN = {"asyncio", "socket", "selectors", "time", "threading", "subprocess"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_protocol_modules_import_only_the_standard_library() -> None:
    root = Path(voice_agent.protocol.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) >= 9
    for path in modules:
        for name in _imports(path):
            top = name.split(".")[0]
            if name.startswith("voice_agent."):
                assert name.startswith("voice_agent.protocol"), f"{path.name} imports {name}"
                continue
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"
            assert top not in FORBIDDEN, f"{path.name} imports {name}"
