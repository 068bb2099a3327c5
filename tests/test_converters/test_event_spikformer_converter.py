"""The CIFAR10-DVS Spikformer of the official cifar10dvs/model.py converts
strictly into Spikformer 'dvs-2-256' (attention scale 0.25). Its forward is
the imagenet layout's (whose logits test_converters.py checks against an
independent official forward) with another attention scale."""
import pytest
import torch
from test_converters import (_conv1d, _linear, _ln, meta_state_dict,
                             spikformer_table)

from spikedet.converters.spikformer import convert_spikformer
from spikedet.utils.state_dict import CheckpointMismatchError


def dvs_table(dims=256, depth=2, num_classes=10, r=4):
    """Keys and shapes of cifar10dvs/model.py's Spikformer: the imagenet
    layout with Conv1d MLPs, an (unused) pos_embed of the 8x8 tokens and an
    (unused) final LayerNorm."""
    t = spikformer_table(dims, depth, 'imagenet', 0, in_channels=2, r=r)
    for j in range(depth):
        for name, o, i in (('fc1', r * dims, dims), ('fc2', dims, r * dims)):
            _conv1d(t, f'block.{j}.mlp.{name}_conv', o, i, True)
    t['pos_embed'] = ((1, 64, dims), 'bias')
    _ln(t, 'norm', dims)
    _linear(t, 'head', num_classes, dims)
    return t


def test_full_size_dvs_checkpoint_converts_strictly():
    table = dvs_table()
    converted = convert_spikformer({'model': meta_state_dict(table)})
    assert converted.arch == 'dvs-2-256'
    assert converted.arch_settings['attn_scale'] == 0.25
    assert converted.arch_settings['num_heads'] == 16
    assert converted.in_channels == 2 and converted.num_classes == 10
    assert any('pos_embed' in n and 'norm.weight' in n
               for n in converted.notes)
    assert not any(
        k.startswith(('pos_embed', 'norm.')) for k in converted.key_map)
    # Spikformer's ImageNet 8-384 checkpoints are not mistaken for it.
    imagenet = meta_state_dict(spikformer_table(384, 8, 'imagenet'))
    assert convert_spikformer(imagenet).arch_settings['attn_scale'] == 0.125
    # --arch is checked strictly: the scale is part of the arch.
    with pytest.raises(Exception, match='attn_scale'):
        convert_spikformer(
            meta_state_dict(table),
            dict(embed_dims=256, depth=2, num_heads=16))
    # a key the official model does not have is an error
    extra = dict(meta_state_dict(table), **{'block.0.gate': torch.empty(3)})
    with pytest.raises(CheckpointMismatchError, match='block.0.gate'):
        convert_spikformer(extra)
