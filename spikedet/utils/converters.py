"""Conversion of the papers' official checkpoints to spikedet's layout.

Two official code bases are covered:

* Spike-driven Transformer V2 (``Spiking_vit_MetaFormer`` of BICLab's
  ``classification/models.py``) to :class:`spikedet.MetaSpikeFormer` plus
  :class:`spikedet.SpikingClsHead` (LIF before the linear layer, and the
  distillation layer ``head_kd`` as ``fc_dist`` when present);
* Spikformer (``Spikformer`` of ZK-Zhou's ``imagenet/model.py``, Conv1d
  attention, and ``cifar10/model.py``, Linear/BatchNorm1d layers) to
  :class:`spikedet.Spikformer` plus :class:`spikedet.SpikingClsHead` with
  ``spike_before_fc=False``.

The official-to-spikedet key mapping is generated from the tables below:
one table for the containers of each official model (with the spikedet
container each maps to) and one per official module type (official
sub-module name to spikedet sub-module name). Parameter leaf names
(``weight``, ``bias``, ``running_mean`` ...) are kept. Conv1d ``[o, i, 1]``
and Linear ``[o, i]`` weights of point-wise layers become Conv2d
``[o, i, 1, 1]``; BatchNorm1d tensors are BatchNorm2d tensors as they are.

Conversion is strict: every official key must map (the only exception are
Spikformer's LayerNorms ``norm1``/``norm2``, which the official forward never
uses and which are dropped with a note), and the result must fit the
spikedet model of the inferred architecture exactly in names and shapes,
otherwise :class:`~spikedet.utils.state_dict.CheckpointMismatchError` lists
what is missing, unexpected or mis-shaped.
"""
import argparse
import copy
import json
import os.path as osp
import pickle
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn

from .state_dict import CheckpointMismatchError, check_state_dict

Rule = Tuple[Optional[str], Optional[str]]  # (target module, kind)

#: Kind of a rule: a point-wise Conv1d/Linear weight that becomes Conv2d 1x1.
POINTWISE = 'pointwise'
#: Kind of a rule: official parameters that the official forward never uses.
DROP = 'drop'

#: Official classifier layers -> SpikingClsHead layers.
HEAD_PARTS = {'head': 'fc', 'head_kd': 'fc_dist'}

# --------------------------------------------------------------------------
# Spike-driven Transformer V2 (Meta-SpikeFormer)
# --------------------------------------------------------------------------
#: Official downsampling layers -> MetaSpikeFormer modules.
SDTV2_DOWNSAMPLES = (
    ('downsample1_1', 'stem.0'),
    ('downsample1_2', 'downsample_layers.0'),
    ('downsample2', 'downsample_layers.1'),
    ('downsample3', 'downsample_layers.2'),
    ('downsample4', 'downsample_layers.3'),
)
SDTV2_DOWNSAMPLE_PARTS = {'encode_conv': 'conv', 'encode_bn': 'bn'}

#: Official block lists (in forward order) -> MetaSpikeFormer containers and
#: the block type. Lists with the same container are concatenated.
SDTV2_BLOCK_LISTS = (
    ('ConvBlock1_1', 'stem', 'conv'),
    ('ConvBlock1_2', 'stages.0', 'conv'),
    ('ConvBlock2_1', 'stages.1', 'conv'),
    ('ConvBlock2_2', 'stages.1', 'conv'),
    ('block3', 'stages.2', 'transformer'),
    ('block4', 'stages.3', 'transformer'),
)
#: First block index of a container (``stem.0`` is the encoding layer).
SDTV2_FIRST_INDEX = {'stem': 1}
#: Lists counted into each of the four stage depths.
SDTV2_STAGE_LISTS = (('ConvBlock1_2', ), ('ConvBlock2_1', 'ConvBlock2_2'),
                     ('block3', ), ('block4', ))

#: ``MS_ConvBlock`` -> ``ConvSNNBlock``.
SDTV2_CONV_BLOCK_PARTS = {
    'Conv.pwconv1': 'token_mixer.pwconv1',
    'Conv.bn1': 'token_mixer.bn1',
    'Conv.dwconv': 'token_mixer.dwconv',
    'Conv.pwconv2': 'token_mixer.pwconv2',
    'Conv.bn2': 'token_mixer.bn2',
    'conv1': 'mlp.conv1',
    'bn1': 'mlp.bn1',
    'conv2': 'mlp.conv2',
    'bn2': 'mlp.bn2',
}
#: ``Sequential(RepConv, BatchNorm2d)`` -> ``RepConvBN``.
SDTV2_REPCONV_PARTS = {
    '0.body.0': 'conv1',
    '0.body.1.bn': 'bn_pad',
    '0.body.2.0': 'dwconv',
    '0.body.2.1': 'pwconv',
    '0.body.2.2': 'bn1',
    '1': 'bn2',
}
#: ``MS_Attention_RepConv_qkv_id`` -> ``SpikeDrivenSelfAttention``.
SDTV2_ATTN_PARTS = {
    'q_conv': 'q',
    'k_conv': 'k',
    'v_conv': 'v',
    'proj_conv': 'proj'
}
#: ``MS_MLP`` (Conv1d + BatchNorm1d) -> ``SpikingMLP`` (1x1 Conv2d + BN2d).
SDTV2_MLP_PARTS = {
    'fc1_conv': ('fc1', POINTWISE),
    'fc1_bn': 'bn1',
    'fc2_conv': ('fc2', POINTWISE),
    'fc2_bn': 'bn2',
}
#: Official model-builder names -> MetaSpikeFormer archs.
SDTV2_ARCH_ALIASES = {
    'metaspikformer_8_384': '31m',
    'metaspikformer_8_512': '55m',
}
#: Settings the weights do not store, as the official code fixes them.
SDTV2_FIXED = dict(num_heads=8)

# --------------------------------------------------------------------------
# Spikformer
# --------------------------------------------------------------------------
#: ``SPS`` -> ``SpikingPatchSplitting``.
SPIKFORMER_SPS_PARTS = {
    **{
        f'proj_{layer}{"" if i == 0 else i}': f'proj.{i}.{target}'
        for i in range(4) for layer, target in (('conv', 'conv'),
                                                ('bn', 'bn'))
    },
    'rpe_conv': 'rpe.conv',
    'rpe_bn': 'rpe.bn',
}
#: The two official layouts: the name suffix of the point-wise layers of the
#: attention and MLP, and the patch size their SPS hard-codes (4 max-pools in
#: ``imagenet/model.py``, 2 in ``cifar10/model.py``).
SPIKFORMER_LAYOUTS = {
    'imagenet': dict(suffix='conv', patch_size=16, num_heads=8),
    'cifar10': dict(suffix='linear', patch_size=4, num_heads=12),
}
SPIKFORMER_ATTN_LAYERS = ('q', 'k', 'v', 'proj')
SPIKFORMER_MLP_LAYERS = {'fc1': 'mlp.0', 'fc2': 'mlp.1'}
#: LayerNorms of the official ``Block`` that its forward never calls.
SPIKFORMER_UNUSED = ('norm1', 'norm2')


def spikformer_block_parts(suffix: str) -> Dict[str, Union[str, tuple]]:
    """Official Spikformer ``Block`` -> ``SpikformerBlock`` for a layout whose
    point-wise layers are named ``<layer>_<suffix>``."""
    parts: Dict[str, Union[str, tuple]] = {}
    for name in SPIKFORMER_ATTN_LAYERS:
        parts[f'attn.{name}_{suffix}'] = (f'attn.{name}.conv', POINTWISE)
        parts[f'attn.{name}_bn'] = f'attn.{name}.bn'
    for name, target in SPIKFORMER_MLP_LAYERS.items():
        parts[f'mlp.{name}_{suffix}'] = (f'{target}.conv', POINTWISE)
        parts[f'mlp.{name}_bn'] = f'{target}.bn'
    for name in SPIKFORMER_UNUSED:
        parts[name] = (None, DROP)
    return parts


# --------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------
@dataclass
class ConvertedCheckpoint:
    """An official checkpoint in spikedet's layout.

    Attributes:
        state_dict (dict): ``backbone.*`` and ``head.*`` tensors.
        backbone (str): spikedet backbone class name.
        arch (str | dict): Preset name or arch dict for the backbone.
        arch_settings (dict): The resolved arch settings.
        in_channels (int): Input channels of the first conv.
        num_classes (int): Classes of the head, 0 if it has none.
        with_distill (bool): Whether a distillation layer came along.
        spike_before_fc (bool): Head setting of the paper's model.
        num_params (int): Number of parameters (buffers excluded).
        key_map (dict): Official key -> spikedet key.
        dropped_keys (list[str]): Official keys dropped (unused by the
            official forward).
        notes (list[str]): What the user should know about the conversion.
    """
    state_dict: Dict[str, torch.Tensor]
    backbone: str
    arch: Union[str, dict]
    arch_settings: dict
    in_channels: int
    num_classes: int
    with_distill: bool
    spike_before_fc: bool
    num_params: int = 0
    key_map: Dict[str, str] = field(default_factory=dict)
    dropped_keys: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def backbone_cfg(self, **kwargs) -> dict:
        """Config of the backbone (``in_channels`` only when not 3)."""
        cfg = dict(type=f'spikedet.{self.backbone}', arch=self.arch)
        if self.in_channels != 3:
            cfg['in_channels'] = self.in_channels
        cfg.update(kwargs)
        return cfg

    def head_cfg(self) -> Optional[dict]:
        """Config of the :class:`SpikingClsHead`, None without a head."""
        if not self.num_classes:
            return None
        return dict(
            type='spikedet.SpikingClsHead',
            num_classes=self.num_classes,
            in_channels=self._feat_dims,
            spike_before_fc=self.spike_before_fc,
            with_distill=self.with_distill)

    @property
    def _feat_dims(self) -> int:
        dims = self.arch_settings['embed_dims']
        return dims[-1] if isinstance(dims, (list, tuple)) else dims

    def meta(self, source: str = '') -> dict:
        """Plain (weights-only loadable) metadata for the saved file."""
        return dict(
            converted_from=osp.basename(source),
            converter=f'spikedet.utils.converters ({self.backbone})',
            backbone=self.backbone,
            arch=copy.deepcopy(self.arch),
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            with_distill=self.with_distill,
            spike_before_fc=self.spike_before_fc,
            num_params=self.num_params,
            dropped_keys=list(self.dropped_keys))

    def summary(self) -> str:
        """A human-readable summary of the conversion."""
        arch = self.arch if isinstance(self.arch, str) else json.dumps(
            self.arch)
        lines = [
            f'backbone:     {self.backbone}, arch {arch}',
            f'in_channels:  {self.in_channels}',
            f'parameters:   {self.num_params:,} '
            f'({self.num_params / 1e6:.2f}M)',
            f'classes:      {self.num_classes or "none (no head)"}',
            f'distill head: {"yes" if self.with_distill else "no"}',
            f'tensors:      {len(self.state_dict)}',
        ]
        return '\n'.join(lines)

    def init_cfg_snippet(self, checkpoint: str) -> str:
        """Ready-to-paste config lines for the converted file."""
        backbone = self.backbone_cfg(
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint, prefix='backbone.'))
        lines = [
            '# T (time steps) is not stored in the weights: use the one the '
            'checkpoint was trained with.',
            '# mmdet / mmseg (backbone only; set T, last_stride, out_indices '
            'as your model needs):',
            f'model = dict(backbone={_fmt_cfg(backbone)})',
        ]
        head = self.head_cfg()
        if head is not None:
            cls_backbone = self.backbone_cfg(keep_time=True)
            lines += [
                '# mmpretrain (whole classifier; or pass the file to '
                'tools/test.py / set load_from):',
                f'model = dict(type=\'ImageClassifier\', '
                f'backbone={_fmt_cfg(cls_backbone)}, '
                f'head={_fmt_cfg(head)})',
                f"load_from = '{checkpoint}'",
            ]
        return '\n'.join(lines)


def _fmt_cfg(cfg: dict) -> str:
    items = ', '.join(f'{k}={_fmt_value(v)}' for k, v in cfg.items())
    return f'dict({items})'


def _fmt_value(v: Any) -> str:
    if isinstance(v, dict):
        return _fmt_cfg(v)
    return repr(v)


# --------------------------------------------------------------------------
# Reading checkpoints
# --------------------------------------------------------------------------
class ConversionError(ValueError):
    """The file is not a checkpoint this converter understands, or ``arch``
    does not match it."""


def load_checkpoint_file(path: str, trusted: bool = False) -> Any:
    """Load a checkpoint file on the CPU.

    Loads with ``weights_only=True`` (tensors and plain containers), also
    allowing ``argparse.Namespace``, which the official training scripts
    store as ``args``. A file holding other Python objects is refused unless
    ``trusted``: then it is fully unpickled, which can run code.

    Args:
        path (str): Checkpoint path.
        trusted (bool): Allow arbitrary pickled objects. Defaults to False.

    Returns:
        The loaded object.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f"Checkpoint '{path}' does not exist.")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as e:
        if not trusted:
            lines = [
                line.strip() for line in str(e).splitlines()
                if 'Unpickler error' in line
            ] or [str(e).strip()]
            reason = lines[0].split('. Please')[0]
            raise ConversionError(
                f"'{path}' holds Python objects other than tensors, plain "
                f'containers and argparse.Namespace, so it was not loaded '
                f'({reason}). If you trust the file, re-run with --trusted '
                '(loads with weights_only=False, which can execute code from '
                'the file).') from e
    return torch.load(path, map_location='cpu', weights_only=False)


def extract_state_dict(ckpt: Any) -> Tuple[Dict[str, torch.Tensor], str]:
    """Find the state dict in a loaded checkpoint.

    Accepts ``{'model': sd, ...}`` (the official Meta-SpikeFormer files),
    ``{'state_dict': sd, ...}`` (timm, mmengine) and a plain state dict, and
    strips a ``module.`` prefix (DDP) carried by every key.

    Args:
        ckpt: The loaded checkpoint.

    Returns:
        tuple: The state dict and a description of where it was found.
    """
    if not isinstance(ckpt, dict):
        raise ConversionError(
            f'Expected a checkpoint dict, got {type(ckpt).__name__}.')
    where = 'the file (a plain state dict)'
    for key in ('model', 'state_dict'):
        if isinstance(ckpt.get(key), dict):
            ckpt, where = ckpt[key], f"the file's '{key}' entry"
            break
    not_tensors = [k for k, v in ckpt.items() if not torch.is_tensor(v)]
    if not_tensors:
        raise ConversionError(
            f'No state dict found: {where} has non-tensor entries '
            f'{sorted(map(str, not_tensors))[:10]}. Expected a plain state '
            "dict or one under 'model' or 'state_dict'.")
    if not ckpt:
        raise ConversionError(f'The state dict in {where} is empty.')
    if all(k.startswith('module.') for k in ckpt):
        ckpt = {k[len('module.'):]: v for k, v in ckpt.items()}
        where += " (DDP 'module.' prefix stripped)"
    return dict(ckpt), where


# --------------------------------------------------------------------------
# Mapping engine
# --------------------------------------------------------------------------
def _rule(value: Union[str, tuple]) -> Rule:
    return (value, None) if isinstance(value, str) else tuple(value)


def _add_parts(module_map: Dict[str, Rule], src: str, dst: Optional[str],
               parts: Dict[str, Union[str, tuple]]) -> None:
    for part, value in parts.items():
        target, kind = _rule(value)
        module_map[f'{src}.{part}'] = (None if target is None else
                                       f'{dst}.{target}', kind)


def _as_conv2d_1x1(t: torch.Tensor) -> torch.Tensor:
    """Conv1d ``[o, i, 1]`` or Linear ``[o, i]`` -> Conv2d ``[o, i, 1, 1]``;
    anything else is returned as is (the shape check reports it)."""
    if t.dim() == 3 and t.shape[-1] == 1 or t.dim() == 2:
        return t.reshape(t.shape[0], t.shape[1], 1, 1)
    return t


def _count_blocks(state_dict: Dict[str, torch.Tensor], name: str) -> int:
    pattern = re.compile(rf'^{re.escape(name)}\.(\d+)\.')
    indices = [
        int(m.group(1)) for m in map(pattern.match, state_dict) if m
    ]
    return max(indices) + 1 if indices else 0


def _apply_map(
    state_dict: Dict[str, torch.Tensor], module_map: Dict[str, Rule]
) -> Tuple[Dict[str, torch.Tensor], Dict[str, str], List[str], List[str]]:
    out, key_map, unmapped, dropped = {}, {}, [], []
    for key, tensor in state_dict.items():
        module, _, leaf = key.rpartition('.')
        target, kind = module_map.get(module, (None, None))
        if kind == DROP and leaf in ('weight', 'bias'):
            dropped.append(key)
            continue
        if target is None:
            unmapped.append(key)
            continue
        if kind == POINTWISE and leaf == 'weight':
            tensor = _as_conv2d_1x1(tensor)
        new_key = f'{target}.{leaf}'
        out[new_key] = tensor
        key_map[key] = new_key
    return out, key_map, sorted(unmapped), sorted(dropped)


def _require(state_dict: Dict[str, torch.Tensor],
             keys: List[str],
             model_name: str,
             other: Optional[Tuple[str, str]] = None) -> None:
    missing = [k for k in keys if k not in state_dict]
    if not missing:
        return
    other_key, other_tool = other or (None, None)
    hint = ''
    if other_key in state_dict:
        hint = (f' It looks like a checkpoint of another model: use '
                f'tools/model_converters/{other_tool}.')
    sample = ', '.join(sorted(state_dict)[:8])
    raise CheckpointMismatchError(
        f'Not an official {model_name} checkpoint: missing keys '
        f'({len(missing)}) {", ".join(missing)} that give its architecture. '
        f'Its first keys are: {sample}.{hint}')


def _arch_option(arch: Union[str, dict, None],
                 aliases: Dict[str, str]) -> Union[str, dict, None]:
    """``--arch`` value: a preset name, an official alias or a JSON dict."""
    if isinstance(arch, str):
        arch = arch.strip()
        if arch.startswith('{'):
            try:
                return json.loads(arch)
            except json.JSONDecodeError as e:
                raise ConversionError(
                    f'--arch {arch!r} is not valid JSON: {e}.') from e
        return aliases.get(arch, arch)
    return arch


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return list(a) == list(b)
    return a == b


def _resolve_arch(backbone_cls: type, inferred: dict, defaults: dict,
                  arch: Union[str, dict, None],
                  notes: List[str]) -> Tuple[Union[str, dict], dict]:
    """Pick the backbone arch: ``arch`` checked against what the weights
    tell, else the matching preset, else a custom arch dict."""
    if arch is not None:
        try:
            settings = backbone_cls._parse_arch(arch)
        except (KeyError, TypeError, ValueError) as e:
            raise ConversionError(f'Bad --arch {arch!r}: {e}') from e
        diffs = [
            f'{k}: --arch has {settings.get(k)!r}, the checkpoint has {v!r}'
            for k, v in inferred.items() if not _same(settings.get(k), v)
        ]
        if diffs:
            raise ConversionError(
                f'--arch {arch!r} does not match the checkpoint: ' +
                '; '.join(diffs) + '.')
        return arch, settings
    seen = []
    for name in backbone_cls.arch_zoo:
        settings = backbone_cls._parse_arch(name)
        if settings in seen:
            continue  # an alias of a preset already tried
        seen.append(settings)
        if all(_same(settings.get(k), v) for k, v in inferred.items()):
            notes.append(f"The weights fit the preset arch '{name}'.")
            return name, settings
    custom = {**inferred, **defaults}
    settings = backbone_cls._parse_arch(custom)
    notes.append(
        'The weights fit no preset arch; using the custom arch '
        f'{json.dumps(custom)}. ' +
        ', '.join(f'{k}={v!r}' for k, v in defaults.items()) +
        ' cannot be read from the weights and was taken from the official '
        'code; pass --arch to set it.')
    return custom, settings


# --------------------------------------------------------------------------
# Target model and validation
# --------------------------------------------------------------------------
def build_converted_model(converted: ConvertedCheckpoint,
                          device: Union[str, torch.device] = 'meta'
                          ) -> nn.Module:
    """Build the spikedet model the converted weights are for: a module with
    ``backbone`` (time-keeping) and, if there are classes, ``head``, the key
    layout of mmpretrain's ``ImageClassifier``.

    Args:
        converted (ConvertedCheckpoint): The conversion result.
        device (str | torch.device): Where to build it; ``'meta'`` builds
            shapes only (no memory, no init), enough for validation.
            Defaults to ``'meta'``.
    """
    # Imported here: spikedet.models itself imports spikedet.utils.
    from spikedet.models import MetaSpikeFormer, SpikingClsHead, Spikformer
    backbone_cls = dict(
        MetaSpikeFormer=MetaSpikeFormer, Spikformer=Spikformer)[
            converted.backbone]
    container = type(f'{converted.backbone}Classifier', (nn.Module, ), {})
    model = container()
    with torch.device(device):
        model.backbone = backbone_cls(
            arch=copy.deepcopy(converted.arch_settings),
            in_channels=converted.in_channels,
            keep_time=True)
        if converted.num_classes:
            head = converted.head_cfg()
            head.pop('type')
            model.head = SpikingClsHead(**head)
    return model


def _validate(converted: ConvertedCheckpoint, module_map: Dict[str, Rule],
              unmapped: List[str], model_name: str,
              official_layout: str) -> None:
    """Raise :class:`CheckpointMismatchError` unless the converted weights
    fit the spikedet model exactly and every official key was mapped."""
    model = build_converted_model(converted)
    converted.num_params = sum(p.numel() for p in model.parameters())
    inverse = {v: k for k, v in converted.key_map.items()}
    official_module = {
        dst: src
        for src, (dst, kind) in module_map.items() if kind != DROP
    }
    target = model.state_dict()
    lines = []
    missing = []
    for k in target:
        if k not in converted.state_dict:
            module, _, leaf = k.rpartition('.')
            src = official_module.get(module)
            missing.append(f'{src}.{leaf}' if src else
                           f'{k} (no official counterpart)')
    if missing:
        lines.append(f'Missing keys in official names ({len(missing)}): ' +
                     ', '.join(missing[:20]) +
                     (f' ... (+{len(missing) - 20} more)'
                      if len(missing) > 20 else ''))
    if unmapped:
        lines.append(
            f'{len(unmapped)} key(s) of the checkpoint are not part of the '
            f'official {model_name} layout ({official_layout}): ' +
            ', '.join(unmapped[:20]) +
            (f' ... (+{len(unmapped) - 20} more)' if len(unmapped) > 20
             else ''))
    mis_shaped = [
        f'{inverse[k]} -> {k}' for k, v in converted.state_dict.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape)
    ]
    if mis_shaped:
        lines.append('Mis-shaped keys, official -> spikedet names: ' +
                     ', '.join(mis_shaped[:20]))
    hint = (f'Inferred arch {converted.arch!r}, in_channels '
            f'{converted.in_channels}, {converted.num_classes} classes, '
            f'distill head {converted.with_distill}.')
    try:
        check_state_dict(model, converted.state_dict)
    except CheckpointMismatchError as e:
        lines.insert(0, str(e))
    if lines:
        raise CheckpointMismatchError('\n'.join(lines + [hint]))


# --------------------------------------------------------------------------
# Converters
# --------------------------------------------------------------------------
def sdtv2_module_map(list_counts: Dict[str, int]) -> Dict[str, Rule]:
    """Official Spike-driven Transformer V2 module -> spikedet module, for the
    given number of blocks in each official block list."""
    module_map: Dict[str, Rule] = {}
    for src, dst in SDTV2_DOWNSAMPLES:
        _add_parts(module_map, src, f'backbone.{dst}', SDTV2_DOWNSAMPLE_PARTS)
    transformer_parts: Dict[str, Union[str, tuple]] = {}
    for src, dst in SDTV2_ATTN_PARTS.items():
        for part, target in SDTV2_REPCONV_PARTS.items():
            transformer_parts[f'attn.{src}.{part}'] = f'attn.{dst}.{target}'
    for src, value in SDTV2_MLP_PARTS.items():
        target, kind = _rule(value)
        transformer_parts[f'mlp.{src}'] = (f'mlp.{target}', kind)
    block_parts = dict(
        conv=SDTV2_CONV_BLOCK_PARTS, transformer=transformer_parts)
    next_index = dict(SDTV2_FIRST_INDEX)
    for src, dst, block_type in SDTV2_BLOCK_LISTS:
        start = next_index.get(dst, 0)
        for j in range(list_counts.get(src, 0)):
            _add_parts(module_map, f'{src}.{j}',
                       f'backbone.{dst}.{start + j}', block_parts[block_type])
        next_index[dst] = start + list_counts.get(src, 0)
    for src, dst in HEAD_PARTS.items():
        module_map[src] = (f'head.{dst}', None)
    return module_map


def convert_sdtv2(checkpoint: Any,
                  arch: Union[str, dict, None] = None) -> ConvertedCheckpoint:
    """Convert an official Spike-driven Transformer V2 (Meta-SpikeFormer)
    checkpoint.

    Args:
        checkpoint: The loaded checkpoint (``{'model': sd}``,
            ``{'state_dict': sd}`` or a plain state dict).
        arch (str | dict, optional): Expected arch (a MetaSpikeFormer preset,
            ``'metaspikformer_8_384'``/``'metaspikformer_8_512'``, or a dict
            / JSON string); checked against the weights. Defaults to None
            (inferred).

    Returns:
        ConvertedCheckpoint: The converted, validated weights.
    """
    from spikedet.models import MetaSpikeFormer
    state_dict, where = extract_state_dict(checkpoint)
    notes = [f'Read the state dict from {where}.']
    dims_keys = [f'{src}.encode_conv.weight' for src, _ in SDTV2_DOWNSAMPLES]
    _require(state_dict, dims_keys, 'Spike-driven Transformer V2',
             ('patch_embed.proj_conv.weight', 'spikformer_to_spikedet.py'))
    stem_dims = state_dict[dims_keys[0]].shape[0]
    counts = {
        src: _count_blocks(state_dict, src)
        for src, _, _ in SDTV2_BLOCK_LISTS
    }
    mlp_key = 'ConvBlock1_1.0.conv1.weight'
    _require(state_dict, [mlp_key], 'Spike-driven Transformer V2',
             ('patch_embed.proj_conv.weight', 'spikformer_to_spikedet.py'))
    hidden = state_dict[mlp_key].shape[0]
    if hidden % stem_dims:
        raise ConversionError(
            f'{mlp_key} has {hidden} output channels, not a multiple of the '
            f'stem width {stem_dims}.')
    inferred = dict(
        embed_dims=[int(state_dict[k].shape[0]) for k in dims_keys[1:]],
        depths=[
            sum(counts[src] for src in lists) for lists in SDTV2_STAGE_LISTS
        ],
        mlp_ratio=hidden // stem_dims)
    arch, settings = _resolve_arch(MetaSpikeFormer, inferred,
                                   dict(SDTV2_FIXED),
                                   _arch_option(arch, SDTV2_ARCH_ALIASES),
                                   notes)
    module_map = sdtv2_module_map(counts)
    out, key_map, unmapped, dropped = _apply_map(state_dict, module_map)
    head = state_dict.get('head.weight')
    converted = ConvertedCheckpoint(
        state_dict=out,
        backbone='MetaSpikeFormer',
        arch=arch,
        arch_settings=settings,
        in_channels=int(state_dict[dims_keys[0]].shape[1]),
        num_classes=0 if head is None else int(head.shape[0]),
        with_distill='head_kd.weight' in state_dict,
        spike_before_fc=True,
        key_map=key_map,
        dropped_keys=dropped,
        notes=notes)
    _validate(converted, module_map, unmapped, 'Spike-driven Transformer V2',
              'classification/models.py, Spiking_vit_MetaFormer')
    return converted


def spikformer_module_map(depth: int, layout: str) -> Dict[str, Rule]:
    """Official Spikformer module -> spikedet module for ``depth`` blocks of
    the given official layout (``'imagenet'`` or ``'cifar10'``)."""
    module_map: Dict[str, Rule] = {}
    _add_parts(module_map, 'patch_embed', 'backbone.patch_embed',
               SPIKFORMER_SPS_PARTS)
    parts = spikformer_block_parts(SPIKFORMER_LAYOUTS[layout]['suffix'])
    for i in range(depth):
        _add_parts(module_map, f'block.{i}', f'backbone.blocks.{i}', parts)
    module_map['head'] = (f'head.{HEAD_PARTS["head"]}', None)
    return module_map


def convert_spikformer(checkpoint: Any,
                       arch: Union[str, dict, None] = None
                       ) -> ConvertedCheckpoint:
    """Convert an official Spikformer checkpoint (``imagenet/model.py`` or
    ``cifar10/model.py`` layout).

    The unused LayerNorms ``block.*.norm1``/``norm2`` are dropped (listed in
    ``dropped_keys`` and ``notes``); any other key must map.

    Args:
        checkpoint: The loaded checkpoint (``{'state_dict': sd}``,
            ``{'model': sd}`` or a plain state dict).
        arch (str | dict, optional): Expected arch (a Spikformer preset or a
            dict / JSON string); checked against the weights. Defaults to
            None (inferred).

    Returns:
        ConvertedCheckpoint: The converted, validated weights.
    """
    from spikedet.models import Spikformer
    state_dict, where = extract_state_dict(checkpoint)
    notes = [f'Read the state dict from {where}.']
    if 'pos_embed' in state_dict:
        raise ConversionError(
            'This looks like the CIFAR10-DVS Spikformer (it has pos_embed): '
            'its attention scale (0.25) differs from spikedet\'s Spikformer, '
            'so it is not supported.')
    rpe_key = 'patch_embed.rpe_conv.weight'
    _require(state_dict, [rpe_key, 'patch_embed.proj_conv.weight'],
             'Spikformer', ('downsample1_1.encode_conv.weight',
                            'sdtv2_to_spikedet.py'))
    layouts = [
        name for name, lay in SPIKFORMER_LAYOUTS.items()
        if f'block.0.attn.q_{lay["suffix"]}.weight' in state_dict
    ]
    if len(layouts) != 1:
        raise CheckpointMismatchError(
            'Cannot tell the official Spikformer layout: expected exactly one '
            'of ' + ', '.join(f'block.0.attn.q_{lay["suffix"]}.weight'
                              for lay in SPIKFORMER_LAYOUTS.values()) +
            f', found {len(layouts)}.')
    layout = SPIKFORMER_LAYOUTS[layouts[0]]
    suffix = layout['suffix']
    dims = int(state_dict[rpe_key].shape[0])
    depth = _count_blocks(state_dict, 'block')
    fc1_key = f'block.0.mlp.fc1_{suffix}.weight'
    _require(state_dict, [fc1_key], 'Spikformer')
    hidden = state_dict[fc1_key].shape[0]
    if hidden % dims:
        raise ConversionError(f'{fc1_key} has {hidden} output channels, not '
                              f'a multiple of embed_dims {dims}.')
    inferred = dict(
        embed_dims=dims,
        depth=depth,
        mlp_ratio=hidden // dims,
        patch_size=layout['patch_size'],
        qkv_bias=f'block.0.attn.q_{suffix}.bias' in state_dict)
    notes.append(f"Official layout: {layouts[0]}/model.py (patch size "
                 f"{layout['patch_size']}).")
    arch, settings = _resolve_arch(Spikformer, inferred,
                                   dict(num_heads=layout['num_heads']),
                                   _arch_option(arch, {}), notes)
    module_map = spikformer_module_map(depth, layouts[0])
    out, key_map, unmapped, dropped = _apply_map(state_dict, module_map)
    if dropped:
        notes.append(
            f'Dropped {len(dropped)} LayerNorm tensors that the official '
            'forward never uses: ' + ', '.join(dropped))
    head = state_dict.get('head.weight')
    converted = ConvertedCheckpoint(
        state_dict=out,
        backbone='Spikformer',
        arch=arch,
        arch_settings=settings,
        in_channels=int(state_dict['patch_embed.proj_conv.weight'].shape[1]),
        num_classes=0 if head is None else int(head.shape[0]),
        with_distill=False,
        spike_before_fc=False,
        key_map=key_map,
        dropped_keys=dropped,
        notes=notes)
    _validate(converted, module_map, unmapped, 'Spikformer',
              f'{layouts[0]}/model.py, Spikformer')
    return converted


CONVERTERS = dict(sdtv2=convert_sdtv2, spikformer=convert_spikformer)


def save_converted(converted: ConvertedCheckpoint,
                   path: str,
                   source: str = '') -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` (tensors, plain
    containers, str, int and bool only, so ``torch.load`` with
    ``weights_only=True`` reads it)."""
    state_dict = {
        k: v.detach().cpu().contiguous()
        for k, v in converted.state_dict.items()
    }
    torch.save({'state_dict': state_dict, 'meta': converted.meta(source)},
               path)


def convert_file(kind: str,
                 src: str,
                 dst: str,
                 arch: Union[str, dict, None] = None,
                 trusted: bool = False) -> ConvertedCheckpoint:
    """Load ``src``, convert it with the ``kind`` converter (``'sdtv2'`` or
    ``'spikformer'``) and save the result to ``dst``."""
    if kind not in CONVERTERS:
        raise KeyError(f"Unknown converter '{kind}', choose from "
                       f'{sorted(CONVERTERS)}.')
    if osp.abspath(src) == osp.abspath(dst):
        raise ValueError('DST must differ from SRC (the official file would '
                         'be overwritten).')
    converted = CONVERTERS[kind](load_checkpoint_file(src, trusted), arch)
    save_converted(converted, dst, src)
    return converted


def run_cli(kind: str,
            argv: Optional[List[str]] = None,
            description: Optional[str] = None) -> int:
    """Command line of ``tools/model_converters/*_to_spikedet.py``.

    Args:
        kind (str): ``'sdtv2'`` or ``'spikformer'``.
        argv (list[str], optional): Arguments. Defaults to ``sys.argv``.
        description (str, optional): Help text. Defaults to None.

    Returns:
        int: Exit status (0 on success, 1 on a checkpoint error).
    """
    import sys
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help='the official checkpoint')
    parser.add_argument('dst', help='where to write the spikedet checkpoint')
    parser.add_argument(
        '--arch',
        help='expected arch, checked against the weights: a preset name or '
        'a JSON dict (default: inferred from the weights)')
    parser.add_argument(
        '--trusted',
        action='store_true',
        help='allow a checkpoint with arbitrary pickled objects (runs '
        'torch.load with weights_only=False; only for files you trust)')
    args = parser.parse_args(argv)
    try:
        converted = convert_file(kind, args.src, args.dst, args.arch,
                                 args.trusted)
    except (ConversionError, CheckpointMismatchError, FileNotFoundError,
            ValueError) as e:
        print(f'error: {e}', file=sys.stderr)
        print('Nothing was written.', file=sys.stderr)
        return 1
    for note in converted.notes:
        print(f'note: {note}')
    print(converted.summary())
    print(f'saved: {args.dst}')
    print('\n' + converted.init_cfg_snippet(args.dst))
    return 0
