"""Whether one line of a code repository's requirements.txt is satisfied by this environment, installing nothing.

A line is a package requirement (``name``, ``name==1.2.3``, ``name>=1,<2``, with extras or an
environment marker); options (``-r``, ``-e``, ``--index-url``...), URLs and direct references
(``name @ https://...``) are refused, since the service never installs anything and a line must
say which installed package it needs. Extras are not checked beyond the package itself.
"""

from importlib import metadata
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement

_ALLOWED = "a package name with an optional version (name, name==1.2.3, name>=1,<2)"


def check_line(line: str) -> dict[str, Any]:
    """``{"line", "ok": true}`` or ``{"line", "ok": false, "error": "<one sentence>"}``."""
    error = _problem(line.split("#", 1)[0].strip())
    return {"line": line, "ok": True} if error is None else {"line": line, "ok": False, "error": error}


def _problem(text: str) -> str | None:
    if text.startswith("-"):
        return f"{text} is refused: requirements.txt may hold only {_ALLOWED}, no options, -r includes or editable installs."
    if "://" in text:
        return f"{text} is refused: requirements.txt may not name URLs; name a package installed in the environment."
    try:
        requirement = Requirement(text)
    except InvalidRequirement as error:
        reason = " ".join(str(error).splitlines()[0].split())
        return f"{text} is not a valid requirement ({reason}); write {_ALLOWED}."
    if requirement.url:
        return f"{text} is refused: requirements.txt may not hold direct references; name a package installed in the environment."
    if requirement.marker is not None and not requirement.marker.evaluate():
        return None  # not meant for this environment
    try:
        installed = metadata.version(requirement.name)
    except metadata.PackageNotFoundError:
        return f"{text} is not satisfied: {requirement.name} is not installed in the environment that runs pipelines."
    if not requirement.specifier.contains(installed, prereleases=True):
        return f"{text} is not satisfied: the environment has {requirement.name} {installed}."
    return None
