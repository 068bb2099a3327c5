"""The spiking conv unit: LIF/conv/norm in each order, the layers it is
made of, and the older nested state-dict layout."""
import pytest
import torch
import torch.nn as nn

from spikedet.models.spiking import SpikingConvModule, build_neuron, seq_apply


def _seq(seed: int = 0, T: int = 3) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return 2 * torch.randn(T, 2, 4, 6, 6, generator=gen, dtype=torch.float64)


@pytest.mark.parametrize('position', ['before', 'after', None])
def test_equals_its_layers_in_order(position):
    torch.manual_seed(0)
    unit = SpikingConvModule(4, 5, 3, stride=2, neuron_position=position)
    unit.double().train()
    x = _seq()
    lif = build_neuron(None)
    expected = x
    if position == 'before':
        expected = lif(expected)
    # Same BN statistics for both paths: run the reference on a copy.
    ref_bn = nn.BatchNorm2d(5).double()
    ref_bn.load_state_dict(unit.bn.state_dict())
    expected = seq_apply(lambda t: ref_bn(unit.conv(t)), expected)
    if position == 'after':
        expected = lif(expected)
    out = unit(x)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert out.shape == (3, 2, 5, 3, 3)
    assert (unit.lif is None) == (position is None)
    assert [n for n, _ in unit.named_children()
            ] == (['lif'] * (position == 'before') + ['conv', 'bn'] + ['lif'] *
                  (position == 'after'))


def test_bias_auto_and_no_norm():
    assert SpikingConvModule(4, 5, 1).conv.bias is None
    unit = SpikingConvModule(4, 5, 1, norm_cfg=None)
    assert unit.conv.bias is not None and unit.norm is None
    assert set(unit.state_dict()) == {'conv.weight', 'conv.bias'}
    assert SpikingConvModule(4, 5, 1, bias=True).conv.bias is not None
    gn = SpikingConvModule(4, 6, 1, norm_cfg=dict(type='GN', num_groups=2))
    assert gn.norm_name == 'gn' and isinstance(gn.norm, nn.GroupNorm)


def test_pytorch_init_is_the_layers_own():
    torch.manual_seed(3)
    unit = SpikingConvModule(4, 5, 3, bias=True, conv_init='pytorch')
    torch.manual_seed(3)
    ref = nn.Conv2d(4, 5, 3, padding=1)
    assert torch.equal(unit.conv.weight, ref.weight)
    assert torch.equal(unit.conv.bias, ref.bias)
    torch.manual_seed(3)
    kaiming = SpikingConvModule(4, 5, 3, bias=True)
    assert not torch.equal(kaiming.conv.weight, ref.weight)
    assert torch.equal(kaiming.conv.bias, torch.zeros(5))


def test_neuron_overrides_reach_the_neuron():
    unit = SpikingConvModule(4, 4, 1, neuron_position='after', v_threshold=0.5)
    assert unit.lif.v_threshold == 0.5


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ValueError, match='neuron_position'):
        SpikingConvModule(4, 4, 1, neuron_position='middle')
    with pytest.raises(ValueError, match='conv_init'):
        SpikingConvModule(4, 4, 1, conv_init='xavier')


def test_loads_the_nested_conv_module_layout():
    unit = SpikingConvModule(4, 5, 3)
    nested = {
        'conv.conv.weight': torch.randn(5, 4, 3, 3),
        'conv.bn.weight': torch.rand(5),
        'conv.bn.bias': torch.rand(5),
        'conv.bn.running_mean': torch.rand(5),
        'conv.bn.running_var': torch.rand(5),
        'conv.bn.num_batches_tracked': torch.tensor(7),
    }
    unit.load_state_dict(dict(nested), strict=True)
    for k, v in nested.items():
        new = k.replace('conv.conv.', 'conv.').replace('conv.bn.', 'bn.')
        assert torch.equal(unit.state_dict()[new], v), k
    # The flat layout loads as well, and a wrong key is still an error.
    unit.load_state_dict(unit.state_dict(), strict=True)
    with pytest.raises(RuntimeError, match='conv.gn.weight'):
        unit.load_state_dict(
            dict(unit.state_dict(), **{'conv.gn.weight': torch.rand(5)}))
