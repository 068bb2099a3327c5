"""Spike-driven Transformer V2 checkpoints -> :class:`MetaSpikeFormer` +
:class:`SpikingClsHead`.

The official model is ``Spiking_vit_MetaFormer`` of BICLab's
``classification/models.py``: LIF before the linear classifier, and the
distillation layer ``head_kd`` (converted to ``fc_dist``) when present.
"""
from typing import Any, Dict, Union

from .base import (SDTV2, SPIKFORMER, ConvertedCheckpoint, arch_option,
                   convert_with_map, expansion_ratio, require_keys,
                   resolve_arch)
from .checkpoint import extract_state_dict
from .mapping import (HEAD_PARTS, POINTWISE, Part, Rule, add_parts, as_rule,
                      count_blocks)

#: Where the official model lives, for messages.
SDTV2_LAYOUT = 'classification/models.py, Spiking_vit_MetaFormer'

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


def sdtv2_transformer_parts() -> Dict[str, Part]:
    """Official ``MS_Block_Spike_SepConv`` -> ``TransformerSNNBlock``."""
    parts: Dict[str, Part] = {}
    for src, dst in SDTV2_ATTN_PARTS.items():
        for part, target in SDTV2_REPCONV_PARTS.items():
            parts[f'attn.{src}.{part}'] = f'attn.{dst}.{target}'
    for src, value in SDTV2_MLP_PARTS.items():
        target, kind = as_rule(value)
        parts[f'mlp.{src}'] = (f'mlp.{target}', kind)
    return parts


def sdtv2_module_map(list_counts: Dict[str, int]) -> Dict[str, Rule]:
    """Official Spike-driven Transformer V2 module -> spikedet module, for the
    given number of blocks in each official block list."""
    module_map: Dict[str, Rule] = {}
    for src, dst in SDTV2_DOWNSAMPLES:
        add_parts(module_map, src, f'backbone.{dst}', SDTV2_DOWNSAMPLE_PARTS)
    block_parts = dict(
        conv=SDTV2_CONV_BLOCK_PARTS, transformer=sdtv2_transformer_parts())
    next_index = dict(SDTV2_FIRST_INDEX)
    for src, dst, block_type in SDTV2_BLOCK_LISTS:
        start = next_index.get(dst, 0)
        for j in range(list_counts.get(src, 0)):
            add_parts(module_map, f'{src}.{j}', f'backbone.{dst}.{start + j}',
                      block_parts[block_type])
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
    state_dict, where = extract_state_dict(checkpoint)
    notes = [f'Read the state dict from {where}.']
    dims_keys = [f'{src}.encode_conv.weight' for src, _ in SDTV2_DOWNSAMPLES]
    mlp_key = 'ConvBlock1_1.0.conv1.weight'
    require_keys(state_dict, dims_keys + [mlp_key], SDTV2, SPIKFORMER)
    stem_dims = state_dict[dims_keys[0]].shape[0]
    counts = {
        src: count_blocks(state_dict, src)
        for src, _, _ in SDTV2_BLOCK_LISTS
    }
    inferred = dict(
        embed_dims=[int(state_dict[k].shape[0]) for k in dims_keys[1:]],
        depths=[
            sum(counts[src] for src in lists) for lists in SDTV2_STAGE_LISTS
        ],
        mlp_ratio=expansion_ratio(state_dict, mlp_key, stem_dims,
                                  'stem width'))
    resolved = resolve_arch(SDTV2.backbone, inferred, dict(SDTV2_FIXED),
                            arch_option(arch, SDTV2_ARCH_ALIASES), notes)
    return convert_with_map(
        state_dict,
        sdtv2_module_map(counts),
        SDTV2,
        SDTV2_LAYOUT,
        resolved,
        in_channels=int(state_dict[dims_keys[0]].shape[1]),
        spike_before_fc=True,
        notes=notes)
