"""Check at ``import spikedet`` that the installed libraries fit.

Like mmdet's ``mmcv_minimum_version`` check, but the ranges are not repeated
here: they are read from spikedet's own installed metadata (its
``Requires-Dist``, i.e. ``requirements/runtime.txt`` through setup.py), so
the one place that states them is that file. The check reads package
metadata only and imports none of the libraries, so it costs milliseconds.

A source checkout that is not installed has no metadata and is not checked.
Set ``SPIKEDET_SKIP_VERSION_CHECK=1`` to try spikedet with versions outside
the ranges (at your own risk).
"""
import os
from importlib import metadata
from typing import Callable, Iterable, List, Optional

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

#: Set to 1 to skip :func:`check_dependencies` at import.
SKIP_ENV = 'SPIKEDET_SKIP_VERSION_CHECK'

#: Extra advice per package, appended to its message.
_HINTS = {
    'mmcv': ' mmcv must be built with its ops (no CPU wheel exists): see the '
    "README ('Two commands') or tools/setup/build_mmcv.sh.",
    'spikingjelly': ' spikedet uses the 0.0.0.0.14 API (LIFNode with a '
    '`backend` argument); spikingjelly 2.x changed it.',
    'torch': ' Install the torch build for your CUDA version from '
    'pytorch.org.',
}


class IncompatibleDependencyError(ImportError):
    """An installed library is missing or outside spikedet's range."""


def _installed_version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def find_problems(
        requirements: Iterable[str],
        installed: Optional[Callable[[str],
                                     Optional[str]]] = None) -> List[str]:
    """Compare requirements with what is installed.

    Args:
        requirements (Iterable[str]): PEP 508 requirement strings, e.g.
            ``'mmcv>=2.0.0,<2.2.0'``. Requirements whose marker does not
            apply (extras such as ``extra == "tests"``, other platforms) are
            skipped.
        installed (Callable): Maps a distribution name to its installed
            version, or None if it is not installed. Defaults to None:
            read package metadata.

    Returns:
        list[str]: One message per missing or out-of-range package, each
        saying what is installed and what to install. Empty if all fit.
    """
    installed = installed or _installed_version
    problems = []
    for line in requirements:
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate({'extra': ''}):
            continue
        found = installed(req.name)
        spec = str(req.specifier)
        fix = f"pip install '{req.name}{spec}'"
        hint = _HINTS.get(req.name, '')
        if found is None:
            problems.append(f'{req.name} is not installed: {fix}.{hint}')
            continue
        if not spec:
            continue
        try:
            # Pre-releases count (mmcv 2.0.0rc4 fits mmcv>=2.0.0rc4); a local
            # label such as torch's +cu121 is ignored by the comparison.
            ok = req.specifier.contains(Version(found), prereleases=True)
        except InvalidVersion:
            continue
        if not ok:
            problems.append(f'{req.name} {found} is installed, but spikedet '
                            f'needs {req.name}{spec}: {fix}.{hint}')
    return problems


def spikedet_requirements() -> Optional[List[str]]:
    """spikedet's own ``Requires-Dist``, or None when spikedet runs from a
    checkout that is not installed (no metadata)."""
    try:
        return metadata.requires('spikedet') or []
    except metadata.PackageNotFoundError:
        return None


def check_dependencies() -> None:
    """Raise if an installed library does not fit spikedet's ranges.

    Raises:
        IncompatibleDependencyError: Listing every misfit, with the pip
            command for each. Skipped when ``SPIKEDET_SKIP_VERSION_CHECK=1``
            or when spikedet itself is not installed.
    """
    if os.environ.get(SKIP_ENV, '') not in ('', '0'):
        return
    reqs = spikedet_requirements()
    if not reqs:
        return
    problems = find_problems(reqs)
    if problems:
        raise IncompatibleDependencyError(
            'spikedet cannot run with the installed libraries:\n  - ' +
            '\n  - '.join(problems) +
            '\nThe versions verified together are pinned in '
            f'requirements/stack.txt (make setup). Set {SKIP_ENV}=1 to '
            'skip this check at your own risk.')
