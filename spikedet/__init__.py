"""spikedet: spiking-neural-network backbones for OpenMMLab."""
from .version import __version__  # noqa: F401
from .registry import HOOKS, MODELS  # noqa: F401
from . import models  # noqa: F401,E402  (registers the models)
from . import engine  # noqa: F401,E402  (registers the hooks)
