import importlib.util
import os.path as osp

import numpy as np
import pytest
from PIL import Image

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_tool(relpath):
    path = osp.join(ROOT, relpath)
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(path))[0] + '_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def converter():
    return load_tool('tools/dataset_converters/fashion_mnist.py')


def test_converter_scenes_and_cls(tmp_path, converter, capsys):
    out = str(tmp_path / 'scenes')
    assert converter.main([
        'scenes', '--out-dir', out, '--num-train', '2', '--num-val', '1',
        '--img-size', '48', '--seed', '3'
    ]) == 0
    printed = capsys.readouterr().out
    assert f'wrote {out}' in printed and 'val: 1 images' in printed
    assert osp.isfile(osp.join(out, 'img_dir', 'train', '000002.png'))
    assert osp.isfile(osp.join(out, 'annotations', 'instances_val.json'))
    assert converter.main([
        'scenes', '--out-dir', out, '--num-train', '2', '--num-val', '1',
        '--img-size', '48', '--seed', '3'
    ]) == 0
    assert f'reused {out}' in capsys.readouterr().out

    out = str(tmp_path / 'cls')
    assert converter.main(
        ['cls', '--out-dir', out, '--num-train', '3', '--num-test', '2']) == 0
    assert 'wrote' in capsys.readouterr().out
    with open(osp.join(out, 'meta', 'test.txt')) as f:
        assert len(f.read().splitlines()) == 2


def test_converter_missing_source(tmp_path, converter, capsys):
    assert converter.main([
        'scenes', '--out-dir',
        str(tmp_path / 'o'), '--source',
        str(tmp_path / 'missing')
    ]) == 1
    err = capsys.readouterr().err
    assert 'apt-get install dataset-fashion-mnist' in err


def test_browse_fashion_scenes(tmp_path, fashion_scenes_root, capsys):
    browse = load_tool('tools/misc/browse_fashion_scenes.py')
    out = str(tmp_path / 'grid.png')
    assert browse.main([
        fashion_scenes_root, '--split', 'train', '--num', '6', '--cols', '3',
        '--scale', '2', '--out', out
    ]) == 0
    grid = np.array(Image.open(out))
    # 3 columns x 2 rows of (scene | label map) cells, 64 px scenes at 2x.
    assert grid.shape[1] == 3 * (2 * 64 * 2 + 4 + 6)
    assert grid.shape[0] == 2 * (64 * 2 + 14 + 6)
    assert len(np.unique(grid.reshape(-1, 3), axis=0)) > 50
    assert browse.main([str(tmp_path / 'nothing'), '--out', out]) == 1
    assert 'generate the scenes first' in capsys.readouterr().err
