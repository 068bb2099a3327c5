"""Tiny spiking models with hand-set weights, so firing rates are known."""
import torch
import torch.nn as nn

from spikedet.models.spiking import build_neuron, encode_input, seq_apply

# IF neuron, threshold 1, hard reset: input 2 fires at every step, -1 never.
IF_CFG = dict(type='IF')


class ToySNN(nn.Module):
    """Encoding 1x1 conv (3 -> 4, real input) -> IF -> 3x3 conv (4 -> 8,
    padding 1) -> IF -> spike products ``x^T x`` and ``x (x^T x)`` ->
    linear (8 -> 5) on the spatial mean of the spikes.

    ``fire=True`` sets the encoding conv to weight 0 and bias 2, so every
    neuron of the first layer fires at every step; the second conv gets
    weight 0 and bias 2 too. ``fire=False`` uses bias -1: no spike at all.

    Args:
        T (int): Time steps.
        fire (bool): All-spike or no-spike.
    """

    def __init__(self, T: int = 2, fire: bool = True) -> None:
        super().__init__()
        self.T = T
        self.enc = nn.Conv2d(3, 4, 1)
        self.lif1 = build_neuron(IF_CFG)
        self.conv = nn.Conv2d(4, 8, 3, padding=1)
        self.lif2 = build_neuron(IF_CFG)
        self.fc = nn.Linear(8, 5)
        bias = 2. if fire else -1.
        for conv in (self.enc, self.conv):
            nn.init.zeros_(conv.weight)
            nn.init.constant_(conv.bias, bias)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = encode_input(img, self.T)  # [T, B, 3, H, W]
        x = self.lif1(seq_apply(self.enc, x))
        x = self.lif2(seq_apply(self.conv, x))  # [T, B, 8, H, W]
        tokens = x.flatten(3).transpose(-1, -2)  # [T, B, N, 8]
        kv = tokens.transpose(-2, -1) @ tokens  # [T, B, 8, 8]
        y = tokens @ kv  # [T, B, N, 8]
        # Real-valued (x.5) and the same at every step: one dense fc.
        return self.fc(y.mean(2) + 0.5).mean(0)


def toy_counts(B: int, T: int, H: int, W: int, rate: float) -> dict:
    """Hand count for :class:`ToySNN` (rate = firing rate of both neuron
    layers, 1 or 0), per image."""
    N = H * W
    enc_macs = N * 4 * 3  # per frame
    conv_macs = N * 8 * 4 * 9
    kv_macs = 8 * 8 * N
    y_macs = N * 8 * 8
    fc_macs = 8 * 5
    return dict(
        # Real inputs repeated over T (the image, the fc input) count once.
        flops=enc_macs + fc_macs,
        sops=T * rate * (conv_macs + kv_macs + y_macs),
        macs=T * (enc_macs + conv_macs + kv_macs + y_macs + fc_macs))
