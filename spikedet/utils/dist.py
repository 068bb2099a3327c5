"""Distributed training on machines without CUDA (gloo).

mmengine 0.10.7's ``--launcher pytorch`` path assumes GPUs: ``init_dist``
calls ``torch.cuda.set_device`` and the Runner wraps the model in
``MMDistributedDataParallel(device_ids=[LOCAL_RANK])``; both fail on a CPU
machine. :func:`setup_cpu_distributed` prepares a config so that the same
``tools/dist_train.sh CONFIG N`` runs there: it starts the gloo process
group itself (the Runner then skips ``init_dist``) and sets the wrapper's
``device_ids`` to None, as DDP requires for CPU modules. With CUDA present it
does nothing, so GPU runs go through mmengine unchanged.
"""
import os
import warnings

import torch
import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS
from torch.nn.parallel import DistributedDataParallel


def setup_cpu_distributed(cfg: Config) -> bool:
    """Make a distributed launch of ``cfg`` work without CUDA.

    Args:
        cfg (Config): The config; ``cfg.launcher`` is the launcher given on
            the command line. Modified in place (``model_wrapper_cfg`` and
            ``env_cfg.dist_cfg.backend``).

    Returns:
        bool: True if the CPU (gloo) setup was applied, False if nothing was
        needed (non-distributed launch, or CUDA available).

    Raises:
        RuntimeError: For a launcher other than ``pytorch`` without CUDA, or
            when the environment variables torchrun sets are missing.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs CUDA. Without a GPU, launch with '
            'torchrun (tools/dist_train.sh CONFIG NPROC), i.e. '
            '--launcher pytorch, which then uses the gloo backend.')
    missing = [
        k for k in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
        if k not in os.environ
    ]
    if missing:
        raise RuntimeError(
            f'--launcher pytorch but {", ".join(missing)} not set: start the '
            'script with torchrun (tools/dist_train.sh CONFIG NPROC).')

    # (Config.setdefault would hand back an unattached copy: assign.)
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    if cfg.env_cfg.get('dist_cfg') is None:
        cfg.env_cfg.dist_cfg = dict()
    dist_cfg = cfg.env_cfg.dist_cfg
    if dist_cfg.get('backend', 'gloo') != 'gloo':
        warnings.warn('No CUDA: using the gloo backend instead of '
                      f'{dist_cfg.backend!r} for distributed training.')
    dist_cfg.backend = 'gloo'
    if not torch_dist.is_initialized():
        kwargs = {k: v for k, v in dist_cfg.items() if k != 'backend'}
        torch_dist.init_process_group(backend='gloo', **kwargs)

    wrapper_cfg = cfg.get('model_wrapper_cfg')
    if wrapper_cfg is None:
        # What the Runner builds by default, minus the GPU device id.
        wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper_cls = MODEL_WRAPPERS.get(
        wrapper_cfg.get('type', 'MMDistributedDataParallel'))
    if isinstance(wrapper_cls, type) and issubclass(wrapper_cls,
                                                    DistributedDataParallel):
        wrapper_cfg['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper_cfg
    return True
