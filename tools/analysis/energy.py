"""Firing rates, synaptic operations and energy per image of a spikedet model.

Runs N images of the config's test dataloader (or random images) through
any spikedet model (classifier, detector, segmentor), records the firing
rate of every spiking neuron per time step, counts MACs and SOPs of every
conv/linear/matmul, and prints per-layer and per-stage tables and totals:

    E = E_MAC x FLOPs + E_AC x SOPs   (E_MAC = 4.6 pJ, E_AC = 0.9 pJ)

FLOPs are the MACs of layers with real-valued input (the encoding conv,
ANN heads), SOPs = MACs x input firing rate over all time steps. A JSON
file with everything and two PNGs (firing rate per layer, spike maps) are
written to --out-dir.

Examples:
    python tools/analysis/energy.py CONFIG CHECKPOINT --num-images 64
    python tools/analysis/energy.py CONFIG --random-input \\
        --input-shape 3 224 224 --scope backbone
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.registry import init_default_scope

from spikedet.analysis.energy import E_AC_PJ, E_MAC_PJ


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Firing rates, SOPs, FLOPs and energy per image of a '
        'spikedet model.')
    p.add_argument('config', help='config file')
    p.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint (optional; '
        'without one the weights are random and firing rates '
        'mean nothing)')
    p.add_argument(
        '--num-images',
        type=int,
        default=8,
        help='images to average over (default 8)')
    p.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='images per forward (default: the test dataloader '
        "'s, 1 with --random-input)")
    p.add_argument(
        '--random-input',
        action='store_true',
        help='feed random images instead of the test dataloader')
    p.add_argument(
        '--input-shape',
        type=int,
        nargs=3,
        default=None,
        metavar=('C', 'H', 'W'),
        help='shape of random images (default 3 224 224, or the '
        "backbone's in_channels)")
    p.add_argument(
        '--mode',
        choices=['predict', 'tensor', 'feat'],
        default='predict',
        help="forward path: the model's predict (default), its "
        "raw 'tensor' forward, or 'feat' (extract_feat only)")
    p.add_argument(
        '--scope',
        default=None,
        help='only analyse this submodule, e.g. "backbone" '
        '(default: the whole model)')
    p.add_argument(
        '--no-chain',
        action='store_true',
        help='count real-valued inputs that are linear in spikes '
        '(inside RepConv/SepConv) as MACs instead of SOPs at the '
        "rate of their spike source (the papers' convention)")
    p.add_argument(
        '--e-mac',
        type=float,
        default=E_MAC_PJ,
        help='energy per MAC in pJ (default 4.6, 32-bit 45 nm)')
    p.add_argument(
        '--e-ac',
        type=float,
        default=E_AC_PJ,
        help='energy per AC in pJ (default 0.9, 32-bit 45 nm)')
    p.add_argument(
        '--stage-depth',
        type=int,
        default=None,
        help='group stages by the first D name components '
        '(default: backbone stages, then neck/heads)')
    p.add_argument(
        '--out-dir',
        default=None,
        help='where energy.json and the PNGs go (default '
        'work_dirs/energy/<config name>)')
    p.add_argument(
        '--json',
        default=None,
        help='JSON path (default <out-dir>/energy.json)')
    p.add_argument('--no-plots', action='store_true', help='skip the PNGs')
    p.add_argument(
        '--map-layers',
        nargs='+',
        default=None,
        help='glob patterns of neuron layers for the spike-map '
        'PNG (default: the first neuron of each stage)')
    p.add_argument(
        '--map-channels',
        type=int,
        nargs='+',
        default=(),
        help='channels to show in the spike maps (default: the '
        'fraction of channels spiking)')
    p.add_argument(
        '--summary-only',
        action='store_true',
        help='print only the per-stage table and totals (the '
        'per-layer table is always in the JSON)')
    p.add_argument(
        '--show-neurons',
        action='store_true',
        help='print the firing rate of every neuron layer')
    p.add_argument(
        '--device',
        default=None,
        help="'cpu' or 'cuda' (default: cuda if available)")
    p.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='dataloader workers (default 0)')
    p.add_argument('--seed', type=int, default=0, help='random seed')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy')
    args = p.parse_args(argv)
    if args.num_images < 1:
        p.error('--num-images must be >= 1')
    if args.batch_size is not None and args.batch_size < 1:
        p.error('--batch-size must be >= 1')
    return args


def build_model(cfg: Config, checkpoint: Optional[str],
                device: str) -> torch.nn.Module:
    """Build the config's model in its default scope and load weights."""
    from mmengine.registry import MODELS
    from mmengine.runner import load_checkpoint

    import spikedet  # noqa: F401  (registers modules, safe checkpoint globals)

    init_default_scope(cfg.get('default_scope', 'mmengine'))
    if 'model' not in cfg:
        raise KeyError(f'The config {cfg.filename} has no "model".')
    model_cfg = cfg.model.copy()
    # As mmengine's Runner: a top-level data_preprocessor (e.g. the
    # normalisation in mmpretrain's dataset bases) fills in the model's.
    if isinstance(cfg.get('data_preprocessor'), dict):
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    if checkpoint:
        if not osp.isfile(checkpoint) and '://' not in checkpoint:
            raise FileNotFoundError(f"Checkpoint '{checkpoint}' not found.")
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    else:
        print_log(
            'No checkpoint given: the weights are random, so firing rates, '
            'SOPs and energy describe an untrained model (MACs are exact).',
            logger='current',
            level=30)
    return model.to(device).eval()


def _random_batch(cfg: Config, model, batch_size: int,
                  shape: Tuple[int, int, int], gen: torch.Generator) -> dict:
    C, H, W = shape
    inputs = [
        torch.randint(0, 256, (C, H, W), generator=gen, dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    scope = cfg.get('default_scope')
    samples = None
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        samples = [
            DetDataSample(
                metainfo=dict(
                    img_shape=(H, W), ori_shape=(H, W), scale_factor=(1., 1.)))
            for _ in range(batch_size)
        ]
    elif scope == 'mmseg':
        from mmseg.structures import SegDataSample
        samples = [
            SegDataSample(metainfo=dict(img_shape=(H, W), ori_shape=(H, W)))
            for _ in range(batch_size)
        ]
    return dict(inputs=inputs, data_samples=samples)


def _slice_batch(batch: dict, n: int) -> Tuple[dict, int]:
    """Keep the first ``n`` images of a collated batch."""
    inputs = batch['inputs']
    size = len(inputs) if isinstance(inputs, (list, tuple)) else \
        inputs.shape[0]
    if size <= n:
        return batch, size
    out = dict(batch)
    out['inputs'] = inputs[:n]
    if batch.get('data_samples') is not None:
        out['data_samples'] = batch['data_samples'][:n]
    return out, n


def iter_batches(cfg: Config, model, args) -> Iterator[Tuple[dict, int]]:
    """Yield ``(preprocessed data, num_images)`` until N images are seen."""
    remaining = args.num_images
    if args.random_input:
        shape = args.input_shape
        gen = torch.Generator().manual_seed(args.seed)
        bs = args.batch_size or 1
        while remaining > 0:
            n = min(bs, remaining)
            batch = _random_batch(cfg, model, n, tuple(shape), gen)
            yield model.data_preprocessor(batch, False), n
            remaining -= n
        return

    from mmengine.runner import Runner
    if 'test_dataloader' not in cfg:
        raise KeyError(f'The config {cfg.filename} has no test_dataloader; '
                       'use --random-input --input-shape C H W.')
    dl_cfg = cfg.test_dataloader.copy()
    if args.batch_size:
        dl_cfg['batch_size'] = args.batch_size
    dl_cfg['num_workers'] = args.num_workers
    dl_cfg['persistent_workers'] = False
    try:
        loader = Runner.build_dataloader(dl_cfg, seed=args.seed)
    except (FileNotFoundError, OSError) as e:
        raise FileNotFoundError(
            f'Could not build the test dataloader of {cfg.filename}: {e}. '
            'Prepare the dataset as the README says, or run with '
            '--random-input --input-shape C H W.') from e
    for batch in loader:
        batch, n = _slice_batch(batch, remaining)
        yield model.data_preprocessor(batch, False), n
        remaining -= n
        if remaining <= 0:
            return
    if remaining > 0:
        print_log(
            f'The test set had only {args.num_images - remaining} '
            'images.',
            logger='current',
            level=30)


def forward(model, data: dict, mode: str):
    if mode == 'feat':
        if not hasattr(model, 'extract_feat'):
            raise AttributeError(f'{type(model).__name__} has no '
                                 'extract_feat; use --mode predict.')
        return model.extract_feat(data['inputs'])
    return model(data['inputs'], data.get('data_samples'), mode=mode)


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    from spikedet.analysis import (EnergyAnalyzer, default_map_layers,
                                   format_report, plot_firing_rates,
                                   plot_spike_maps, stage_name)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    torch.manual_seed(args.seed)
    model = build_model(cfg, args.checkpoint, device)
    if args.random_input and args.input_shape is None:
        in_ch = getattr(getattr(model, 'backbone', None), 'in_channels', 3)
        args.input_shape = [in_ch, 224, 224]

    stages = args.stage_depth
    from spikedet.models.spiking import SpikingNeuron
    neuron_names = [
        n for n, m in model.named_modules() if isinstance(m, SpikingNeuron)
    ]
    map_patterns = args.map_layers
    if map_patterns is None and not args.no_plots:
        from spikedet.analysis.firing import in_scope
        map_patterns = default_map_layers(
            [n for n in neuron_names if in_scope(n, args.scope)],
            lambda n: stage_name(n, stages))
    analyzer = EnergyAnalyzer(
        model,
        scope=args.scope,
        chain=not args.no_chain,
        stages=stages,
        keep_maps=None if args.no_plots else map_patterns)

    first_image = None
    with torch.no_grad():
        # Data loading and pre-processing stay outside the counting.
        for data, n in iter_batches(cfg, model, args):
            inputs = data['inputs']
            if first_image is None and isinstance(inputs, torch.Tensor) \
                    and inputs.dim() == 4:
                first_image = inputs[0].detach().cpu()
            with analyzer:
                analyzer.begin_batch(n)
                try:
                    forward(model, data, args.mode)
                except Exception as e:
                    raise RuntimeError(
                        f'The forward (--mode {args.mode}) failed: {e!r}. '
                        'Try --mode feat (backbone and neck only).') from e

    report = analyzer.report(e_mac=args.e_mac, e_ac=args.e_ac)
    report['meta']['config'] = args.config
    report['meta']['checkpoint'] = args.checkpoint
    report['meta']['input'] = ('random uint8 images ' +
                               'x'.join(map(str, args.input_shape or []))
                               if args.random_input else 'test dataloader')
    report['meta']['mode'] = args.mode
    print(
        format_report(
            report, layers=not args.summary_only, neurons=args.show_neurons))

    out_dir = args.out_dir or osp.join(
        'work_dirs', 'energy',
        osp.splitext(osp.basename(args.config))[0])
    if not args.no_plots or not args.json:
        os.makedirs(out_dir, exist_ok=True)
    json_path = args.json or osp.join(out_dir, 'energy.json')
    os.makedirs(osp.dirname(osp.abspath(json_path)), exist_ok=True)
    with open(json_path, 'w') as f:
        json.dump(report, f, indent=1, allow_nan=True)
    written = [json_path]
    if not args.no_plots:
        written.append(
            plot_firing_rates(
                report['neurons'],
                osp.join(out_dir, 'firing_rates.png'),
                title=f'Firing rate per layer: '
                f'{osp.basename(args.config)} ({report["meta"]["input"]})'))
        maps = analyzer.recorder.maps
        spatial = {k: v for k, v in maps.items() if v.dim() == 4}
        if spatial:
            written.append(
                plot_spike_maps(
                    spatial,
                    osp.join(out_dir, 'spike_maps.png'),
                    image=first_image,
                    channels=args.map_channels))
        else:
            print_log(
                'No spike map: none of the chosen layers '
                f'({map_patterns}) has a spatial output [T, B, C, H, W].',
                logger='current',
                level=30)
    print('\nWritten: ' + ', '.join(written))
    return report


if __name__ == '__main__':
    try:
        main()
    except (FileNotFoundError, KeyError, ValueError, RuntimeError) as e:
        print(f'error: {e}', file=sys.stderr)
        sys.exit(1)
