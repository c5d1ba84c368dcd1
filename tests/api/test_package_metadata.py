"""The installed package's metadata agrees with the code, the changelog and CI.

- the version in the metadata is ``gnet.__version__`` (hatchling reads it
  from gnet/__init__.py), and CHANGELOG.md has a section for it;
- every dependency floor (``name>=X``) of the runtime dependencies and of
  the extras is pinned, with the same version and environment marker, in
  .ci/floors.txt, which CI's floors run installs: a floor nobody tests
  cannot creep in.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

import gnet

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*(?P<op>>=|==)\s*(?P<version>[^\s;,]+)"
    r"\s*(?:;\s*(?P<marker>.*))?$"
)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def normalize_marker(marker: str | None) -> str:
    """A marker without the extra it belongs to, quotes and spacing unified."""
    if not marker:
        return ""
    marker = re.sub(r"\s*(and\s+)?extra\s*==\s*['\"][^'\"]+['\"]", "", marker).strip()
    marker = re.sub(r"^and\s+|\s+and$", "", marker)
    return re.sub(r"\s+", " ", marker.replace("'", '"')).strip()


@pytest.fixture(scope="module")
def requirements() -> list[str]:
    try:
        requires = metadata.requires("gnet")
    except metadata.PackageNotFoundError:
        pytest.skip("gnet is not installed (pip install -e .), so it has no metadata")
    assert requires is not None
    return requires


def test_version_is_the_code_version() -> None:
    try:
        installed = metadata.version("gnet")
    except metadata.PackageNotFoundError:
        pytest.skip("gnet is not installed (pip install -e .), so it has no metadata")
    assert installed == gnet.__version__


def test_changelog_has_a_section_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{gnet.__version__}]" in changelog
    assert "## [Unreleased]" in changelog


def test_every_floor_is_pinned_in_the_floors_run(requirements: list[str]) -> None:
    pins = {}
    for line in (ROOT / ".ci" / "floors.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = REQUIREMENT.match(line)
            assert match and match["op"] == "==", f"not a pin: {line!r}"
            pins[(normalize(match["name"]), normalize_marker(match["marker"]))] = match["version"]
    floors = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None or normalize(match["name"]) == "gnet":
            continue
        assert match["op"] == ">=", f"a dependency without a floor: {requirement!r}"
        floors[(normalize(match["name"]), normalize_marker(match["marker"]))] = match["version"]
    assert floors, requirements
    untested = {key: version for key, version in floors.items() if pins.get(key) != version}
    assert not untested, f"floors that .ci/floors.txt does not pin: {untested}"
