import subprocess
import sys

import pytest
from mmengine.config import Config

from spikedet.utils.setup_env import (check_data_paths, check_pretrained_paths,
                                      register_config_scope)


def test_register_config_scope_by_scope():
    assert register_config_scope(Config(dict(default_scope='mmdet'))) == \
        'mmdet'
    with pytest.raises(ValueError, match='default_scope'):
        register_config_scope(Config(dict(default_scope='mmocr')))
    with pytest.raises(ValueError, match='default_scope'):
        register_config_scope(Config(dict()))


def test_check_data_paths(tmp_path):
    (tmp_path / 'ann.json').write_text('{}')
    (tmp_path / 'img').mkdir()
    good = dict(
        type='CocoDataset',
        data_root=str(tmp_path),
        ann_file='ann.json',
        data_prefix=dict(img='img/'))
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(type='RepeatDataset', times=2, dataset=good)),
            val_dataloader=dict(dataset=dict(good, ann_file='val.json'))))
    check_data_paths(cfg, ('train_dataloader', ))
    with pytest.raises(FileNotFoundError, match='val.json'):
        check_data_paths(cfg, ('train_dataloader', 'val_dataloader'))
    cfg.train_dataloader.dataset.dataset.data_prefix.img = 'nope/'
    with pytest.raises(
            FileNotFoundError, match=r'train_dataloader.*data_prefix.img'):
        check_data_paths(cfg, ('train_dataloader', ))


def test_check_pretrained_paths(tmp_path):
    ckpt = tmp_path / 'w.pth'
    model = dict(
        backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=str(ckpt))),
        neck=[dict(init_cfg=dict(type='Xavier'))])
    with pytest.raises(
            FileNotFoundError, match='model.backbone.init_cfg=None'):
        check_pretrained_paths(Config(dict(model=model)))
    ckpt.write_bytes(b'')
    check_pretrained_paths(Config(dict(model=model)))
    ckpt.unlink()
    # a resumed or loaded checkpoint replaces the initialisation
    check_pretrained_paths(Config(dict(model=model, load_from='x.pth')))


def test_train_headline_config_without_coco_is_clear(tmp_path):
    """The headline command parses and builds its config, then stops with a
    clear message because data/coco is not there."""
    proc = subprocess.run([
        sys.executable, 'tools/train.py',
        'configs/mask_rcnn_spikeformer_coco.py', '--work-dir',
        str(tmp_path), '--cfg-options', 'train_dataloader.dataset.'
        f'data_root={tmp_path}/coco/'
    ],
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0
    assert 'FileNotFoundError' in proc.stderr
    assert f"data_root '{tmp_path}/coco/' does not exist" in proc.stderr
