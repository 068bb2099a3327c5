"""The energy analysis counts the spiking detection heads' layers as SOPs
(spike input), and mmdet's ANN heads as FLOPs (real-valued input)."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from spikedet.analysis import EnergyAnalyzer
from spikedet.models.spiking import SpikingNeuron
from spikedet.testing import tiny_det_config
from spikedet.utils.setup_env import register_config_scope

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
QUICKSTART = osp.join(
    ROOT, 'configs', 'quickstart',
    'mask-rcnn_metaspikeformer-tiny-t1_{}_fashion-scenes.py')
HEADS = ('rpn_head.', 'roi_head.')


def analyse(variant, data_root):
    cfg = Config.fromfile(QUICKSTART.format(variant))
    register_config_scope(cfg)
    init_default_scope('mmdet')
    tiny_det_config(cfg, data_root, batch_size=2, shrink_model=False)
    # Keep a few proposals after NMS of random weights.
    cfg.model.test_cfg.rcnn.score_thr = 0.
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    for m in model.modules():  # random weights: a low threshold, so that
        if isinstance(m, SpikingNeuron):  # every layer sees some spikes
            m.node.v_threshold = 0.05
    model.eval()
    data = next(iter(Runner.build_dataloader(cfg.val_dataloader)))
    analyzer = EnergyAnalyzer(model)
    with analyzer, torch.no_grad():
        data = model.data_preprocessor(data)
        analyzer.begin_batch(len(data['data_samples']))
        model(data['inputs'], data['data_samples'], mode='predict')
    report = analyzer.report()
    return {
        ly['name']: ly
        for ly in report['layers'] if ly['name'].startswith(HEADS)
    }, report


def test_spiking_heads_count_as_sops(fashion_scenes_root):
    layers, report = analyse('spikefpn-spikeheads', fashion_scenes_root)
    names = set(layers)
    for name in ('rpn_head.rpn_conv.conv', 'rpn_head.rpn_cls',
                 'rpn_head.rpn_reg', 'roi_head.bbox_head.shared_fcs.0.fc',
                 'roi_head.bbox_head.fc_cls', 'roi_head.bbox_head.fc_reg',
                 'roi_head.mask_head.convs.0.conv',
                 'roi_head.mask_head.upsample',
                 'roi_head.mask_head.conv_logits'):
        assert any(n.startswith(name) for n in names), name
    for name, ly in layers.items():
        assert ly['input_kind'] == 'spike', name
        assert ly['flops'] == 0, name
    assert all(ly['sops'] > 0 for ly in layers.values())
    # The only MAC layer of the whole detector is the encoding conv.
    mac_layers = [ly['name'] for ly in report['layers'] if ly['flops']]
    assert len(mac_layers) == 1
    assert mac_layers[0].startswith('backbone.stem.0.conv')


def test_ann_heads_count_as_flops(fashion_scenes_root):
    layers, _ = analyse('spikefpn', fashion_scenes_root)
    assert layers['rpn_head.rpn_conv']['input_kind'] == 'real'
    assert all(ly['flops'] > 0 and ly['sops'] == 0 for ly in layers.values())
