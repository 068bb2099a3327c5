"""spikedet's version (read by setup.py)."""
from typing import Tuple

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> Tuple[int, ...]:
    """``'0.1.0'`` -> ``(0, 1, 0)``; non-numeric parts (``rc1``) are
    dropped."""
    return tuple(int(x) for x in version_str.split('.') if x.isdigit())


version_info = parse_version_info(__version__)
