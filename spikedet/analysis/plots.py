"""Plots of spiking activity: firing rate per layer and spike maps."""
import math
from typing import Dict, List, Optional, Sequence

import torch


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')  # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


def plot_firing_rates(neurons: List[dict],
                      out_file: str,
                      title: Optional[str] = None) -> str:
    """Bar chart of the firing rate of every neuron layer, one bar per time
    step.

    Args:
        neurons (list[dict]): ``report['neurons']`` of
            :meth:`~spikedet.analysis.energy.EnergyAnalyzer.report` (each
            with ``name`` and ``rate_per_step``).
        out_file (str): PNG path.
        title (str, optional): Figure title. Defaults to None.

    Returns:
        str: ``out_file``.
    """
    if not neurons:
        raise ValueError('No neuron layer was recorded: nothing to plot.')
    plt = _pyplot()
    names = [n['name'] for n in neurons]
    T = max(len(n['rate_per_step']) for n in neurons)
    width = 0.8 / T
    fig_w = min(max(6., 0.22 * len(names) * max(1, T / 2) + 2), 60.)
    fig, ax = plt.subplots(figsize=(fig_w, 4.5))
    for t in range(T):
        xs = [i + (t - (T - 1) / 2) * width for i in range(len(names))]
        ys = [
            n['rate_per_step'][t] if t < len(n['rate_per_step']) else 0.
            for n in neurons
        ]
        ax.bar(xs, ys, width=width, label=f't={t}')
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=6)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel('firing rate')
    ax.set_title(title or 'Firing rate per neuron layer and time step')
    if T > 1:
        ax.legend(fontsize=7, ncol=min(T, 8))
    fig.tight_layout()
    fig.savefig(out_file, dpi=120)
    plt.close(fig)
    return out_file


def plot_spike_maps(maps: Dict[str, torch.Tensor],
                    out_file: str,
                    image: Optional[torch.Tensor] = None,
                    channels: Sequence[int] = (),
                    title: Optional[str] = None) -> str:
    """Spike maps of chosen neuron layers for one input image.

    Each row is a layer, each column a time step; a cell shows the fraction
    of channels that spike at each position (``channels=()``), or the spikes
    of the given channels, one row per channel.

    Args:
        maps (dict[str, Tensor]): Layer name to its spikes for one image,
            ``[T, C, H, W]`` (``FiringRateRecorder.maps``).
        out_file (str): PNG path.
        image (Tensor, optional): The input image ``[3, H, W]`` (any range)
            shown in the first column. Defaults to None.
        channels (Sequence[int]): Channels to show instead of the channel
            mean. Defaults to ``()``.
        title (str, optional): Figure title. Defaults to None.

    Returns:
        str: ``out_file``.
    """
    rows = []  # (label, [T, H, W])
    for name, m in maps.items():
        if m.dim() != 4:
            raise ValueError(f"Spike map of '{name}' has shape "
                             f'{tuple(m.shape)}; expected [T, C, H, W] (a '
                             'layer with a spatial output).')
        if channels:
            bad = [c for c in channels if not 0 <= c < m.shape[1]]
            if bad:
                raise IndexError(f"'{name}' has {m.shape[1]} channels; "
                                 f'cannot show channels {bad}.')
            for c in channels:
                rows.append((f'{name} [ch {c}]', m[:, c]))
        else:
            rows.append((f'{name} [mean over {m.shape[1]} ch]', m.mean(1)))
    if not rows:
        raise ValueError('No spike map was recorded: choose layers with '
                         'a spatial output (e.g. "backbone.stages.0.*").')
    plt = _pyplot()
    T = max(r[1].shape[0] for r in rows)
    cols = T + (1 if image is not None else 0)
    fig, axes = plt.subplots(
        len(rows), cols, figsize=(2.4 * cols, 2.5 * len(rows)), squeeze=False)
    for i, (label, m) in enumerate(rows):
        c0 = 0
        if image is not None:
            ax = axes[i][0]
            if i == 0:
                img = image.detach().float().cpu()
                img = (img - img.min()) / (img.max() - img.min() + 1e-12)
                ax.imshow(
                    img.permute(1, 2, 0).numpy()
                    if img.shape[0] == 3 else img[0].numpy(),
                    cmap=None if img.shape[0] == 3 else 'gray')
                ax.set_title('input', fontsize=7)
            ax.axis('off')
            c0 = 1
        # Channel means are scaled to the row's maximum so that sparse
        # activity stays visible; single channels are shown as 0/1.
        vmax = 1. if channels else max(float(m.max()), 1e-6)
        for t in range(T):
            ax = axes[i][c0 + t]
            ax.set_xticks([])
            ax.set_yticks([])
            if t >= m.shape[0]:
                continue
            ax.imshow(
                m[t].numpy(),
                cmap='magma',
                vmin=0,
                vmax=vmax,
                interpolation='nearest')
            head = f'{label}\n' if t == 0 else '\n'
            scale = '' if channels else f' (max {vmax:.2f})'
            ax.set_title(
                f'{head}t={t} rate={float(m[t].mean()):.3f}'
                f'{scale if t == 0 else ""}',
                fontsize=6,
                loc='left')
    fig.suptitle(title or 'Spike maps (first image)', fontsize=9)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def default_map_layers(neuron_names: Sequence[str],
                       stage_of,
                       max_layers: int = 6) -> List[str]:
    """The first neuron of each stage, at most ``max_layers`` of them."""
    seen, picked = set(), []
    for n in neuron_names:
        st = stage_of(n)
        if st not in seen:
            seen.add(st)
            picked.append(n)
    if len(picked) > max_layers:
        step = len(picked) / max_layers
        picked = [picked[math.floor(i * step)] for i in range(max_layers)]
    return picked
