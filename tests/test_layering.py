"""The shape of service/: a few modules at the top, rooms below, and no import circle."""

from pathlib import Path

import grimp

SERVICE = Path(__file__).resolve().parents[1] / "service"


def test_the_top_level_holds_at_most_six_modules() -> None:
    """Everything else lives in a room (a package) a newcomer can name."""
    modules = sorted(p.name for p in SERVICE.glob("*.py"))
    assert len(modules) <= 6, modules
    assert {"main.py", "worker.py"} <= set(modules)


def test_no_module_imports_itself_back() -> None:
    """No circle of imports between service modules, type-checking imports included."""
    graph = grimp.build_graph("service")
    circles = sorted(
        {
            tuple(sorted((module, imported)))
            for module in graph.modules
            for imported in graph.find_modules_directly_imported_by(module)
            if imported != module and graph.chain_exists(importer=imported, imported=module)
        }
    )
    assert circles == []
