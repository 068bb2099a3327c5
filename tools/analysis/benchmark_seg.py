"""Inference speed and peak memory of an mmseg segmentor config, per T.

Builds the config's model (random weights unless ``--checkpoint``), feeds
random images of the given size through its full inference path
(``mode='predict'``: the config's ``test_cfg`` whole or slide, logits resized
to the image), and reports throughput (images/s), latency and peak memory
for each requested number of time steps, then the ratios between the first
T and the others.

Memory: on a GPU, ``torch.cuda.max_memory_allocated`` (tensors, weights
included). On the CPU, the process's peak resident set size
(``getrusage`` maxrss) and its rise over the resident size after the model
was built; each T runs in a fresh process (``--isolate``, default on CPU)
because maxrss never goes down within one process.

Examples:
    python tools/analysis/benchmark_seg.py \
      configs/sem-fpn/fpn_metaspikeformer-15m_t1_4xb2-160k_ade20k-512x512.py \
      --T 1 4 --shape 512 512 --device cuda
    python tools/analysis/benchmark_seg.py CONFIG --T 1 2 --shape 128 128 \
        --num-iters 5 --out bench.json
"""
import argparse
import json
import multiprocessing as mp
import os.path as osp
import resource
import sys
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, ConfigDict, DictAction

#: Keys of every per-T result (the tests check these).
RESULT_KEYS = ('T', 'batch_size', 'shape', 'device', 'num_iters',
               'params_m', 'seconds', 'images_per_s', 'latency_ms',
               'peak_mem_mib', 'mem_increase_mib', 'mem_kind')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark inference speed and memory of an mmseg '
        'segmentor config at one or more time steps T.')
    parser.add_argument('config', help='mmseg config file')
    parser.add_argument(
        '--T',
        type=int,
        nargs='+',
        default=None,
        help="time steps to measure (e.g. '--T 1 4'); defaults to the "
        "config's model.backbone.T")
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[512, 512],
        help='input size: H W, or one number for a square (default 512)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='images per forward')
    parser.add_argument(
        '--num-iters', type=int, default=20, help='timed forwards per T')
    parser.add_argument(
        '--num-warmup', type=int, default=2, help='untimed forwards first')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help="'cpu', 'cuda' or 'cuda:N' (default: cuda if available)")
    parser.add_argument(
        '--checkpoint', help='weights to load (speed does not depend on '
        'them, but spike rates and so CPU/GPU time can)')
    parser.add_argument(
        '--isolate',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='measure each T in a fresh process (default: on for CPU, where '
        'peak RSS cannot be reset; off for CUDA)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument('--out', help='also write the results to this JSON')
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2 or min(args.shape) < 1:
        parser.error(f'--shape takes H W or one size, got {args.shape}.')
    if args.T is not None and min(args.T) < 1:
        parser.error(f'--T values must be positive, got {args.T}.')
    if args.batch_size < 1 or args.num_iters < 1 or args.num_warmup < 0:
        parser.error('--batch-size and --num-iters must be >= 1 and '
                     '--num-warmup >= 0.')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: no CUDA GPU here; use "
                     "'--device cpu'.")
    if args.isolate is None:
        args.isolate = not args.device.startswith('cuda')
    return args


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load an mmseg config and register its modules."""
    if not osp.isfile(path):
        raise FileNotFoundError(f"Config file '{path}' not found.")
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if cfg.get('default_scope') != 'mmseg':
        raise ValueError(
            f"{path} has default_scope={cfg.get('default_scope')!r}; this "
            "tool benchmarks mmseg segmentors (default_scope='mmseg').")
    from mmengine.registry import init_default_scope

    from spikedet.utils.setup_env import register_all_modules
    register_all_modules(cfg)
    init_default_scope('mmseg')
    return cfg


def set_time_steps(model_cfg: ConfigDict, T: int) -> List[str]:
    """Set ``T`` of the backbone and of every neck that has one.

    Returns:
        list[str]: The config keys that were set.
    """
    backbone = model_cfg.get('backbone', {})
    if 'T' not in backbone and T != 1:
        raise ValueError(
            f"model.backbone ({backbone.get('type')}) has no time steps 'T'; "
            'only T=1 can be measured for it.')
    changed = []
    if 'T' in backbone:
        backbone['T'] = T
        changed.append('model.backbone.T')
    necks = model_cfg.get('neck')
    if isinstance(necks, list):
        named = [(f'model.neck[{i}]', n) for i, n in enumerate(necks)]
    else:
        named = [('model.neck', necks)]
    for name, neck in named:
        if isinstance(neck, dict) and 'T' in neck:
            neck['T'] = T
            changed.append(f'{name}.T')
    return changed


def _peak_rss_mib() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    scale = 1 if sys.platform == 'darwin' else 1024
    return resource.getrusage(
        resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _current_rss_mib() -> float:
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return _peak_rss_mib()


def measure(config: str, T: int, shape: Sequence[int], batch_size: int,
            num_iters: int, num_warmup: int, device: str,
            checkpoint: Optional[str] = None,
            cfg_options: Optional[dict] = None) -> Dict:
    """Build the model of ``config`` at ``T`` steps and time its inference.

    Returns:
        dict: One result with the keys :data:`RESULT_KEYS`.
    """
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.runner import load_checkpoint
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample

    cfg = load_config(config, cfg_options)
    set_time_steps(cfg.model, T)
    model = MODELS.build(cfg.model)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model = revert_sync_batchnorm(model).to(device).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6

    H, W = shape
    inputs = torch.randn(batch_size, 3, H, W, device=device)
    meta = dict(img_shape=(H, W), ori_shape=(H, W), pad_shape=(H, W),
                padding_size=[0, 0, 0, 0])
    samples = [SegDataSample(metainfo=meta) for _ in range(batch_size)]

    cuda = device.startswith('cuda')

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    rss_before = _current_rss_mib()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        mem_before = torch.cuda.memory_allocated(device) / 2**20
    with torch.no_grad():
        for _ in range(num_warmup):
            model(inputs, samples, mode='predict')
        sync()
        start = time.perf_counter()
        for _ in range(num_iters):
            model(inputs, samples, mode='predict')
        sync()
        seconds = time.perf_counter() - start
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        increase = peak - mem_before
        kind = 'cuda max_memory_allocated'
    else:
        peak = _peak_rss_mib()
        increase = max(0., peak - rss_before)
        kind = 'cpu peak RSS (getrusage maxrss)'
    images = batch_size * num_iters
    return dict(
        T=T,
        batch_size=batch_size,
        shape=[H, W],
        device=device,
        num_iters=num_iters,
        params_m=round(params, 3),
        seconds=seconds,
        images_per_s=images / seconds,
        latency_ms=1000 * seconds / images,
        peak_mem_mib=peak,
        mem_increase_mib=increase,
        mem_kind=kind)


def _worker(queue, kwargs) -> None:
    torch.set_num_threads(kwargs.pop('num_threads'))
    try:
        queue.put(('ok', measure(**kwargs)))
    except Exception as e:  # report to the parent instead of dying silently
        queue.put(('error', f'{type(e).__name__}: {e}'))


def measure_isolated(**kwargs) -> Dict:
    """:func:`measure` in a fresh (spawned) process."""
    ctx = mp.get_context('spawn')
    queue = ctx.Queue()
    kwargs['num_threads'] = torch.get_num_threads()
    proc = ctx.Process(target=_worker, args=(queue, kwargs))
    proc.start()
    status, result = queue.get()
    proc.join()
    if status != 'ok':
        raise RuntimeError(f"Benchmark at T={kwargs['T']} failed in its "
                           f'worker process: {result}')
    return result


def ratios(results: List[Dict]) -> List[Dict]:
    """Each result relative to the first: time and memory ratios."""
    base = results[0]
    return [
        dict(
            T=r['T'],
            base_T=base['T'],
            latency_ratio=r['latency_ms'] / base['latency_ms'],
            throughput_ratio=r['images_per_s'] / base['images_per_s'],
            peak_mem_ratio=r['peak_mem_mib'] / base['peak_mem_mib'],
            mem_increase_ratio=(r['mem_increase_mib'] /
                                base['mem_increase_mib']
                                if base['mem_increase_mib'] > 0 else None))
        for r in results[1:]
    ]


def format_report(config: str, results: List[Dict],
                  rel: List[Dict]) -> str:
    first = results[0]
    lines = [
        f'config: {config}',
        f"device: {first['device']}, input {first['shape'][0]}x"
        f"{first['shape'][1]}, batch {first['batch_size']}, "
        f"{first['num_iters']} timed iters, params {first['params_m']:.2f}M",
        f"memory: {first['mem_kind']}",
        f"{'T':>3} {'images/s':>10} {'ms/image':>10} {'peak MiB':>10} "
        f"{'+MiB':>10}",
    ]
    for r in results:
        lines.append(f"{r['T']:>3} {r['images_per_s']:>10.3f} "
                     f"{r['latency_ms']:>10.1f} {r['peak_mem_mib']:>10.1f} "
                     f"{r['mem_increase_mib']:>10.1f}")
    for q in rel:
        inc = q['mem_increase_ratio']
        lines.append(
            f"T={q['T']} vs T={q['base_T']}: latency x{q['latency_ratio']:.2f}"
            f", throughput x{q['throughput_ratio']:.2f}, peak memory "
            f"x{q['peak_mem_ratio']:.2f}, memory increase "
            + (f'x{inc:.2f}' if inc is not None else 'n/a'))
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    steps = args.T or [cfg.model.get('backbone', {}).get('T', 1)]
    results = []
    for T in steps:
        kwargs = dict(
            config=args.config,
            T=T,
            shape=args.shape,
            batch_size=args.batch_size,
            num_iters=args.num_iters,
            num_warmup=args.num_warmup,
            device=args.device,
            checkpoint=args.checkpoint,
            cfg_options=args.cfg_options)
        results.append(
            measure_isolated(**kwargs) if args.isolate else measure(**kwargs))
    rel = ratios(results)
    print(format_report(args.config, results, rel))
    report = dict(config=args.config, results=results, ratios=rel)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == '__main__':
    main()
