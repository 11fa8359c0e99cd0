"""What the block library declares and what it imports, as one JSON object on stdout.

Run with the project's Python from blocks/python (test/dagster/block-library-requirements.test.ts):
Python itself knows how a requirement reads (packaging), which distribution provides a module
(importlib.metadata) and which modules `import constellation_blocks` loads.
"""

import ast
import importlib.metadata as metadata
import json
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LIBRARY = "constellation_blocks"


def pins(path: Path) -> dict[str, str]:
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.split("==", 1) for line in lines if line and not line.startswith("#"))
    return {canonicalize_name(name): version for name, version in pairs}


def declared(project: dict, constraints: dict[str, str]) -> list[dict]:
    groups = [(None, project.get("dependencies", []))] + list(project.get("optional-dependencies", {}).items())
    found = []
    for extra, requirements in groups:
        for text in requirements:
            req = Requirement(text)
            name = canonicalize_name(req.name)
            pin = constraints.get(name)
            found.append({
                "requirement": text,
                "name": name,
                "extras": sorted(req.extras),
                "extra": extra,
                "pinned": pin,
                "satisfied": pin is not None and req.specifier.contains(pin, prereleases=True),
            })
    return found


def third_party_imports(package_dir: Path) -> list[dict]:
    """Each top-level module a library file imports (at any depth of the file), stdlib aside."""
    providers = metadata.packages_distributions()
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        tops = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                tops.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                tops.add(node.module.split(".")[0])
        for top in sorted(tops - set(sys.stdlib_module_names) - {LIBRARY, "__future__"}):
            dists = sorted({canonicalize_name(d) for d in providers.get(top, [])})
            found.append({"file": path.relative_to(package_dir.parent).as_posix(), "module": top, "dists": dists})
    return found


def core_modules(imports: list[dict]) -> list[str]:
    """The library's own third-party imports that loading it (and the system location) runs."""
    before = set(sys.modules)
    __import__(f"{LIBRARY}.system_location")
    loaded = {name.split(".")[0] for name in set(sys.modules) - before}
    return sorted({i["module"] for i in imports} & loaded)


def main() -> None:
    root = Path.cwd()
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    imports = third_party_imports(root / LIBRARY)
    print(json.dumps({
        "version": project["version"],
        "declared": declared(project, pins(root / "constraints.txt")),
        "imports": imports,
        "core": core_modules(imports),
    }))


if __name__ == "__main__":
    main()
