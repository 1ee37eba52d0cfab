"""Dependencies: every direct one has a tested range, constraints.txt pins a version inside it, and this
environment runs exactly the pinned versions (what `make` installs on a fresh machine)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def lines(name: str) -> list[str]:
    text = (ROOT / name).read_text(encoding="utf-8")
    return [ln.split("#", 1)[0].strip() for ln in text.splitlines() if ln.split("#", 1)[0].strip()]


def pins() -> dict[str, Version]:
    found = {}
    for line in lines("constraints.txt"):
        name, _, version = line.partition("==")
        found[canonicalize_name(name)] = Version(version)
    return found


def test_every_direct_dependency_has_a_bounded_range_and_a_pin_inside_it():
    pinned = pins()
    for requirement in map(Requirement, lines("requirements.txt") + lines("requirements-dev.txt")):
        spec = requirement.specifier
        bounded = any(s.operator in ("==", "<", "<=", "~=") for s in spec)
        assert bounded and any(s.operator in ("==", ">=", "~=") for s in spec), (
            f"{requirement}: give a tested range"
        )
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{requirement.name} is missing from constraints.txt (make lock)"
        assert spec.contains(pinned[name], prereleases=True), (
            f"{requirement.name} {pinned[name]} is outside {spec}"
        )


def test_this_environment_runs_the_pinned_versions():
    wrong = []
    for name, version in pins().items():
        try:
            installed = Version(metadata.version(name))
        except metadata.PackageNotFoundError:
            continue  # a pin for a package nothing here needs is harmless
        if Version(installed.public) != version:
            wrong.append(f"{name} {installed} (pinned {version})")
    assert wrong == [], "make installs through constraints.txt; run make lock after changing a range"
