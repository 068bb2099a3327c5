"""Per-image energy of a spiking model, the way the papers estimate it.

``E = E_MAC * FLOPs + E_AC * SOPs`` where ``FLOPs`` are the MACs of layers
with real-valued input (the encoding conv that sees pixels, ANN heads) and
``SOPs`` the synaptic operations (accumulates) of layers with spike input,
``SOPs = MACs x input firing rate x T``. The constants default to the
papers' 32-bit operations at 45 nm: ``E_MAC = 4.6 pJ``, ``E_AC = 0.9 pJ``.
See :mod:`spikedet.analysis.ops` for exactly what is counted.
"""
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence

import torch.nn as nn

from .firing import FiringRateRecorder, StageSpec, find_time_steps, stage_name
from .ops import OpCounter

#: Energy per multiply-accumulate, pJ (32-bit float, 45 nm).
E_MAC_PJ = 4.6
#: Energy per accumulate, pJ (32-bit float, 45 nm).
E_AC_PJ = 0.9
#: pJ -> mJ.
PJ_TO_MJ = 1e-9

NOTES = (
    'Energy per image: E = E_MAC x FLOPs + E_AC x SOPs (pJ -> mJ).',
    'FLOPs = MACs of layers whose input is real-valued (1 MAC = 1 FLOP, as '
    'in the papers): the encoding conv (a static image repeated over T is '
    'counted once) and any ANN part (e.g. detection heads).',
    'SOPs = MACs x input firing rate, summed over all T time steps (= the '
    "papers' FLOPs x fr x T); integer-valued inputs (summed spikes) count "
    '|value| accumulates each and are flagged; "spike-chain" inputs are '
    'real values linear in a spike tensor (inside RepConv/SepConv, no '
    'neuron in between) and count at that tensor\'s rate (one spike-driven '
    'layer once re-parameterised).',
    'MACs = dense multiply-accumulates as executed over all T steps, for '
    'reference.',
    'Counted: Conv1d/2d/3d, ConvTranspose, Linear and matrix products '
    '(incl. the Q/K/V products of spiking self-attention). Not counted: '
    'BatchNorm (folded into the conv), neuron membrane updates, residual '
    'additions, pooling, the attention scale; see "uncounted".',
)


class EnergyAnalyzer:
    """Record firing rates and count MACs/SOPs over several forwards, then
    report per layer, per stage and in total, per image.

    Args:
        model (nn.Module): A spikedet model (any task).
        num_steps (int, optional): ``T``. Defaults to the ``T`` of the
            model's spiking backbone.
        scope (str, optional): Only analyse this submodule, e.g.
            ``'backbone'``. Defaults to None (the whole model).
        chain (bool): Count real-valued inputs that are linear in spikes
            (RepConv and SepConv chains, ``spike-chain``) as SOPs at the
            rate of their spike source, as the papers do; else as MACs.
            Defaults to True.
        stages (int | Sequence[str], optional): Stage grouping, see
            :func:`~spikedet.analysis.firing.stage_name`. Defaults to None.
        keep_maps (Sequence[str], optional): Glob patterns of neurons whose
            spikes for the first image are kept for plots. Defaults to None.

    Example:
        >>> analyzer = EnergyAnalyzer(model)
        >>> with analyzer:
        ...     for x in batches:
        ...         analyzer.begin_batch(x.shape[0])
        ...         model(x)
        >>> report = analyzer.report()
        >>> print(format_report(report))
    """

    def __init__(self,
                 model: nn.Module,
                 num_steps: Optional[int] = None,
                 scope: Optional[str] = None,
                 chain: bool = True,
                 stages: StageSpec = None,
                 keep_maps: Optional[Sequence[str]] = None) -> None:
        if scope is not None and scope not in dict(model.named_modules()):
            raise KeyError(f"scope '{scope}' is not a submodule of the model; "
                           'use a module name such as "backbone".')
        self.model = model
        self.num_steps = num_steps or find_time_steps(model) or 1
        self.scope = scope
        self.chain = chain
        self.stages = stages
        self.recorder = FiringRateRecorder(model, scope, keep_maps)
        self.counter = OpCounter(model, self.num_steps, scope, chain)
        self.num_images = 0

    def __enter__(self) -> 'EnergyAnalyzer':
        self.recorder.attach()
        self.counter.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.counter.__exit__(*exc)
        self.recorder.detach()

    def begin_batch(self, batch_size: int) -> None:
        """Call before each forward with the number of images in it."""
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}.')
        self.counter.set_batch_size(batch_size)
        self.num_images += batch_size

    def report(self, e_mac: float = E_MAC_PJ, e_ac: float = E_AC_PJ) -> dict:
        """Build the report (a JSON-serialisable dict), per image.

        Args:
            e_mac (float): Energy per MAC in pJ. Defaults to 4.6.
            e_ac (float): Energy per AC in pJ. Defaults to 0.9.
        """
        if self.num_images == 0:
            raise RuntimeError('No images were analysed: call begin_batch() '
                               'before each forward inside the context.')
        layers = self._layer_entries(e_mac, e_ac)
        neurons = self._neuron_entries()
        return OrderedDict(
            meta=OrderedDict(
                num_images=self.num_images,
                time_steps=self.num_steps,
                scope=self.scope or '(whole model)',
                spike_chains_as_sops=self.chain,
                e_mac_pj=e_mac,
                e_ac_pj=e_ac,
                units='per image: MACs/FLOPs/SOPs in operations, energy in '
                'mJ',
                notes=list(NOTES)),
            totals=self._totals(layers, e_mac, e_ac),
            stages=self._stage_entries(layers, neurons),
            layers=layers,
            neurons=neurons,
            uncounted=self.counter.uncounted(),
            flags=self._flags(layers, neurons))

    def _layer_entries(self, e_mac: float, e_ac: float) -> List[dict]:
        """Per-image ops and energy of every counted layer."""
        n = self.num_images
        layers = []
        for rec in self.counter.records.values():
            d = rec.to_dict()
            layers.append(
                OrderedDict(
                    name=d['name'],
                    stage=stage_name(rec.name, self.stages),
                    module=d['module'],
                    op=d['op'],
                    input_kind=d['input_kind'],
                    input_rate=d['input_rate'],
                    repeated_over_time=d['repeated_over_time'],
                    in_shape=d['in_shape'],
                    out_shape=d['out_shape'],
                    calls_per_image=d['calls'] / n,
                    macs=d['macs'] / n,
                    flops=d['flops'] / n,
                    sops=d['sops'] / n,
                    energy_mj=(e_mac * d['flops'] + e_ac * d['sops']) / n *
                    PJ_TO_MJ))
        return layers

    def _neuron_entries(self) -> List[dict]:
        """Firing rates of every neuron layer."""
        return [
            OrderedDict(
                name=st['name'],
                stage=stage_name(st['name'], self.stages),
                shape=st['shape'],
                rate=st['rate'],
                rate_per_step=st['rate_per_step'],
                non_binary=st['non_binary'])
            for st in self.recorder.layer_stats()
        ]

    def _stage_entries(self, layers: List[dict],
                       neurons: List[dict]) -> List[dict]:
        """Layers and neurons summed per stage, stages in the order their
        first module ran (stages seen only in the rates come last)."""
        used = {e['stage'] for e in layers + neurons}
        order = []
        for name in self.counter.executed:
            st = stage_name(name, self.stages)
            if st in used and st not in order:
                order.append(st)
        stages: Dict[str, dict] = OrderedDict()

        def entry(name: str) -> dict:
            if name not in stages:
                stages[name] = OrderedDict(
                    stage=name,
                    firing_rate=None,
                    num_neurons=0,
                    num_layers=0,
                    macs=0.,
                    flops=0.,
                    sops=0.,
                    energy_mj=0.)
            return stages[name]

        for name in order:
            entry(name)
        for nr in neurons:
            entry(nr['stage'])['num_neurons'] += 1
        for name, rate in self.recorder.stage_rates(self.stages).items():
            entry(name)['firing_rate'] = rate
        for ly in layers:
            e = entry(ly['stage'])
            e['num_layers'] += 1
            for k in ('macs', 'flops', 'sops', 'energy_mj'):
                e[k] += ly[k]
        return list(stages.values())

    def _totals(self, layers: List[dict], e_mac: float, e_ac: float) -> dict:
        """Whole-model rates, ops and energy per image."""
        flops = sum(ly['flops'] for ly in layers)
        sops = sum(ly['sops'] for ly in layers)
        return OrderedDict(
            firing_rate=self.recorder.mean_rate(),
            firing_rate_per_step=self.recorder.mean_rate_per_step(),
            macs=sum(ly['macs'] for ly in layers),
            flops=flops,
            sops=sops,
            energy_mac_mj=e_mac * flops * PJ_TO_MJ,
            energy_ac_mj=e_ac * sops * PJ_TO_MJ,
            energy_mj=(e_mac * flops + e_ac * sops) * PJ_TO_MJ)

    def _flags(self, layers: List[dict], neurons: List[dict]) -> List[str]:
        """What the reader of the numbers should know."""
        flags = []
        for ly in layers:
            if 'integer' in ly['input_kind']:
                flags.append(
                    f"{ly['name']}: input is integer-valued (summed spikes, "
                    f"mean |x| = {ly['input_rate']:.4f}); counted as |x| "
                    'accumulates per value (not a binary spike-driven op).')
            if '+' in ly['input_kind'] and 'real' in ly['input_kind']:
                flags.append(f"{ly['name']}: input kind changed between "
                             f"calls ({ly['input_kind']}).")
        for nr in neurons:
            if nr['non_binary']:
                flags.append(f"{nr['name']}: neuron output is not binary; "
                             'its firing rate is the mean output value.')
        flags += [f'counting error: {e}' for e in self.counter.errors]
        silent = self.recorder.silent_neurons
        if silent:
            flags.append(f'{len(silent)} neuron(s) never ran (not in the '
                         f'forward path): {", ".join(silent[:5])}'
                         f'{" ..." if len(silent) > 5 else ""}')
        return flags


def _g(x: Optional[float]) -> str:
    return '-' if x is None else f'{x / 1e9:.4g}'


def _r(x: Optional[float]) -> str:
    return '-' if x is None else f'{x:.4f}'


def _layer_cells(ly: dict) -> List[str]:
    kind = ly['input_kind'] + (' (x1 over T)'
                               if ly['repeated_over_time'] else '')
    return [ly['name'], ly['op'], kind, _r(ly['input_rate'])]


def _stage_cells(st: dict) -> List[str]:
    return [
        st['stage'],
        _r(st['firing_rate']),
        str(st['num_neurons']),
        str(st['num_layers'])
    ]


def _op_table(title: str, headers: List[str], entries: List[dict],
              cells: Callable[[dict], List[str]]) -> str:
    """A titled table of layer or stage entries: their own ``cells``, then
    GMACs, GFLOPs, GSOPs and mJ."""
    rows = [
        cells(e) + [
            _g(e['macs']),
            _g(e['flops']),
            _g(e['sops']), f"{e['energy_mj']:.4g}"
        ] for e in entries
    ]
    return f'{title}\n' + _table(headers + ['GMACs', 'GFLOPs', 'GSOPs', 'mJ'],
                                 rows)


def _table(headers: List[str], rows: List[List[str]]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
        for i, h in enumerate(headers)
    ]
    line = '  '.join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, '-' * len(line)]
    for r in rows:
        out.append('  '.join(c.ljust(w) for c, w in zip(r, widths)))
    return '\n'.join(out)


def format_report(report: dict,
                  layers: bool = True,
                  neurons: bool = False) -> str:
    """Human-readable tables of a report from :meth:`EnergyAnalyzer.report`.

    Args:
        report (dict): The report.
        layers (bool): Include the per-layer op table. Defaults to True.
        neurons (bool): Include the per-neuron firing-rate table.
            Defaults to False.
    """
    meta, tot = report['meta'], report['totals']
    parts = [
        f"Images: {meta['num_images']}   T: {meta['time_steps']}   "
        f"scope: {meta['scope']}   chains as SOPs: "
        f"{meta['spike_chains_as_sops']}   "
        f"E_MAC = {meta['e_mac_pj']} pJ, E_AC = {meta['e_ac_pj']} pJ"
    ]
    if layers:
        parts.append(
            _op_table('Per layer (per image)',
                      ['layer', 'op', 'input', 'in rate'], report['layers'],
                      _layer_cells))
    if neurons:
        rows = [[
            nr['name'],
            _r(nr['rate']), ' '.join(f'{r:.3f}' for r in nr['rate_per_step'])
        ] for nr in report['neurons']]
        parts.append('Firing rate per neuron layer\n' +
                     _table(['neuron', 'rate', 'rate per step'], rows))
    parts.append(
        _op_table('Per stage (per image)',
                  ['stage', 'fire rate', 'neurons', 'layers'],
                  report['stages'], _stage_cells))
    per_step = ', '.join(f'{r:.4f}' for r in tot['firing_rate_per_step'])
    parts.append(
        'Totals (per image)\n'
        f"  mean firing rate (all neurons, element-weighted): "
        f"{_r(tot['firing_rate'])}  per step: [{per_step}]\n"
        f"  GFLOPs (real-valued input, x E_MAC): {_g(tot['flops'])}\n"
        f"  GSOPs  (spike input, x E_AC):        {_g(tot['sops'])}\n"
        f"  GMACs  (dense, as executed):         {_g(tot['macs'])}\n"
        f"  energy: {tot['energy_mj']:.4g} mJ = "
        f"{tot['energy_mac_mj']:.4g} (MAC) + {tot['energy_ac_mj']:.4g} (AC)")
    unc = report['uncounted']
    if unc:
        warn = [u for u in unc if u['warn']]
        by_reason: Dict[str, Dict[str, int]] = OrderedDict()
        for u in unc:
            if not u['warn']:
                d = by_reason.setdefault(u['reason'], OrderedDict())
                d[u['type']] = d.get(u['type'], 0) + 1
        lines = ['Not counted']
        for reason, types in by_reason.items():
            t = ', '.join(f'{k} x{v}' for k, v in types.items())
            lines.append(f'  {t}: {reason}')
        for u in warn:
            lines.append(f"  WARNING {u['name']} ({u['type']}): "
                         f"{u['reason']}")
        parts.append('\n'.join(lines))
    if report['flags']:
        parts.append('Flags\n' + '\n'.join(f'  {f}' for f in report['flags']))
    parts.append('Notes\n' + '\n'.join(f'  - {n}' for n in meta['notes']))
    return '\n\n'.join(parts)
