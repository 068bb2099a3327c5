"""spikedet: spiking-neural-network backbones for OpenMMLab."""
from .version import __version__  # noqa: F401
from .registry import HOOKS, MODELS  # noqa: F401
from . import models  # noqa: F401,E402  (registers the models)
from . import engine  # noqa: F401,E402  (registers the hooks)
from .utils.checkpoint import register_mmengine_safe_globals  # noqa: E402

# torch >= 2.6 loads with weights_only=True: allow-list what mmengine's
# Runner checkpoints hold (resume, load_from, tools/test.py).
register_mmengine_safe_globals()
