"""model-index.yml and the metafiles (OpenMMLab format) list exactly the
configs of the tree, and mmengine can read them for ``spikedet::``.

After adding, renaming or removing a config, run
``python tools/misc/update_model_index.py``."""
import glob
import os.path as osp

import pytest
from mmengine.fileio import load

from spikedet.testing.common import is_config_alias

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _configs():
    """Every experiment config: not a shared ``_base_`` piece, not a
    deprecated-name alias."""
    found = []
    for path in glob.glob(
            osp.join(ROOT, 'configs', '**', '*.py'), recursive=True):
        rel = osp.relpath(path, ROOT)
        if '_base_' in rel.split(osp.sep):
            continue
        if is_config_alias(path):
            continue
        found.append(rel)
    return sorted(found)


@pytest.fixture(scope='module')
def index():
    return load(osp.join(ROOT, 'model-index.yml'))


@pytest.fixture(scope='module')
def metafiles(index):
    metas = {}
    for rel in index['Import']:
        path = osp.join(ROOT, rel)
        # mmengine reads every Import for each spikedet:: lookup: a missing
        # one would break them all.
        assert osp.isfile(path), f'model-index.yml imports missing {rel}'
        metas[rel] = load(path)
    return metas


def test_every_metafile_is_imported(index):
    on_disk = sorted(
        osp.relpath(p, ROOT)
        for p in glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(index['Import']) == on_disk


def test_models_and_configs_match(metafiles):
    listed = []
    for rel, meta in metafiles.items():
        collections = {c['Name'] for c in meta.get('Collections', [])}
        assert collections, f'{rel} has no Collections'
        for c in meta['Collections']:
            readme = c.get('README')
            assert readme and osp.isfile(osp.join(ROOT, readme)), (rel, c)
        for model in meta['Models']:
            assert model['In Collection'] in collections, (rel, model)
            config = model['Config']
            assert osp.isfile(osp.join(ROOT, config)), \
                f'{rel}: {config} does not exist'
            # in its folder's metafile (a top-level config in any one)
            assert osp.dirname(config) in (osp.dirname(rel),
                                           'configs'), (rel, config)
            assert model['Name'] == osp.splitext(osp.basename(config))[0]
            for result in model.get('Results') or []:
                assert {'Task', 'Dataset', 'Metrics'} <= set(result), model
            assert 'Weights' in model
            listed.append(config)
    assert len(listed) == len(set(listed)), 'a config is listed twice'
    missing = sorted(set(_configs()) - set(listed))
    assert not missing, (f'configs missing from the metafiles: {missing}; '
                         'run tools/misc/update_model_index.py')
    extra = sorted(set(listed) - set(_configs()))
    assert not extra, f'metafiles list non-configs (aliases?): {extra}'


def test_mmengine_reads_the_index():
    """mmengine's own reader of spikedet/.mim (what a spikedet:: base
    triggers) accepts the index."""
    from mmengine.config.utils import _get_cfg_metainfo

    import spikedet
    package = osp.dirname(spikedet.__file__)
    with pytest.raises(ValueError, match='Expected configs'):
        _get_cfg_metainfo(package, 'no/such_config')
