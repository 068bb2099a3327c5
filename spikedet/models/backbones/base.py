"""What every spiking backbone shares: time-step encoding of the input,
time-keeping or time-averaged outputs, frozen stages, ``norm_eval``, and
strict loading of pretrained weights."""
import copy
import warnings
from contextlib import contextmanager
from functools import partial
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import CheckpointLoader
from torch.nn.modules.batchnorm import _BatchNorm

from spikedet.utils.state_dict import load_state_dict_strict
from ..spiking import aggregate_time, encode_input
from ..spiking.compact import compact_spikes
from ..spiking.reparam import DeployMixin, reparameterize


def _bn_rollback_contexts(block: nn.Module):
    """Context managers for ``torch.utils.checkpoint``: the first records the
    BN buffers before the forward, the second replays the recomputation from
    those buffers and puts the updated ones back afterwards."""
    bns = [
        m for m in block.modules()
        if isinstance(m, _BatchNorm) and m.training and m.track_running_stats
    ]
    saved = []

    def snapshot():
        return [[b.clone() for b in m.buffers()] for m in bns]

    def load(states):
        with torch.no_grad():
            for m, state in zip(bns, states):
                for b, v in zip(m.buffers(), state):
                    b.copy_(v)

    @contextmanager
    def forward_ctx():
        saved.append(snapshot())
        yield

    @contextmanager
    def recompute_ctx():
        updated = snapshot()
        load(saved[0])
        try:
            yield
        finally:
            load(updated)

    return forward_ctx(), recompute_ctx()


OFFICIAL_HINT = (
    'If this is an official checkpoint of the paper, convert it first with '
    'tools/model_converters/{converter} SRC DST and point init_cfg at DST.')

#: Model-zoo schemes of ANN weights (ResNet & co.), which can never load into
#: a spiking backbone.
ANN_ZOO_PREFIXES = ('open-mmlab://', 'torchvision://', 'modelzoo://',
                    'mmcls://', 'mmpretrain://', 'mmdet://', 'mmseg://')


def pretrained_to_init_cfg(backbone: str, pretrained: Optional[str],
                           init_cfg: Optional[dict]) -> Optional[dict]:
    """Turn mmseg's deprecated ``pretrained`` argument into ``init_cfg``,
    as mmseg's own backbones do, or into a clear error.

    mmseg's ``EncoderDecoder`` hands its ``model.pretrained`` to the
    backbone, and mmseg's ResNet base configs set it (e.g.
    ``'open-mmlab://resnet50_v1c'``), so a swapped-in spiking backbone
    receives it.

    Args:
        backbone (str): Class name, for messages.
        pretrained (str, optional): A checkpoint path or URL, or None.
        init_cfg (dict, optional): The backbone's ``init_cfg``.

    Returns:
        dict or None: ``init_cfg``, or ``dict(type='Pretrained',
        checkpoint=pretrained)`` for a path (loaded strictly).

    Raises:
        ValueError: For ANN model-zoo weights such as
            ``open-mmlab://resnet50_v1c`` (they cannot load into a spiking
            backbone), or when both ``pretrained`` and ``init_cfg`` are set.
        TypeError: If ``pretrained`` is not a str or None.
    """
    if pretrained is None:
        return init_cfg
    if not isinstance(pretrained, str):
        raise TypeError(f'{backbone}: pretrained must be a str or None, got '
                        f'{type(pretrained).__name__}.')
    fix = ('Set `pretrained=None` at the model level of your config '
           '(`model = dict(pretrained=None, backbone=dict(...))`, which '
           'mmseg passes on to the backbone) and load spiking weights with '
           "the backbone's init_cfg=dict(type='Pretrained', checkpoint=..., "
           "prefix='backbone.').")
    if pretrained.startswith(ANN_ZOO_PREFIXES):
        raise ValueError(
            f"{backbone} got pretrained='{pretrained}', the ANN weights that "
            "the library's base config (e.g. mmseg's ResNet configs) names: "
            'ResNet/ANN weights cannot load into a spiking backbone. ' + fix)
    if init_cfg:
        raise ValueError(f'{backbone}: both pretrained={pretrained!r} and '
                         f'init_cfg={init_cfg!r} are set. ' + fix)
    warnings.warn(
        f'{backbone}: `pretrained` is deprecated (mmseg), use init_cfg; '
        f"loading '{pretrained}' as init_cfg=dict(type='Pretrained').")
    return dict(type='Pretrained', checkpoint=pretrained)


class BaseSpikingBackbone(DeployMixin, BaseModule):
    """Base class for spiking backbones.

    Subclasses build their layers, fill ``self.out_strides`` and
    ``self.out_channels`` (one entry per output index) and implement
    :meth:`forward_seq` (time-major ``[T, B, C, H, W]`` in, a list of
    time-major maps out, one per selectable output) and
    :meth:`frozen_modules`.

    Args:
        arch (str | dict): A name in :attr:`arch_zoo` or a dict of arch
            settings, see :meth:`parse_arch`; resolved into
            ``self.arch_settings``.
        T (int): Number of time steps. Defaults to 1.
        in_channels (int): Input channels (3 for RGB, 2 for DVS events).
            Defaults to 3.
        keep_time (bool): If True, each output keeps the time axis,
            ``[T, B, C, H, W]`` (for spiking necks and the spiking
            classification head). If False, outputs are averaged over time,
            ``[B, C, H, W]``, a drop-in for any ANN neck. Defaults to False.
        average_time (bool): With ``keep_time``, average each output over
            the ``T`` steps and keep a time axis of length 1, ``[1, B, C, H,
            W]``: a spiking neck and head then run at ``T=1`` on the
            time-averaged maps, as in the paper's segmentation code. Needs
            ``keep_time=True``. Defaults to False.
        frozen_stages (int): Stages to freeze (no gradient, BN statistics
            kept), mmdet's convention: -1 freezes nothing, 0 the stem, ``k``
            the stem and the first ``k`` stages. Defaults to -1.
        norm_eval (bool): Keep all BN layers in eval mode during training.
            Defaults to False.
        with_cp (bool): Activation checkpointing per block (saves memory,
            costs a second forward of each block). Defaults to False.
        init_cfg (dict | list[dict], optional): Initialization config.
            ``dict(type='Pretrained', checkpoint=..., prefix='backbone.')``
            loads weights strictly. Defaults to None.
        pretrained (str, optional): mmseg's deprecated argument (its
            segmentors pass ``model.pretrained`` to the backbone): a path
            becomes ``init_cfg=dict(type='Pretrained', checkpoint=...)``;
            ANN model-zoo weights (``open-mmlab://resnet50_v1c``) are an
            error that says to set ``pretrained=None``. Defaults to None.
        drop_path_rate (float): Stochastic depth rate, rising linearly over
            the blocks (:meth:`drop_path_rates`). Defaults to 0.
        neuron_cfg (dict, optional): Neuron config for every neuron, see
            :func:`spikedet.models.spiking.build_neuron`. Defaults to None.
        deploy (bool): Build the deploy (re-parameterised, inference-only)
            model, to load a checkpoint written by
            tools/model_converters/reparameterize_model.py, see
            :meth:`switch_to_deploy`. Defaults to False.
    """
    #: Preset architectures: name -> arch settings.
    arch_zoo: Dict[str, dict] = {}
    #: Settings an arch dict must have.
    arch_required: Tuple[str, ...] = ()
    #: Optional settings of an arch dict and their defaults.
    arch_defaults: Dict[str, Any] = {}
    #: Script in tools/model_converters/ for the paper's checkpoints (named
    #: in loading errors); None if there is none.
    converter: Optional[str] = None

    def __init__(self,
                 arch: Union[str, dict],
                 T: int = 1,
                 in_channels: int = 3,
                 keep_time: bool = False,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None,
                 average_time: bool = False,
                 pretrained: Optional[str] = None,
                 drop_path_rate: float = 0.,
                 neuron_cfg: Optional[dict] = None,
                 deploy: bool = False) -> None:
        init_cfg = pretrained_to_init_cfg(
            type(self).__name__, pretrained, init_cfg)
        super().__init__(init_cfg=init_cfg)
        if not isinstance(T, int) or T < 1:
            raise ValueError(
                f'T (time steps) must be a positive int, got {T}.')
        self.T = T
        self.in_channels = in_channels
        self.keep_time = keep_time
        if average_time and not keep_time:
            raise ValueError(
                'average_time=True needs keep_time=True (it keeps a time '
                'axis of length 1); with keep_time=False the outputs are '
                'already averaged over time, without the time axis.')
        self.average_time = average_time
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.drop_path_rate = drop_path_rate
        self.neuron_cfg = neuron_cfg
        self._build_deploy = deploy
        self.arch_settings = self.parse_arch(arch)
        self.out_indices: Tuple[int, ...] = ()
        self.out_strides: Tuple[int, ...] = ()
        self.out_channels: Tuple[int, ...] = ()

    # -- architecture -------------------------------------------------------
    @classmethod
    def parse_arch(cls, arch: Union[str, dict]) -> dict:
        """Resolve an ``arch`` argument into complete arch settings.

        Args:
            arch (str | dict): A name in :attr:`arch_zoo` or a dict of
                settings (missing optional settings take their defaults).

        Returns:
            dict: A new dict with every setting of the architecture.
        """
        if isinstance(arch, str):
            if arch not in cls.arch_zoo:
                raise KeyError(f"Unknown arch '{arch}'; choose one of "
                               f'{sorted(cls.arch_zoo)} or pass a dict.')
            arch = cls.arch_zoo[arch]
        if not isinstance(arch, dict):
            raise TypeError(f'arch must be a str or dict, got {type(arch)}.')
        arch = copy.deepcopy(dict(arch))
        known = cls.arch_required + tuple(cls.arch_defaults)
        unknown = set(arch) - set(known)
        if unknown:
            raise KeyError(f'Unknown arch keys {sorted(unknown)}; an arch '
                           f'of {cls.__name__} has {list(known)}.')
        if not set(cls.arch_required) <= set(arch):
            raise KeyError(f'A custom arch of {cls.__name__} needs '
                           f"{' and '.join(cls.arch_required)}, got keys "
                           f'{sorted(arch)}.')
        for key, value in cls.arch_defaults.items():
            arch.setdefault(key, copy.deepcopy(value))
        cls.check_arch(arch)
        return arch

    @classmethod
    def check_arch(cls, arch: dict) -> None:
        """Further checks of complete arch settings; none by default."""

    def drop_path_rates(self, num_blocks: int) -> List[float]:
        """Stochastic depth of ``num_blocks`` blocks, rising linearly from 0
        to ``drop_path_rate`` (computed on the CPU, so that the model can be
        built on the 'meta' device)."""
        return torch.linspace(
            0, self.drop_path_rate, num_blocks, device='cpu').tolist()

    def _check_frozen_stages(self, num_stages: int) -> None:
        if not -1 <= self.frozen_stages <= num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {num_stages}], '
                             f'got {self.frozen_stages}.')

    def _finish_init(self) -> None:
        """The end of every subclass's ``__init__``: freeze the frozen
        stages and, with ``deploy``, re-parameterise for inference (the
        layout of a checkpoint written by
        tools/model_converters/reparameterize_model.py)."""
        self._freeze_stages()
        if self._build_deploy:
            reparameterize(self, check_eval=False)

    # -- outputs ------------------------------------------------------------
    @staticmethod
    def _check_out_indices(out_indices: Sequence[int],
                           num_outputs: int) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence) or not out_indices:
            raise TypeError('out_indices must be an int or a non-empty '
                            f'sequence of ints, got {out_indices!r}.')
        result = []
        for i in out_indices:
            j = i + num_outputs if i < 0 else i
            if not 0 <= j < num_outputs:
                raise IndexError(f'out_index {i} is out of range: there are '
                                 f'{num_outputs} outputs.')
            if j in result:
                raise ValueError(f'out_indices {out_indices} repeats {i}.')
            result.append(j)
        return tuple(sorted(result))

    def forward_seq(self, x: torch.Tensor) -> List[torch.Tensor]:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Forward.

        Args:
            x (Tensor): A static batch ``[B, C, H, W]`` (repeated over ``T``)
                or an event/frame tensor ``[B, T, C, H, W]``.

        Returns:
            tuple[Tensor]: One map per output, ``[T, B, C, H, W]`` if
            ``keep_time`` (``T=1`` with ``average_time``) else ``[B, C, H,
            W]``.
        """
        seq = encode_input(x, self.T, self.in_channels)
        with compact_spikes():  # spikes saved for backward as bool
            outs = self.forward_seq(seq)
        if not self.keep_time:
            outs = [aggregate_time(o, 'mean') for o in outs]
        elif self.average_time:
            outs = [o.mean(0, keepdim=True) for o in outs]
        return tuple(outs)

    def run_block(self, block: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """Run one block, with activation checkpointing if ``with_cp``.

        Recomputation is exact: neurons restart from rest at every call, and
        BN running statistics (which the RepConv padding reads) are rolled
        back for the recomputation and restored after it, so they are
        updated once per step, as without checkpointing.
        """
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(
                block,
                x,
                use_reentrant=False,
                context_fn=partial(_bn_rollback_contexts, block))
        return block(x)

    # -- freezing and norm_eval --------------------------------------------
    def frozen_modules(self) -> List[nn.Module]:
        """Modules frozen by ``self.frozen_stages``."""
        raise NotImplementedError

    def _freeze_stages(self) -> None:
        for m in self.frozen_modules():
            m.eval()
            for p in m.parameters():
                p.requires_grad = False

    def train(self, mode: bool = True) -> 'BaseSpikingBackbone':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    # -- weights -------------------------------------------------------------
    def init_weights(self) -> None:
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            self.load_pretrained(cfg['checkpoint'], cfg.get('prefix', ''))
            self._is_init = True
            return
        super().init_weights()

    def load_pretrained(self, filename: str, prefix: str = '') -> None:
        """Load weights strictly: every key must match in name and shape.

        Args:
            filename (str): Checkpoint path or URL.
            prefix (str): Keep only keys starting with ``prefix`` and strip
                it, e.g. ``'backbone.'`` for a whole-classifier checkpoint.
                Defaults to ''.
        """
        ckpt = CheckpointLoader.load_checkpoint(filename, map_location='cpu')
        state_dict = ckpt.get('state_dict', ckpt.get('model', ckpt)) \
            if isinstance(ckpt, dict) else ckpt
        if prefix:
            state_dict = {
                k[len(prefix):]: v
                for k, v in state_dict.items() if k.startswith(prefix)
            }
            if not state_dict:
                raise KeyError(
                    f"No key in '{filename}' starts with prefix '{prefix}'. " +
                    self._converter_hint())
        new = load_state_dict_strict(
            self,
            state_dict,
            hint=f"(checkpoint '{filename}', prefix '{prefix}') " +
            self._converter_hint(),
            new_prefixes=self.new_module_prefixes())
        if new:
            print_log(
                f'{type(self).__name__}: loaded {filename}; {len(new)} '
                f'tensors of {sorted(self.new_module_prefixes())} are not in '
                'a classification checkpoint and keep their initialisation.',
                logger='current')

    def _converter_hint(self) -> str:
        if self.converter is None:
            return ''
        return OFFICIAL_HINT.format(converter=self.converter)

    def new_module_prefixes(self) -> Tuple[str, ...]:
        """State-dict prefixes of modules that pretrained (classification)
        weights cannot contain, e.g. a dense-prediction pyramid. Defaults to
        none."""
        return ()
