"""tools/infer.py / spikedet.apis.run_inference on the three quickstart
configs (random weights, and a checkpoint), an image or a folder."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from spikedet.apis import list_images, run_inference

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(ROOT, 'configs', 'quickstart')


def _quickstart(*names: str) -> str:
    """The first of the config names that exists (the T-suffixed name, or
    the older name it replaces)."""
    for name in names:
        if osp.isfile(osp.join(QUICKSTART, name)):
            return name
    raise FileNotFoundError(f'none of {names} in {QUICKSTART}')


CONFIGS = {
    'classification':
    _quickstart('metaspikeformer-tiny-t1_fashion-mnist.py',
                'metaspikeformer-tiny_fashion-mnist.py'),
    'detection':
    _quickstart('mask-rcnn_metaspikeformer-tiny-t1_spikefpn_fashion-scenes.py',
                'mask-rcnn_metaspikeformer-tiny_spikefpn_fashion-scenes.py'),
    'segmentation':
    _quickstart('fpn_metaspikeformer-tiny-t1_fashion-scenes.py',
                'fpn_metaspikeformer-tiny_fashion-scenes.py'),
}
FASHION = ('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
           'Shirt', 'Sneaker', 'Bag', 'Ankle boot')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp('images')
    rng = np.random.RandomState(0)
    for name in ('a.png', 'b.jpg'):
        cv2.imwrite(
            str(folder / name),
            rng.randint(0, 256, (64, 64, 3)).astype(np.uint8))
    (folder / 'notes.txt').write_text('not an image')
    return str(folder)


@pytest.mark.parametrize('task', sorted(CONFIGS))
def test_folder_random_weights(images, tmp_path, task):
    out = str(tmp_path / 'out')
    with pytest.warns(UserWarning, match='random'):
        records = run_inference(
            osp.join(QUICKSTART, CONFIGS[task]),
            images,
            out,
            device='cpu',
            score_thr=0.)
    assert len(records) == 2
    for stem in ('a', 'b'):
        with open(osp.join(out, 'preds', f'{stem}.json')) as f:
            record = json.load(f)
        drawn = cv2.imread(osp.join(out, record['vis']))
        assert drawn is not None and drawn.shape == (64, 64, 3)
        assert record['task'] == task
        assert record['image'].endswith(stem +
                                        ('.png' if stem == 'a' else '.jpg'))
        assert record['checkpoint'] is None
        if task == 'classification':
            # class names from the config's dataset, not ImageNet's
            assert record['pred_class'] in FASHION
            assert len(record['topk_scores']) == 5
            assert record['topk_scores'] == sorted(
                record['topk_scores'], reverse=True)
        elif task == 'detection':
            assert record['labels'] and len(record['labels']) == len(
                record['bboxes']) == len(record['scores'])
            assert set(record['classes']) <= set(FASHION)
            assert all(len(b) == 4 for b in record['bboxes'])
        else:
            label_map = cv2.imread(
                osp.join(out, record['label_map']), cv2.IMREAD_UNCHANGED)
            assert label_map.shape == (64, 64)
            assert sum(record['pixels_per_class'].values()) == 64 * 64
            assert set(record['pixels_per_class']) <= {'background', *FASHION}


def test_checkpoint_weights_are_used(images, tmp_path):
    """A checkpoint whose head favours one class predicts that class (so
    the weights were loaded, not left random)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmpretrain.registry import MODELS
    cfg_path = osp.join(QUICKSTART, CONFIGS['classification'])
    cfg = Config.fromfile(cfg_path)
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    model.init_weights()
    state = model.state_dict()
    bias = [k for k in state if k.startswith('head.') and k.endswith('bias')]
    assert bias, sorted(state)[-5:]
    for k in bias:
        state[k] = torch.zeros_like(state[k])
        state[k][7] = 100.
    ckpt = str(tmp_path / 'model.pth')
    torch.save(
        {
            'state_dict': state,
            'meta': {
                'dataset_meta': {
                    'classes': FASHION
                }
            }
        }, ckpt)
    records = run_inference(
        cfg_path,
        osp.join(images, 'a.png'),
        str(tmp_path / 'out'),
        checkpoint=ckpt,
        device='cpu')
    assert len(records) == 1
    assert records[0]['pred_label'] == 7
    assert records[0]['pred_class'] == 'Sneaker'


def test_bad_inputs(tmp_path, images):
    with pytest.raises(FileNotFoundError, match='neither an image file'):
        list_images(str(tmp_path / 'missing.png'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match='holds no image'):
        list_images(str(empty))
    assert [osp.basename(p) for p in list_images(images)] == ['a.png', 'b.jpg']
    bad = tmp_path / 'cut.pth'
    bad.write_bytes(b'PK\x03\x04' + b'\0' * 100)
    from spikedet.utils.checkpoint import CheckpointFileError
    with pytest.raises(CheckpointFileError, match='cut.pth'):
        run_inference(
            osp.join(QUICKSTART, CONFIGS['classification']),
            images,
            str(tmp_path / 'out'),
            checkpoint=str(bad))


def test_cli(images, tmp_path):
    out = str(tmp_path / 'out')
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'infer.py'),
        osp.join(QUICKSTART, CONFIGS['segmentation']),
        osp.join(images, 'b.jpg'), '--out-dir', out, '--device', 'cpu'
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert '1 image(s)' in proc.stdout
    with open(osp.join(out, 'preds', 'b.json')) as f:
        record = json.load(f)
    assert osp.isfile(osp.join(out, record['vis']))
    assert osp.isfile(osp.join(out, record['label_map']))
