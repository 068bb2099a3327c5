"""Write the deploy (re-parameterised) checkpoint of a trained model.

Like mmpretrain's ``tools/model_converters/reparameterize_model.py``: build
the config's model, load the checkpoint, call ``switch_to_deploy()`` on the
backbone, necks and heads that have it (every BatchNorm folded into its
conv, neurons as thresholds at one time step, see
:mod:`spikedet.models.spiking.reparam`) and save the state dict. Evaluate it
with the same config, built in deploy mode by ``deploy=True`` on those
modules; the tool prints the exact ``--cfg-options``.

Example::

    python tools/model_converters/reparameterize_model.py \\
        configs/quickstart/metaspikeformer-tiny-t1_fashion-mnist.py \\
        work_dirs/qs_cls/iter_1200.pth work_dirs/qs_cls/deploy.pth
    python tools/test.py \\
        configs/quickstart/metaspikeformer-tiny-t1_fashion-mnist.py \\
        work_dirs/qs_cls/deploy.pth \\
        --cfg-options model.backbone.deploy=True model.head.deploy=True
"""
import argparse
import os
import os.path as osp
from typing import Any, List, Optional, Sequence

import torch
from mmengine.config import DictAction
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import load_checkpoint

from spikedet.models.spiking.reparam import (supports_deploy,
                                             switch_model_to_deploy)
from spikedet.utils.setup_env import load_config


def deploy_keys(node: Any, path: str = 'model') -> List[str]:
    """Config keys that build the deploy model: ``<path>.deploy`` for every
    module config whose class takes a ``deploy`` argument. Call it inside
    the config's default scope.

    Args:
        node: A model config (dicts and lists of dicts).
        path (str): Key of ``node``. Defaults to ``'model'``.

    Returns:
        list[str]: E.g. ``['model.backbone.deploy', 'model.head.deploy']``.
    """
    keys = []
    if isinstance(node, dict):
        cls = node.get('type')
        if isinstance(cls, str):
            cls = MODELS.get(cls)
        if isinstance(cls, type) and supports_deploy(cls):
            keys.append(f'{path}.deploy')
        for key, value in node.items():
            keys += deploy_keys(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            keys += deploy_keys(value, f'{path}[{i}]')
    return keys


def build_model(config: str,
                checkpoint: Optional[str] = None,
                deploy: bool = False,
                cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build the config's model in eval mode (on the CPU), optionally in
    deploy mode, and load ``checkpoint`` strictly.

    Args:
        config (str): Config file.
        checkpoint (str, optional): Weights to load. Defaults to None.
        deploy (bool): Build the deploy model. Defaults to False.
        cfg_options (dict, optional): Config overrides. Defaults to None.

    Returns:
        nn.Module: The model.
    """
    cfg, scope = load_config(config, cfg_options=cfg_options)
    with DefaultScope.overwrite_default_scope(scope):
        if deploy:
            keys = deploy_keys(cfg.model)
            if not keys:
                raise ValueError(f'No module of {config} has a deploy mode.')
            cfg.merge_from_dict({k: True for k in keys})
        model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='silent')
    return model.eval()


def reparameterize_checkpoint(config: str,
                              checkpoint: str,
                              out: str,
                              cfg_options: Optional[dict] = None) -> List[str]:
    """Write the deploy checkpoint of ``checkpoint`` to ``out``.

    Returns:
        list[str]: The ``--cfg-options`` that build the deploy model.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f"Checkpoint '{checkpoint}' not found.")
    model = build_model(config, checkpoint, cfg_options=cfg_options)
    switch_model_to_deploy(model)
    cfg, scope = load_config(config, cfg_options=cfg_options)
    with DefaultScope.overwrite_default_scope(scope):
        options = [f'{k}=True' for k in deploy_keys(cfg.model)]
    if osp.dirname(out):
        os.makedirs(osp.dirname(out), exist_ok=True)
    torch.save(
        dict(
            meta=dict(deploy=True, source=checkpoint, cfg_options=options),
            state_dict=model.state_dict()), out)
    return options


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='config file of the trained model')
    parser.add_argument('checkpoint', help='checkpoint of the trained model')
    parser.add_argument('out', help='where to write the deploy checkpoint')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> List[str]:
    args = parse_args(argv)
    options = reparameterize_checkpoint(args.config, args.checkpoint, args.out,
                                        args.cfg_options)
    print(f'saved: {args.out}')
    print('Evaluate it with:\n  python tools/test.py '
          f"{args.config} {args.out} --cfg-options {' '.join(options)}")
    return options


if __name__ == '__main__':
    main()
