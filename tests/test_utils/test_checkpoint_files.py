"""A truncated or non-checkpoint file gets one clear error (which file, that
it is not a complete checkpoint, what to do) wherever a checkpoint is
loaded: mmengine's loader (tools/test.py, --resume, load_from, init_cfg
Pretrained) and spikedet's own loaders."""
import io
import os.path as osp
import pickle
import zipfile

import pytest
import torch
import torch.nn as nn
from mmengine.runner.checkpoint import (CheckpointLoader, _load_checkpoint,
                                        load_checkpoint)

from spikedet.utils.checkpoint import (CheckpointFileError,
                                       check_checkpoint_file,
                                       checkpoint_file_problem,
                                       load_local_checkpoint)


class _Custom:
    """A class torch's weights-only unpickler does not allow."""


def _state_dict():
    gen = torch.Generator().manual_seed(0)
    return {'state_dict': {'w': torch.randn(64, 64, generator=gen)}}


@pytest.fixture
def good(tmp_path):
    path = str(tmp_path / 'good.pth')
    torch.save(_state_dict(), path)
    return path


def _truncated(src, dst, fraction=0.5):
    with open(src, 'rb') as f:
        data = f.read()
    with open(dst, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return dst


def test_complete_checkpoint_passes_and_loads(good):
    assert checkpoint_file_problem(good) is None
    check_checkpoint_file(good)
    ckpt = _load_checkpoint(good, map_location='cpu')
    assert torch.equal(ckpt['state_dict']['w'],
                       _state_dict()['state_dict']['w'])


def test_loader_is_mmengines_local_loader():
    assert CheckpointLoader._get_checkpoint_loader('/some/file.pth') is \
        load_local_checkpoint
    # URLs keep their own loaders.
    assert CheckpointLoader._get_checkpoint_loader(
        'https://x/y.pth') is not load_local_checkpoint


@pytest.mark.parametrize('fraction', [0.99, 0.5, 0.02])
def test_truncated_zip_checkpoint(good, tmp_path, fraction):
    bad = _truncated(good, str(tmp_path / 'cut.pth'), fraction)
    # What torch alone says is not helpful (so this test can fail).
    with pytest.raises(Exception) as raw:
        torch.load(bad)
    assert not isinstance(raw.value, CheckpointFileError)
    with pytest.raises(CheckpointFileError) as err:
        _load_checkpoint(bad, map_location='cpu')
    msg = str(err.value)
    assert bad in msg
    assert 'not a complete checkpoint' in msg
    assert 'truncated' in msg
    assert 'again' in msg  # what to do


@pytest.mark.parametrize('content, words', [
    (b'', 'empty'),
    (b'<!DOCTYPE html><html><body>404</body></html>', 'HTML'),
    (b'epoch 1, loss 0.5\n', 'text file'),
    (b'{"state_dict": {}}', 'JSON'),
    (pickle.dumps({'a': 1}), 'plain Python pickle'),
])
def test_not_a_checkpoint(tmp_path, content, words):
    path = str(tmp_path / 'x.pth')
    with open(path, 'wb') as f:
        f.write(content)
    with pytest.raises(CheckpointFileError, match=words) as err:
        _load_checkpoint(path, map_location='cpu')
    assert path in str(err.value)
    assert 'not a complete checkpoint' in str(err.value)


def test_zip_that_is_not_a_checkpoint(tmp_path):
    path = str(tmp_path / 'x.pth')
    with zipfile.ZipFile(path, 'w') as zf:
        zf.writestr('readme.txt', 'hello')
    with pytest.raises(CheckpointFileError, match='no data.pkl'):
        check_checkpoint_file(path)


def test_truncated_legacy_checkpoint(tmp_path):
    """torch's pre-1.6 format cannot be checked before loading: the load
    error itself is turned into the clear one."""
    buf = io.BytesIO()
    torch.save(_state_dict(), buf, _use_new_zipfile_serialization=False)
    path = str(tmp_path / 'legacy.pth')
    with open(path, 'wb') as f:
        f.write(buf.getvalue()[:len(buf.getvalue()) // 2])
    assert checkpoint_file_problem(path) is None
    with pytest.raises(CheckpointFileError, match='could not be read'):
        _load_checkpoint(path, map_location='cpu')


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        check_checkpoint_file(str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='is a directory'):
        check_checkpoint_file(str(tmp_path))


def test_load_from_and_pretrained_init(good, tmp_path):
    """load_from/--resume (Runner.load_checkpoint -> load_checkpoint) and
    init_cfg Pretrained (mmengine's PretrainedInit -> load_checkpoint; the
    spiking backbones -> CheckpointLoader) all reach the check."""
    from mmengine.model.weight_init import PretrainedInit
    bad = _truncated(good, str(tmp_path / 'cut.pth'))
    model = nn.Linear(64, 64)
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        load_checkpoint(model, bad, map_location='cpu')
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        PretrainedInit(checkpoint=bad)(model)
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        CheckpointLoader.load_checkpoint(bad, map_location='cpu')


def test_backbone_pretrained_reports_truncation(good, tmp_path):
    from spikedet.registry import MODELS
    bad = _truncated(good, str(tmp_path / 'cut.pth'))
    backbone = MODELS.build(
        dict(
            type='spikedet.MetaSpikeFormer',
            arch=dict(embed_dims=[8, 16, 32, 64], depths=[1, 1, 1, 1]),
            init_cfg=dict(type='Pretrained', checkpoint=bad)))
    with pytest.raises(CheckpointFileError, match='not a complete'):
        backbone.init_weights()


def test_weights_only_refusal_is_passed_on(tmp_path):
    """A complete file whose content torch's safe unpickler refuses keeps
    torch's own message (a security refusal, not a damaged file)."""
    path = str(tmp_path / 'custom.pth')
    torch.save({'meta': _Custom()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Weights only'):
        _load_checkpoint(path, map_location='cpu')
    assert osp.isfile(path)


def test_tools_test_stops_at_once(good, tmp_path, monkeypatch):
    """tools/test.py checks the checkpoint before building anything (the
    config need not even exist)."""
    import runpy
    import sys
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    bad = _truncated(good, str(tmp_path / 'cut.pth'))
    monkeypatch.setattr(
        sys, 'argv',
        ['test.py', str(tmp_path / 'no_config.py'), bad])
    tool = runpy.run_path(osp.join(root, 'tools', 'test.py'))
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        tool['main']()


def test_tools_train_resume_stops_at_once(good, tmp_path, monkeypatch):
    import runpy
    import sys
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    bad = _truncated(good, str(tmp_path / 'cut.pth'))
    config = osp.join(root, 'configs', 'quickstart',
                      'metaspikeformer-tiny-t1_fashion-mnist.py')
    monkeypatch.setattr(sys, 'argv', ['train.py', config, '--resume', bad])
    tool = runpy.run_path(osp.join(root, 'tools', 'train.py'))
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        tool['build_cfg'](tool['parse_args']())


def test_converters_report_truncation(good, tmp_path):
    from spikedet.converters import load_checkpoint_file
    bad = _truncated(good, str(tmp_path / 'official.pth'))
    with pytest.raises(CheckpointFileError, match='official.pth'):
        load_checkpoint_file(bad)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))
    assert torch.equal(
        load_checkpoint_file(good)['state_dict']['w'],
        _state_dict()['state_dict']['w'])
