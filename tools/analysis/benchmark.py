"""Training and inference speed and peak memory of a spikedet config, per
neuron backend and mode.

For any config of mmpretrain (classifier), mmdet (detector) or mmseg
(segmentor), with random weights (or ``--checkpoint``) and random images of
``--shape``, each variant is measured:

* ``torch``: spikingjelly's ``torch`` neuron backend, the papers' path;
* ``fused``: spikedet's fused neuron backend (``backend='fused'``);
* ``compile``: fused, with ``train_step``/``test_step`` compiled by
  ``torch.compile`` as mmengine's ``compile=True`` does (``--compile-cfg``
  passes its options);
* ``deploy``: fused, re-parameterised by ``switch_to_deploy()`` (BN folded,
  neurons as thresholds at one time step); inference only.

Training step: the model's ``train_step`` (data preprocessor, forward, loss,
backward, SGD step), batch ``--batch-size``. Inference: ``test_step`` (the
config's full predict path), reported as latency per batch and images/s.
Each phase runs ``--warmup`` untimed steps, then ``--repeats`` repeats of
``--steps`` steps; times are the median over repeats of the mean step time,
both wall-clock and process CPU time (all threads; on a machine shared with
other jobs the CPU time is the steadier measure of the work done).

Memory: on a GPU, ``torch.cuda.max_memory_allocated`` per phase. On the CPU,
the peak resident set size (``getrusage`` maxrss) of a fresh process per
variant and phase (``--isolate``, the default on CPU: maxrss never goes
down within a process), and its rise over the resident size before the
phase's first step. Ratios are relative to the ``torch`` row of the same T.

Examples:
    python tools/analysis/benchmark.py \\
        configs/metaspikeformer/metaspikeformer-15m-t1_8xb128_in1k-224.py \\
        --T 1 4 --batch-size 4 --shape 224 --threads 2 --repeats 3
    python tools/analysis/benchmark.py CONFIG --variants torch deploy \\
        --steps 5 --out bench.json
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

VARIANTS = ('torch', 'fused', 'compile', 'deploy')
#: Fields of every result row (the tests check them).
RESULT_KEYS = ('variant', 'T', 'backend', 'params_m', 'train_step_s',
               'train_step_s_all', 'train_cpu_s', 'train_peak_mib',
               'train_mem_increase_mib', 'infer_latency_ms',
               'infer_latency_ms_all', 'infer_cpu_ms', 'infer_images_per_s',
               'infer_peak_mib', 'infer_mem_increase_mib', 'mem_kind', 'error')
RATIO_KEYS = ('variant', 'T', 'train_speedup', 'train_cpu_speedup',
              'train_peak_ratio', 'train_increase_ratio', 'infer_speedup',
              'infer_cpu_speedup', 'infer_peak_ratio', 'infer_increase_ratio')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark training and inference speed and memory of a '
        'spikedet config for several neuron backends and deploy mode.')
    parser.add_argument('config', help='mmpretrain, mmdet or mmseg config')
    parser.add_argument(
        '--T',
        type=int,
        nargs='+',
        default=None,
        help="time steps (e.g. '--T 1 4'); default: the config's")
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=VARIANTS,
        default=list(VARIANTS),
        help='variants to measure (default: all); ratios need torch')
    parser.add_argument(
        '--batch-size', type=int, default=2, help='images per step')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        default=[224, 224],
        help='input size: H W, or one number for a square (default 224)')
    parser.add_argument(
        '--steps', type=int, default=3, help='timed steps per repeat')
    parser.add_argument(
        '--repeats',
        type=int,
        default=1,
        help='repeats of --steps steps; the median is reported')
    parser.add_argument(
        '--warmup',
        type=int,
        default=1,
        help='untimed steps first (compile needs at least 1)')
    parser.add_argument(
        '--phases',
        nargs='+',
        choices=('train', 'infer'),
        default=['train', 'infer'],
        help='what to measure')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help="'cpu' or 'cuda[:N]' (default: cuda if available)")
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch.get_num_threads())')
    parser.add_argument(
        '--isolate',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='one fresh process per variant and phase (default: on for '
        'CPU, where peak RSS cannot be reset; off for CUDA)')
    parser.add_argument(
        '--compile-cfg',
        nargs='+',
        action=DictAction,
        default={},
        help="torch.compile options of the compile variant, e.g. "
        "'backend=aot_eager' (default: torch.compile's defaults)")
    parser.add_argument(
        '--checkpoint',
        help='weights to load (spike rates, and so the '
        'cost of sparse paths, depend on them)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument('--out', help='also write the report to this JSON')
    args = parser.parse_args(argv)
    if len(args.shape) == 1:
        args.shape = args.shape * 2
    if len(args.shape) != 2 or min(args.shape) < 1:
        parser.error(f'--shape takes H W or one size, got {args.shape}.')
    if args.T is not None and min(args.T) < 1:
        parser.error(f'--T values must be positive, got {args.T}.')
    if min(args.batch_size, args.steps, args.repeats) < 1 or args.warmup < 0:
        parser.error('--batch-size, --steps and --repeats must be >= 1, '
                     '--warmup >= 0.')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: no CUDA GPU here; use "
                     "'--device cpu'.")
    if args.threads is None:
        args.threads = torch.get_num_threads()
    if args.isolate is None:
        args.isolate = not args.device.startswith('cuda')
    return args


# -- the model config ---------------------------------------------------------
def set_time_steps(model_cfg: dict, T: int, path: str = 'model') -> List[str]:
    """Set every ``T`` in a model config (backbone, necks, heads).

    Returns:
        list[str]: The keys that were set.
    """
    changed = []
    if isinstance(model_cfg, dict):
        if 'T' in model_cfg:
            model_cfg['T'] = T
            changed.append(f'{path}.T')
        for key, value in model_cfg.items():
            if key != 'T':
                changed += set_time_steps(value, T, f'{path}.{key}')
    elif isinstance(model_cfg, (list, tuple)):
        for i, value in enumerate(model_cfg):
            changed += set_time_steps(value, T, f'{path}[{i}]')
    return changed


def _takes(node: dict, arg: str) -> bool:
    """Whether the module config ``node`` builds a class with ``arg``."""
    from mmengine.registry import MODELS

    from spikedet.models.spiking.reparam import init_accepts
    cls = node.get('type')
    if isinstance(cls, str):
        try:
            cls = MODELS.get(cls)
        except Exception:  # an unresolvable type: let the build report it
            return False
    return isinstance(cls, type) and init_accepts(cls, arg)


def set_neuron_backend(model_cfg: Any, backend: str) -> int:
    """Set ``neuron_cfg.backend`` of every module config that takes a
    ``neuron_cfg``. Call inside the config's default scope.

    Returns:
        int: How many module configs were changed.
    """
    count = 0
    if isinstance(model_cfg, dict):
        if 'neuron_cfg' in model_cfg or 'type' in model_cfg and _takes(
                model_cfg, 'neuron_cfg'):
            model_cfg['neuron_cfg'] = dict(
                model_cfg.get('neuron_cfg') or {}, backend=backend)
            count += 1
        for key, value in model_cfg.items():
            if key != 'neuron_cfg':
                count += set_neuron_backend(value, backend)
    elif isinstance(model_cfg, (list, tuple)):
        for value in model_cfg:
            count += set_neuron_backend(value, backend)
    return count


# -- a random batch -----------------------------------------------------------
def make_batch(scope: str, model: torch.nn.Module, batch_size: int,
               shape: Sequence[int]) -> dict:
    """A ``train_step``/``test_step`` batch of random uint8 images with
    random annotations of the config's task.

    Args:
        scope (str): ``'mmpretrain'``, ``'mmdet'`` or ``'mmseg'``.
        model (nn.Module): The model (its backbone's ``in_channels`` and
            whether it predicts masks are read).
        batch_size (int): Images.
        shape (Sequence[int]): ``(H, W)``.

    Returns:
        dict: ``inputs`` and ``data_samples``.
    """
    import numpy as np
    H, W = shape
    g = torch.Generator().manual_seed(0)
    channels = getattr(getattr(model, 'backbone', None), 'in_channels', 3)
    inputs = [
        torch.randint(
            0, 256, (channels, H, W), generator=g, dtype=torch.uint8)
        for _ in range(batch_size)
    ]
    meta = dict(
        img_shape=(H, W),
        ori_shape=(H, W),
        pad_shape=(H, W),
        scale_factor=(1., 1.))
    samples = []
    for i in range(batch_size):
        if scope == 'mmpretrain':
            from mmpretrain.structures import DataSample
            samples.append(DataSample(metainfo=meta).set_gt_label(i % 2))
        elif scope == 'mmseg':
            from mmengine.structures import PixelData
            from mmseg.structures import SegDataSample
            sample = SegDataSample(metainfo=meta)
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, 2, (1, H, W), generator=g))
            samples.append(sample)
        elif scope == 'mmdet':
            from mmdet.structures import DetDataSample
            from mmdet.structures.mask import BitmapMasks
            from mmengine.structures import InstanceData
            n = 3
            xy = torch.rand(n, 2, generator=g) * torch.tensor([W, H]) * 0.5
            wh = (torch.rand(n, 2, generator=g) * 0.4 + 0.1) * torch.tensor(
                [W, H])
            boxes = torch.cat([xy, xy + wh], 1)
            inst = InstanceData(bboxes=boxes, labels=torch.arange(n) % 2)
            masks = np.zeros((n, H, W), dtype=np.uint8)
            for k, (x1, y1, x2, y2) in enumerate(boxes.int().tolist()):
                masks[k, y1:y2, x1:x2] = 1
            inst.masks = BitmapMasks(masks, H, W)
            sample = DetDataSample(metainfo=meta)
            sample.gt_instances = inst
            samples.append(sample)
        else:
            raise ValueError(f'Unknown default_scope {scope!r}.')
    return dict(inputs=inputs, data_samples=samples)


# -- one variant in one process -----------------------------------------------
def _peak_rss_mib() -> float:
    scale = 1 if sys.platform == 'darwin' else 1024  # Linux: KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _current_rss_mib() -> float:
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return _peak_rss_mib()


def build_variant(config: str,
                  variant: str,
                  T: int,
                  device: str,
                  checkpoint: Optional[str] = None,
                  cfg_options: Optional[dict] = None):
    """Build the config's model for ``variant`` at ``T`` steps.

    Returns:
        tuple: ``(model, scope, backend)``.
    """
    from mmengine.model.utils import revert_sync_batchnorm
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner import load_checkpoint

    from spikedet.models.spiking.neuron import SpikingNeuron
    from spikedet.utils.setup_env import load_config

    cfg, scope = load_config(config, cfg_options=cfg_options)
    backend = 'torch' if variant == 'torch' else 'fused'
    with DefaultScope.overwrite_default_scope(scope):
        model_cfg = copy.deepcopy(cfg.model)
        if not set_time_steps(model_cfg, T) and T != 1:
            raise ValueError(f'{config}: the model has no time steps T; '
                             'only T=1 can be measured.')
        set_neuron_backend(model_cfg, backend)
        model = MODELS.build(model_cfg)
    neurons = [m for m in model.modules() if isinstance(m, SpikingNeuron)]
    missed = [m for m in neurons if m.cfg['backend'] != backend]
    if missed:
        raise RuntimeError(
            f'{len(missed)} of {len(neurons)} neurons did not get '
            f"backend={backend!r} from the config's neuron_cfg.")
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', logger='silent')
    model = revert_sync_batchnorm(model).to(device)
    return model, scope, backend


def _median_step(fn, steps: int, repeats: int, warmup: int,
                 sync) -> Dict[str, Any]:
    for _ in range(warmup):
        fn()
    sync()
    means, cpu = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        for _ in range(steps):
            fn()
        sync()
        means.append((time.perf_counter() - start) / steps)
        cpu.append((time.process_time() - cpu_start) / steps)
    return dict(
        median=statistics.median(means), all=means, cpu=statistics.median(cpu))


def measure(config: str,
            variant: str,
            T: int,
            phase: str,
            batch_size: int,
            shape: Sequence[int],
            steps: int,
            repeats: int,
            warmup: int,
            device: str,
            compile_cfg: Optional[dict] = None,
            checkpoint: Optional[str] = None,
            cfg_options: Optional[dict] = None) -> Dict[str, Any]:
    """Measure one phase (``'train'`` or ``'infer'``) of one variant.

    Returns:
        dict: ``seconds`` (median per step), ``all`` (per repeat),
        ``cpu_seconds`` (median process CPU time per step), ``peak_mib``,
        ``increase_mib``, ``mem_kind``, ``backend``,
        ``params_m``.
    """
    from mmengine.optim import OptimWrapper

    from spikedet.models.spiking.reparam import switch_model_to_deploy

    model, scope, backend = build_variant(config, variant, T, device,
                                          checkpoint, cfg_options)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    data = make_batch(scope, model, batch_size, shape)
    cuda = device.startswith('cuda')

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    if phase == 'train':
        if variant == 'deploy':
            raise ValueError('deploy models are inference-only.')
        model.train()
        wrapper = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9))
        step = model.train_step
        if variant == 'compile':
            step = torch.compile(step, **(compile_cfg or {}))

        def fn():
            step(data, wrapper)
    else:
        model.eval()
        if variant == 'deploy':
            switch_model_to_deploy(model)
        step = model.test_step
        if variant == 'compile':
            step = torch.compile(step, **(compile_cfg or {}))

        def fn():
            with torch.no_grad():
                step(data)

    rss_before = _current_rss_mib()
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        mem_before = torch.cuda.memory_allocated(device) / 2**20
    timing = _median_step(fn, steps, repeats, warmup, sync)
    if cuda:
        peak = torch.cuda.max_memory_allocated(device) / 2**20
        increase = peak - mem_before
        kind = 'cuda max_memory_allocated'
    else:
        peak = _peak_rss_mib()
        increase = max(0., peak - rss_before)
        kind = 'cpu peak RSS (getrusage maxrss)'
    return dict(
        seconds=timing['median'],
        all=timing['all'],
        cpu_seconds=timing['cpu'],
        peak_mib=peak,
        increase_mib=increase,
        mem_kind=kind,
        backend=backend,
        params_m=params)


def measure_isolated(threads: int, **kwargs) -> Dict[str, Any]:
    """:func:`measure` in a fresh Python process (its own peak RSS)."""
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = osp.join(tmp, 'spec.json'), osp.join(tmp, 'out.json')
        with open(spec, 'w') as f:
            json.dump(kwargs, f)
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        proc = subprocess.run([
            sys.executable,
            osp.abspath(__file__), '--worker', spec, out,
            str(threads)
        ],
                              env=env,
                              capture_output=True,
                              text=True)
        if proc.returncode != 0 or not osp.isfile(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            raise RuntimeError('worker process failed: ' +
                               (tail[0] if tail else f'rc {proc.returncode}'))
        with open(out) as f:
            result = json.load(f)
    if 'error' in result:
        raise RuntimeError(result['error'])
    return result


def _worker_main(spec: str, out: str, threads: str) -> None:
    torch.set_num_threads(int(threads))
    with open(spec) as f:
        kwargs = json.load(f)
    try:
        result = measure(**kwargs)
    except Exception as e:  # reported by the parent
        traceback.print_exc()
        result = dict(error=f'{type(e).__name__}: {e}')
    with open(out, 'w') as f:
        json.dump(result, f)


# -- the whole run ------------------------------------------------------------
def run_variant(args: argparse.Namespace, variant: str,
                T: int) -> Dict[str, Any]:
    """Measure the requested phases of one variant; a failure becomes the
    row's ``error`` instead of stopping the run."""
    row = dict.fromkeys(RESULT_KEYS)
    row.update(variant=variant, T=T)
    errors = []
    for phase in args.phases:
        if phase == 'train' and variant == 'deploy':
            continue  # inference-only by design
        kwargs = dict(
            config=args.config,
            variant=variant,
            T=T,
            phase=phase,
            batch_size=args.batch_size,
            shape=list(args.shape),
            steps=args.steps,
            repeats=args.repeats,
            warmup=args.warmup,
            device=args.device,
            compile_cfg=dict(args.compile_cfg),
            checkpoint=args.checkpoint,
            cfg_options=dict(args.cfg_options or {}))
        try:
            if args.isolate:
                r = measure_isolated(args.threads, **kwargs)
            else:
                r = measure(**kwargs)
        except Exception as e:
            errors.append(f'{phase}: {type(e).__name__}: {e}' if
                          not isinstance(e, RuntimeError) else f'{phase}: {e}')
            continue
        row['backend'], row['params_m'] = r['backend'], r['params_m']
        row['mem_kind'] = r['mem_kind']
        if phase == 'train':
            row.update(
                train_step_s=r['seconds'],
                train_step_s_all=r['all'],
                train_cpu_s=r['cpu_seconds'],
                train_peak_mib=r['peak_mib'],
                train_mem_increase_mib=r['increase_mib'])
        else:
            row.update(
                infer_latency_ms=1000 * r['seconds'],
                infer_latency_ms_all=[1000 * s for s in r['all']],
                infer_cpu_ms=1000 * r['cpu_seconds'],
                infer_images_per_s=args.batch_size / r['seconds'],
                infer_peak_mib=r['peak_mib'],
                infer_mem_increase_mib=r['increase_mib'])
    row['error'] = '; '.join(errors) or None
    return row


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None or b == 0 else a / b


def ratios(results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Each row against the ``torch`` row of its T: speed-ups (torch time /
    time) and memory ratios (memory / torch memory)."""
    base = {r['T']: r for r in results if r['variant'] == 'torch'}
    rel = []
    for r in results:
        b = base.get(r['T'])
        if b is None:
            continue
        rel.append(
            dict(
                variant=r['variant'],
                T=r['T'],
                train_speedup=_ratio(b['train_step_s'], r['train_step_s']),
                train_cpu_speedup=_ratio(b['train_cpu_s'], r['train_cpu_s']),
                train_peak_ratio=_ratio(r['train_peak_mib'],
                                        b['train_peak_mib']),
                train_increase_ratio=_ratio(r['train_mem_increase_mib'],
                                            b['train_mem_increase_mib']),
                infer_speedup=_ratio(b['infer_latency_ms'],
                                     r['infer_latency_ms']),
                infer_cpu_speedup=_ratio(b['infer_cpu_ms'], r['infer_cpu_ms']),
                infer_peak_ratio=_ratio(r['infer_peak_mib'],
                                        b['infer_peak_mib']),
                infer_increase_ratio=_ratio(r['infer_mem_increase_mib'],
                                            b['infer_mem_increase_mib'])))
    return rel


def _fmt(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def format_report(args: argparse.Namespace, results: List[Dict],
                  rel: List[Dict]) -> str:
    kinds = {r.get('mem_kind') for r in results} - {None}
    lines = [
        f'config: {args.config}',
        f'device: {args.device}, {args.threads} threads, batch '
        f'{args.batch_size}, input {args.shape[0]}x{args.shape[1]}, median '
        f'of {args.repeats} x {args.steps} steps (+{args.warmup} warm-up)',
        f"memory: {', '.join(sorted(kinds)) or '-'}" +
        (', one process per variant and phase' if args.isolate else ''),
        '',
        f"{'variant':<8} {'T':>2} {'train s':>8} {'cpu s':>7} "
        f"{'train MiB':>9} {'(+MiB)':>7} {'infer ms':>9} {'cpu ms':>8} "
        f"{'img/s':>7} {'infer MiB':>9} {'(+MiB)':>7}",
    ]
    for r in results:
        lines.append(f"{r['variant']:<8} {r['T']:>2} "
                     f"{_fmt(r['train_step_s'], '.3f'):>8} "
                     f"{_fmt(r['train_cpu_s'], '.3f'):>7} "
                     f"{_fmt(r['train_peak_mib'], '.0f'):>9} "
                     f"{_fmt(r['train_mem_increase_mib'], '.0f'):>7} "
                     f"{_fmt(r['infer_latency_ms'], '.1f'):>9} "
                     f"{_fmt(r['infer_cpu_ms'], '.1f'):>8} "
                     f"{_fmt(r['infer_images_per_s'], '.2f'):>7} "
                     f"{_fmt(r['infer_peak_mib'], '.0f'):>9} "
                     f"{_fmt(r['infer_mem_increase_mib'], '.0f'):>7}")
    if rel:
        lines += [
            '', 'relative to torch (speed-up = torch time / time, wall and '
            'process CPU; memory = memory / torch memory):',
            f"{'variant':<8} {'T':>2} {'train x':>8} {'cpu x':>6} "
            f"{'train mem':>9} {'(+mem)':>7} {'infer x':>8} {'cpu x':>6} "
            f"{'infer mem':>9} {'(+mem)':>7}"
        ]
        for q in rel:
            lines.append(f"{q['variant']:<8} {q['T']:>2} "
                         f"{_fmt(q['train_speedup'], '.2f'):>8} "
                         f"{_fmt(q['train_cpu_speedup'], '.2f'):>6} "
                         f"{_fmt(q['train_peak_ratio'], '.2f'):>9} "
                         f"{_fmt(q['train_increase_ratio'], '.2f'):>7} "
                         f"{_fmt(q['infer_speedup'], '.2f'):>8} "
                         f"{_fmt(q['infer_cpu_speedup'], '.2f'):>6} "
                         f"{_fmt(q['infer_peak_ratio'], '.2f'):>9} "
                         f"{_fmt(q['infer_increase_ratio'], '.2f'):>7}")
    failed = [r for r in results if r['error']]
    if failed:
        lines.append('')
        lines += [
            f"failed: {r['variant']} T={r['T']}: {r['error']}" for r in failed
        ]
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f"Config file '{args.config}' not found.")
    torch.set_num_threads(args.threads)
    steps = args.T
    if steps is None:
        cfg = Config.fromfile(args.config)
        steps = [cfg.model.get('backbone', {}).get('T', 1)]
    results = [
        run_variant(args, variant, T) for T in steps
        for variant in args.variants
    ]
    rel = ratios(results)
    print(format_report(args, results, rel))
    report = dict(
        config=args.config,
        device=args.device,
        threads=args.threads,
        batch_size=args.batch_size,
        shape=list(args.shape),
        steps=args.steps,
        repeats=args.repeats,
        warmup=args.warmup,
        isolate=args.isolate,
        results=results,
        ratios=rel)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
    return report


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == '--worker':
        _worker_main(*sys.argv[2:])
    else:
        main()
