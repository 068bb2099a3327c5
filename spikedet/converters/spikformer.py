"""Spikformer checkpoints -> :class:`Spikformer` + :class:`SpikingClsHead`
(``spike_before_fc=False``).

Two official layouts of ZK-Zhou's code are read: ``imagenet/model.py``
(Conv1d attention and MLP) and ``cifar10/model.py`` (Linear/BatchNorm1d
layers). The LayerNorms ``norm1``/``norm2`` of the official blocks, which
the official forward never uses, are dropped with a note.
"""
from typing import Any, Dict, Union

from spikedet.utils.state_dict import CheckpointMismatchError
from .base import (SDTV2, SPIKFORMER, ConvertedCheckpoint, arch_option,
                   convert_with_map, expansion_ratio, require_keys,
                   resolve_arch)
from .checkpoint import extract_state_dict
from .mapping import (DROP, HEAD_PARTS, POINTWISE, Part, Rule, add_parts,
                      count_blocks)

#: ``SPS`` -> ``SpikingPatchSplitting``.
SPIKFORMER_SPS_PARTS = {
    **{
        f'proj_{layer}{"" if i == 0 else i}': f'proj.{i}.{target}'
        for i in range(4)
        for layer, target in (('conv', 'conv'), ('bn', 'bn'))
    },
    'rpe_conv': 'rpe.conv',
    'rpe_bn': 'rpe.bn',
}
#: The three official layouts: the name suffix of the point-wise layers of
#: the attention and MLP, and the patch size their SPS hard-codes (4
#: max-pools in ``imagenet/model.py`` and ``cifar10dvs/model.py``, 2 in
#: ``cifar10/model.py``). ``cifar10dvs/model.py`` (event data) is told apart
#: by its ``pos_embed``, which, like its final ``norm``, its forward never
#: uses; its attention scale is 0.25 (0.125 in the other two).
SPIKFORMER_LAYOUTS = {
    'imagenet':
    dict(suffix='conv', patch_size=16, num_heads=8),
    'cifar10':
    dict(suffix='linear', patch_size=4, num_heads=12),
    'cifar10dvs':
    dict(
        suffix='conv',
        patch_size=16,
        num_heads=16,
        attn_scale=0.25,
        marker='pos_embed'),
}
SPIKFORMER_MARKERS = tuple(lay['marker']
                           for lay in SPIKFORMER_LAYOUTS.values()
                           if 'marker' in lay)
#: Top-level tensors of ``cifar10dvs/model.py`` that its forward never uses.
SPIKFORMER_DVS_UNUSED = ('pos_embed', 'norm.weight', 'norm.bias')
SPIKFORMER_ATTN_LAYERS = ('q', 'k', 'v', 'proj')
SPIKFORMER_MLP_LAYERS = {'fc1': 'mlp.0', 'fc2': 'mlp.1'}
#: LayerNorms of the official ``Block`` that its forward never calls.
SPIKFORMER_UNUSED = ('norm1', 'norm2')


def spikformer_block_parts(suffix: str) -> Dict[str, Part]:
    """Official Spikformer ``Block`` -> ``SpikformerBlock`` for a layout whose
    point-wise layers are named ``<layer>_<suffix>``."""
    parts: Dict[str, Part] = {}
    for name in SPIKFORMER_ATTN_LAYERS:
        parts[f'attn.{name}_{suffix}'] = (f'attn.{name}.conv', POINTWISE)
        parts[f'attn.{name}_bn'] = f'attn.{name}.bn'
    for name, target in SPIKFORMER_MLP_LAYERS.items():
        parts[f'mlp.{name}_{suffix}'] = (f'{target}.conv', POINTWISE)
        parts[f'mlp.{name}_bn'] = f'{target}.bn'
    for name in SPIKFORMER_UNUSED:
        parts[name] = (None, DROP)
    return parts


def spikformer_module_map(depth: int, layout: str) -> Dict[str, Rule]:
    """Official Spikformer module -> spikedet module for ``depth`` blocks of
    the given official layout (``'imagenet'`` or ``'cifar10'``)."""
    module_map: Dict[str, Rule] = {}
    add_parts(module_map, 'patch_embed', 'backbone.patch_embed',
              SPIKFORMER_SPS_PARTS)
    parts = spikformer_block_parts(SPIKFORMER_LAYOUTS[layout]['suffix'])
    for i in range(depth):
        add_parts(module_map, f'block.{i}', f'backbone.blocks.{i}', parts)
    module_map['head'] = (f'head.{HEAD_PARTS["head"]}', None)
    return module_map


def spikformer_layout(state_dict: dict) -> str:
    """Which official layout (``'imagenet'``, ``'cifar10'`` or
    ``'cifar10dvs'``) a Spikformer state dict has."""
    layouts = [
        name for name, lay in SPIKFORMER_LAYOUTS.items()
        if f'block.0.attn.q_{lay["suffix"]}.weight' in state_dict and (
            lay['marker'] in state_dict if 'marker' in lay else not any(
                m in state_dict for m in SPIKFORMER_MARKERS))
    ]
    if len(layouts) != 1:
        raise CheckpointMismatchError(
            'Cannot tell the official Spikformer layout: expected exactly one '
            'of ' + ', '.join(f'block.0.attn.q_{lay["suffix"]}.weight'
                              for lay in SPIKFORMER_LAYOUTS.values()) +
            f', found {len(layouts)}.')
    return layouts[0]


def convert_spikformer(
        checkpoint: Any,
        arch: Union[str, dict, None] = None) -> ConvertedCheckpoint:
    """Convert an official Spikformer checkpoint (``imagenet/model.py``,
    ``cifar10/model.py`` or ``cifar10dvs/model.py`` layout).

    The unused LayerNorms ``block.*.norm1``/``norm2`` are dropped (listed in
    ``dropped_keys`` and ``notes``), and for ``cifar10dvs/model.py`` its
    unused ``pos_embed`` and final ``norm`` (listed in ``notes``); any other
    key must map.

    Args:
        checkpoint: The loaded checkpoint (``{'state_dict': sd}``,
            ``{'model': sd}`` or a plain state dict).
        arch (str | dict, optional): Expected arch (a Spikformer preset or a
            dict / JSON string); checked against the weights. Defaults to
            None (inferred).

    Returns:
        ConvertedCheckpoint: The converted, validated weights.
    """
    state_dict, where = extract_state_dict(checkpoint)
    notes = [f'Read the state dict from {where}.']
    rpe_key = 'patch_embed.rpe_conv.weight'
    require_keys(state_dict, [rpe_key, SPIKFORMER.signature_key], SPIKFORMER,
                 SDTV2)
    name = spikformer_layout(state_dict)
    layout = SPIKFORMER_LAYOUTS[name]
    suffix = layout['suffix']
    dims = int(state_dict[rpe_key].shape[0])
    depth = count_blocks(state_dict, 'block')
    fc1_key = f'block.0.mlp.fc1_{suffix}.weight'
    require_keys(state_dict, [fc1_key], SPIKFORMER)
    inferred = dict(
        embed_dims=dims,
        depth=depth,
        mlp_ratio=expansion_ratio(state_dict, fc1_key, dims, 'embed_dims'),
        patch_size=layout['patch_size'],
        qkv_bias=f'block.0.attn.q_{suffix}.bias' in state_dict)
    inferred['attn_scale'] = layout.get('attn_scale', 0.125)
    notes.append(f"Official layout: {name}/model.py (patch size "
                 f"{layout['patch_size']}).")
    if name == 'cifar10dvs':
        unused = [k for k in SPIKFORMER_DVS_UNUSED if k in state_dict]
        state_dict = {k: v for k, v in state_dict.items() if k not in unused}
        notes.append('Dropped tensors that the official forward never '
                     'uses: ' + ', '.join(unused))
    resolved = resolve_arch(SPIKFORMER.backbone, inferred,
                            dict(num_heads=layout['num_heads']),
                            arch_option(arch, {}), notes)
    return convert_with_map(
        state_dict,
        spikformer_module_map(depth, name),
        SPIKFORMER,
        f'{name}/model.py, Spikformer',
        resolved,
        in_channels=int(state_dict[SPIKFORMER.signature_key].shape[1]),
        spike_before_fc=False,
        notes=notes)
