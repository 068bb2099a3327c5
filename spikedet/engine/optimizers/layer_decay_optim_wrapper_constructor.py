"""Layer-wise learning-rate decay for spikedet's spiking backbones."""
from functools import partial
from typing import Callable, List, Optional, Tuple

import torch.nn as nn
from mmpretrain.engine.optimizers import \
    LearningRateDecayOptimWrapperConstructor

from spikedet.models.backbones import MetaSpikeFormer, Spikformer
from spikedet.registry import OPTIM_WRAPPER_CONSTRUCTORS


def _layer_id(
        param_name: str, prefix: str, num_ids: int, embed: str,
        block_id: Callable[[List[str]], Optional[int]]) -> Tuple[int, int]:
    """The BEiT/MAE layer-id rule: the ``embed`` module of the backbone is 0,
    a block gets ``block_id(name parts)``, anything else (the head, a
    pyramid, a parameter outside the backbone, i.e. not starting with
    ``prefix``) the top id ``num_ids - 1``.

    Returns:
        tuple[int, int]: The layer id and ``num_ids``.
    """
    if prefix and not param_name.startswith(prefix):
        return num_ids - 1, num_ids
    parts = param_name[len(prefix):].split('.')
    if parts[0] == embed:
        return 0, num_ids
    layer = block_id(parts)
    return (num_ids - 1 if layer is None else layer), num_ids


def get_layer_depth_metaspikeformer(
        param_name: str,
        depths: Tuple[int, ...],
        prefix: str = 'backbone.') -> Tuple[int, int]:
    """Layer id of a parameter of a model with a :class:`MetaSpikeFormer`.

    The rule of BEiT/MAE that the paper's code follows (the encoding layers
    get id 0, block ``i`` gets ``i + 1``, everything else the top id), put
    onto Meta-SpikeFormer's layout: ``stem`` (the encoding conv and its
    Conv-based block) is 0, the blocks of ``stages`` are numbered
    ``1 .. sum(depths)`` in forward order, each ``downsample_layers.i`` shares
    the id of the first block of stage ``i`` (it opens that stage), and the
    head (or anything else outside the backbone) gets ``sum(depths) + 1``.

    Args:
        param_name (str): Parameter name, e.g.
            ``'backbone.stages.2.0.attn.q.conv1.weight'``.
        depths (tuple[int]): Blocks per stage (``arch_settings['depths']``).
        prefix (str): Prefix of the backbone's parameters.
            Defaults to ``'backbone.'``.

    Returns:
        tuple[int, int]: The layer id and the number of ids
        (``sum(depths) + 2``).
    """

    def block_id(parts: List[str]) -> Optional[int]:
        if parts[0] not in ('downsample_layers', 'stages'):
            return None
        first = 1 + sum(depths[:int(parts[1])])
        return first if parts[0] == 'downsample_layers' else \
            first + int(parts[2])

    return _layer_id(param_name, prefix, sum(depths) + 2, 'stem', block_id)


def get_layer_depth_spikformer(param_name: str,
                               depth: int,
                               prefix: str = 'backbone.') -> Tuple[int, int]:
    """Layer id of a parameter of a model with a :class:`Spikformer`.

    As in the ViT rule of the paper's code: ``patch_embed`` (Spiking Patch
    Splitting) is 0, ``blocks.i`` is ``i + 1``, everything else (the spiking
    pyramid, the head) ``depth + 1``.

    Args:
        param_name (str): Parameter name.
        depth (int): Number of blocks.
        prefix (str): Prefix of the backbone's parameters.
            Defaults to ``'backbone.'``.

    Returns:
        tuple[int, int]: The layer id and the number of ids (``depth + 2``).
    """
    return _layer_id(
        param_name, prefix, depth + 2, 'patch_embed',
        lambda parts: int(parts[1]) + 1 if parts[0] == 'blocks' else None)


def layer_depth_fn(model: nn.Module) -> Callable[[str], Tuple[int, int]]:
    """The ``get_layer_depth`` function for a classifier with a spikedet
    backbone (``model.backbone``) or for a bare spikedet backbone.

    Args:
        model (nn.Module): The model the optimizer trains.

    Returns:
        Callable: ``param_name -> (layer_id, max_id)``.

    Raises:
        TypeError: The backbone is not a MetaSpikeFormer or Spikformer.
    """
    backbone, prefix = getattr(model, 'backbone', None), 'backbone.'
    if backbone is None:
        backbone, prefix = model, ''
    if isinstance(backbone, MetaSpikeFormer):
        return partial(
            get_layer_depth_metaspikeformer,
            depths=tuple(backbone.arch_settings['depths']),
            prefix=prefix)
    if isinstance(backbone, Spikformer):
        return partial(
            get_layer_depth_spikformer,
            depth=backbone.arch_settings['depth'],
            prefix=prefix)
    raise TypeError(
        'SpikingLayerDecayOptimWrapperConstructor assigns layer ids to '
        'MetaSpikeFormer and Spikformer backbones only, got '
        f'{type(backbone).__name__}. Use mmpretrain\'s '
        'LearningRateDecayOptimWrapperConstructor (backbones with a '
        '`get_layer_depth` method) or DefaultOptimWrapperConstructor.')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SpikingLayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """Layer-wise learning-rate decay for spiking backbones.

    mmpretrain's :class:`LearningRateDecayOptimWrapperConstructor` with the
    layer ids of :func:`get_layer_depth_metaspikeformer` or
    :func:`get_layer_depth_spikformer`, chosen from the model's backbone. A
    parameter of layer ``i`` out of ``n`` ids gets the learning rate
    ``lr * layer_decay_rate ** (n - i - 1)``: the head keeps ``lr``, the
    last block ``lr * rate``, the stem/patch splitting the smallest.

    The paper's training scripts keep the rate at 1.0 (the default of their
    ``--layer_decay``), which makes every scale 1; their optimizer groups
    still take weight decay off every one-dimensional parameter (biases,
    BN), which ``flat_decay_mult=0.`` reproduces. Frozen parameters
    (``requires_grad=False``, e.g. a distillation teacher) are left out.

    ``paramwise_cfg`` keys: ``layer_decay_rate`` (float, defaults to 1.0)
    and mmpretrain's ``bias_decay_mult``, ``norm_decay_mult``,
    ``flat_decay_mult`` and ``custom_keys`` (``decay_mult`` only).

    Example:
        >>> optim_wrapper = dict(
        ...     optimizer=dict(type='Lamb', lr=2.4e-3, weight_decay=0.05),
        ...     constructor='SpikingLayerDecayOptimWrapperConstructor',
        ...     paramwise_cfg=dict(layer_decay_rate=0.75,
        ...                        flat_decay_mult=0.))
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth: Optional[Callable] = None,
                   **kwargs) -> None:
        """Add the parameters of ``module`` to ``params`` (see
        :meth:`LearningRateDecayOptimWrapperConstructor.add_params`)."""
        if get_layer_depth is None:  # the top-level call
            rate = self.paramwise_cfg.get('layer_decay_rate', 1.0)
            if not 0. < rate <= 1.:
                raise ValueError(
                    f'layer_decay_rate must be in (0, 1], got {rate}.')
            get_layer_depth = layer_depth_fn(module)
        super().add_params(
            params, module, prefix=prefix, get_layer_depth=get_layer_depth)
