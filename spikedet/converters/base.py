"""What every converter shares: the result, arch resolution, building the
target model and validating the converted weights against it."""
import copy
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Union

import torch
import torch.nn as nn

from spikedet.registry import MODELS
from spikedet.utils.state_dict import CheckpointMismatchError, check_state_dict
from .checkpoint import ConversionError, save_state_dict
from .mapping import DROP, Rule, apply_map


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
            converter=f'spikedet.converters ({self.backbone})',
            backbone=self.backbone,
            arch=copy.deepcopy(self.arch),
            in_channels=self.in_channels,
            num_classes=self.num_classes,
            with_distill=self.with_distill,
            spike_before_fc=self.spike_before_fc,
            num_params=self.num_params,
            dropped_keys=list(self.dropped_keys))

    def save(self, path: str, source: str = '') -> None:
        """Write the weights and :meth:`meta` to ``path`` (loadable with
        ``torch.load(..., weights_only=True)``)."""
        save_state_dict(self.state_dict, self.meta(source), path)

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


@dataclass(frozen=True)
class OfficialModel:
    """An official code base a converter reads.

    Attributes:
        name (str): The paper's model, for messages.
        backbone (str): The spikedet backbone it converts to.
        signature_key (str): A key that only this model's checkpoints have.
        tool (str): The converter script in ``tools/model_converters/``.
    """
    name: str
    backbone: str
    signature_key: str
    tool: str


#: The official code bases the converters read.
SDTV2 = OfficialModel(
    name='Spike-driven Transformer V2',
    backbone='MetaSpikeFormer',
    signature_key='downsample1_1.encode_conv.weight',
    tool='sdtv2_to_spikedet.py')
SPIKFORMER = OfficialModel(
    name='Spikformer',
    backbone='Spikformer',
    signature_key='patch_embed.proj_conv.weight',
    tool='spikformer_to_spikedet.py')


def require_keys(state_dict: Dict[str, torch.Tensor],
                 keys: List[str],
                 model: OfficialModel,
                 other: Optional[OfficialModel] = None) -> None:
    """Raise unless ``state_dict`` has ``keys``, naming the right converter
    when the file is a checkpoint of the ``other`` official model."""
    missing = [k for k in keys if k not in state_dict]
    if not missing:
        return
    hint = ''
    if other is not None and other.signature_key in state_dict:
        hint = (f' It looks like a checkpoint of another model: use '
                f'tools/model_converters/{other.tool}.')
    sample = ', '.join(sorted(state_dict)[:8])
    raise CheckpointMismatchError(
        f'Not an official {model.name} checkpoint: missing keys '
        f'({len(missing)}) {", ".join(missing)} that give its architecture. '
        f'Its first keys are: {sample}.{hint}')


def expansion_ratio(state_dict: Dict[str, torch.Tensor], key: str, base: int,
                    base_name: str) -> int:
    """Output channels of ``key`` as a multiple of ``base`` channels (an
    MLP's expansion ratio)."""
    hidden = int(state_dict[key].shape[0])
    if hidden % base:
        raise ConversionError(f'{key} has {hidden} output channels, not a '
                              f'multiple of the {base_name} {base}.')
    return hidden // base


def arch_option(arch: Union[str, dict, None],
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


def resolve_arch(backbone: str, inferred: dict, defaults: dict,
                 arch: Union[str, dict, None],
                 notes: List[str]) -> Tuple[Union[str, dict], dict]:
    """Pick the backbone arch: ``arch`` checked against what the weights
    tell, else the matching preset, else a custom arch dict.

    Args:
        backbone (str): spikedet backbone class name.
        inferred (dict): Arch settings read from the weights.
        defaults (dict): Settings the weights do not store (taken from the
            official code) for a custom arch.
        arch (str | dict, optional): The user's ``--arch``.
        notes (list[str]): Notes to append to.

    Returns:
        tuple: The arch (preset name or dict) and its resolved settings.
    """
    backbone_cls = MODELS.get(backbone)
    if arch is not None:
        try:
            settings = backbone_cls.parse_arch(arch)
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
        settings = backbone_cls.parse_arch(name)
        if settings in seen:
            continue  # an alias of a preset already tried
        seen.append(settings)
        if all(_same(settings.get(k), v) for k, v in inferred.items()):
            notes.append(f"The weights fit the preset arch '{name}'.")
            return name, settings
    custom = {**inferred, **defaults}
    settings = backbone_cls.parse_arch(custom)
    notes.append(
        'The weights fit no preset arch; using the custom arch '
        f'{json.dumps(custom)}. ' + ', '.join(f'{k}={v!r}'
                                              for k, v in defaults.items()) +
        ' cannot be read from the weights and was taken from the official '
        'code; pass --arch to set it.')
    return custom, settings


def build_converted_model(
        converted: ConvertedCheckpoint,
        device: Union[str, torch.device] = 'meta') -> nn.Module:
    """Build the spikedet model the converted weights are for: a module with
    ``backbone`` (time-keeping) and, if there are classes, ``head``, the key
    layout of mmpretrain's ``ImageClassifier``.

    Args:
        converted (ConvertedCheckpoint): The conversion result.
        device (str | torch.device): Where to build it; ``'meta'`` builds
            shapes only (no memory, no init), enough for validation.
            Defaults to ``'meta'``.
    """
    container = type(f'{converted.backbone}Classifier', (nn.Module, ), {})
    model = container()
    with torch.device(device):
        model.backbone = MODELS.get(converted.backbone)(
            arch=copy.deepcopy(converted.arch_settings),
            in_channels=converted.in_channels,
            keep_time=True)
        if converted.num_classes:
            head = converted.head_cfg()
            model.head = MODELS.get(head.pop('type'))(**head)
    return model


def _listed(keys: List[str], most: int = 20) -> str:
    more = f' ... (+{len(keys) - most} more)' if len(keys) > most else ''
    return ', '.join(keys[:most]) + more


def validate(converted: ConvertedCheckpoint, module_map: Dict[str, Rule],
             unmapped: List[str], model: OfficialModel,
             official_layout: str) -> None:
    """Raise :class:`CheckpointMismatchError` unless the converted weights
    fit the spikedet model exactly and every official key was mapped."""
    target_model = build_converted_model(converted)
    converted.num_params = sum(p.numel() for p in target_model.parameters())
    inverse = {v: k for k, v in converted.key_map.items()}
    official_module = {
        dst: src
        for src, (dst, kind) in module_map.items() if kind != DROP
    }
    target = target_model.state_dict()
    lines = []
    missing = []
    for k in target:
        if k not in converted.state_dict:
            module, _, leaf = k.rpartition('.')
            src = official_module.get(module)
            missing.append(
                f'{src}.{leaf}' if src else f'{k} (no official counterpart)')
    if missing:
        lines.append(f'Missing keys in official names ({len(missing)}): ' +
                     _listed(missing))
    if unmapped:
        lines.append(
            f'{len(unmapped)} key(s) of the checkpoint are not part of the '
            f'official {model.name} layout ({official_layout}): ' +
            _listed(unmapped))
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
        check_state_dict(target_model, converted.state_dict)
    except CheckpointMismatchError as e:
        lines.insert(0, str(e))
    if lines:
        raise CheckpointMismatchError('\n'.join(lines + [hint]))


def convert_with_map(state_dict: Dict[str, torch.Tensor],
                     module_map: Dict[str, Rule], model: OfficialModel,
                     official_layout: str, arch: Tuple[Union[str, dict], dict],
                     in_channels: int, spike_before_fc: bool,
                     notes: List[str]) -> ConvertedCheckpoint:
    """The last steps of every converter: rename the keys with
    ``module_map``, read the head, and validate the result.

    Args:
        state_dict (dict): The official state dict.
        module_map (dict): Official module -> rule.
        model (OfficialModel): The official model.
        official_layout (str): Its source file and class, for messages.
        arch (tuple): The arch and its settings, from :func:`resolve_arch`.
        in_channels (int): Input channels of the first conv.
        spike_before_fc (bool): Head setting of the paper's model.
        notes (list[str]): Notes so far.

    Returns:
        ConvertedCheckpoint: The converted, validated weights.
    """
    out, key_map, unmapped, dropped = apply_map(state_dict, module_map)
    if dropped:
        notes.append(f'Dropped {len(dropped)} tensors that the official '
                     'forward never uses: ' + ', '.join(dropped))
    head = state_dict.get('head.weight')
    converted = ConvertedCheckpoint(
        state_dict=out,
        backbone=model.backbone,
        arch=arch[0],
        arch_settings=arch[1],
        in_channels=in_channels,
        num_classes=0 if head is None else int(head.shape[0]),
        with_distill='head_kd.weight' in state_dict,
        spike_before_fc=spike_before_fc,
        key_map=key_map,
        dropped_keys=dropped,
        notes=notes)
    validate(converted, module_map, unmapped, model, official_layout)
    return converted
