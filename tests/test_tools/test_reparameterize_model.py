"""tools/model_converters/reparameterize_model.py end to end: a trained
(random) checkpoint -> deploy checkpoint -> the config's deploy model loads
it strictly and gives the outputs of the original model."""
import importlib.util
import os.path as osp

import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from spikedet.testing import default_scope_name

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart')
CLS = osp.join(QUICKSTART, 'metaspikeformer-tiny-t1_fashion-mnist.py')
SEG = osp.join(QUICKSTART, 'fpn_metaspikeformer-tiny-t1_fashion-scenes.py')
DET = osp.join(QUICKSTART,
               'mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py')


@pytest.fixture(scope='module')
def tool():
    path = osp.join(ROOT, 'tools', 'model_converters',
                    'reparameterize_model.py')
    spec = importlib.util.spec_from_file_location('reparameterize_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def randomize_bn(model):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, _BatchNorm):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                # Wide and shifted, so that the random model fires.
                m.weight.copy_(torch.rand(n, generator=g) * 2 + 2)
                m.bias.copy_(torch.randn(n, generator=g) * 0.5 + 0.5)


@pytest.mark.parametrize('config,channels,expected', [
    (CLS, 1, ['model.backbone.deploy', 'model.head.deploy']),
    (SEG, 3, [
        'model.backbone.deploy', 'model.neck.deploy',
        'model.decode_head.deploy'
    ]),
    (DET, 3, ['model.backbone.deploy', 'model.neck.deploy']),
])
def test_reparameterize_end_to_end(tool, tmp_path, capsys, config, channels,
                                   expected):
    scope = default_scope_name()
    torch.manual_seed(0)
    model = tool.build_model(config)
    randomize_bn(model)
    ckpt, out = str(tmp_path / 'model.pth'), str(tmp_path / 'd' / 'dep.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)

    options = tool.main([config, ckpt, out])
    assert options == [k + '=True' for k in expected]
    assert '--cfg-options ' + ' '.join(options) in capsys.readouterr().out
    saved = torch.load(out, weights_only=True)
    assert saved['meta']['deploy'] is True
    assert not any('bn' in k.split('.')[-2] for k in saved['state_dict'])

    deploy = tool.build_model(config, out, deploy=True)
    assert deploy.backbone.deploy
    assert not any(
        isinstance(m, _BatchNorm) for m in deploy.backbone.modules())
    x = torch.rand(2, channels, 64, 64) * 3
    with torch.no_grad():
        if hasattr(model, 'decode_head') or hasattr(model, 'head'):
            ref, got = model(x, mode='tensor'), deploy(x, mode='tensor')
        else:
            ref, got = model.extract_feat(x), deploy.extract_feat(x)
    ref = ref if isinstance(ref, (tuple, list)) else [ref]
    got = got if isinstance(got, (tuple, list)) else [got]
    for a, b in zip(ref, got):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-4)
    # The outputs depend on the images (the spiking layers fire).
    assert not torch.allclose(ref[-1][0], ref[-1][1])
    assert default_scope_name() == scope


def test_missing_checkpoint(tool, tmp_path):
    with pytest.raises(FileNotFoundError, match='not found'):
        tool.main([CLS, str(tmp_path / 'none.pth'), str(tmp_path / 'o.pth')])
