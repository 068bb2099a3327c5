"""Deploy mode: re-parameterise a trained spiking model for inference.

The OpenMMLab way (mmpretrain's RepVGG and MobileOne): a model is trained
as usual, then ``switch_to_deploy()`` rewrites it into an equivalent,
cheaper inference model, and a config can build that deploy model directly
(``deploy=True``) to load a deploy checkpoint. The rewriting here:

* every BatchNorm is folded into the conv (or transposed conv) registered
  right before it in the same parent module, BN chains included
  (``conv -> BN -> BN`` gives one biased conv);
* a BN that pads its output with ``BN(0)`` (Meta-SpikeFormer's RepConv,
  ``1x1 conv -> BN + pad -> 3x3 depthwise``) becomes a zero-padded biased
  1x1 conv: padding the input with zeros makes the 1x1 conv put its bias,
  which is ``BN(0)``, on the border;
* every spiking neuron is wrapped in :class:`ThresholdNeuron`: a single time
  step from the resting state needs no loop and no state, only the first
  charge and the threshold (longer sequences still run the neuron).

The folded model gives the outputs of the eval-mode model (the same spikes;
membrane potentials equal up to float rounding). It is for inference only:
putting it in training mode or back-propagating through it is an error.

The rewriting relies on one convention of spikedet's layers: a BN that
follows a conv in the data flow is registered right after that conv in the
same module (as in mmcv's :func:`mmcv.cnn.fuse_conv_bn`). A BN without such
a conv is an error, never silently left or misfolded.
"""
import inspect
import math
from functools import partial
from typing import Any, Optional

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.conv import _ConvNd, _ConvTransposeNd
from torch.nn.utils.fusion import fuse_conv_bn_weights

from .neuron import SpikingNeuron

DEPLOY_TRAIN_ERROR = (
    '{name} was switched to deploy mode (switch_to_deploy() or deploy=True): '
    'its BatchNorms are folded and it is for inference only. Train the '
    'original (non-deploy) model and re-parameterise it after training '
    '(tools/model_converters/reparameterize_model.py).')


class ThresholdNeuron(nn.Module):
    """Deploy form of a spiking neuron.

    For one time step from the resting state a neuron charges once and fires
    if its membrane reaches the threshold, so the whole neuron is a
    threshold on its input. The charge is computed as spikingjelly computes
    its first step, so the spikes are identical: with ``v_reset`` ``r`` (0
    for a soft reset), LIF (``decay_input``) gives ``v = r + x / tau``,
    PLIF ``v = r + x * sigmoid(w)`` and IF ``v = r + x``; the spike is
    ``v >= v_threshold``. Inputs with more than one time step run the
    wrapped neuron.

    Args:
        neuron (SpikingNeuron): The neuron it replaces (kept for ``T > 1``
            and for PLIF's learnt time constant).
    """

    def __init__(self, neuron: SpikingNeuron) -> None:
        super().__init__()
        cfg = neuron.cfg
        if cfg['type'] not in ('LIF', 'PLIF', 'IF'):
            raise NotImplementedError(
                f"No deploy form for neuron type {cfg['type']!r}; "
                "supported: 'LIF', 'PLIF', 'IF'.")
        self.neuron = neuron
        self.type = cfg['type']
        self.tau = float(cfg['tau']) if cfg['type'] == 'LIF' else None
        self.v_threshold = float(cfg['v_threshold'])
        self.v_reset = cfg['v_reset']
        # Without a resting offset, ``x / tau >= v_th`` is exactly
        # ``x >= v_th * tau`` when tau is a power of two (dividing by it only
        # shifts the exponent; inputs so small that the quotient would lose
        # bits are far below any threshold): one comparison, no division.
        self.input_threshold = None
        if not self.v_reset and self.v_threshold > 0:
            if self.type == 'IF':
                self.input_threshold = self.v_threshold
            elif self.type == 'LIF' and math.frexp(self.tau)[0] == 0.5:
                self.input_threshold = self.v_threshold * self.tau

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() < 2 or x.shape[0] != 1:
            return self.neuron(x)
        # Comparing straight into a tensor of the input's dtype: one pass.
        spikes = torch.empty_like(x)
        if self.input_threshold is not None:
            return torch.ge(x, self.input_threshold, out=spikes)
        if self.type == 'LIF':
            v = x / self.tau
        elif self.type == 'PLIF':
            v = x * self.neuron.node.w.sigmoid()
        else:
            v = x
        if self.v_reset:  # a non-zero resting potential
            v = v + self.v_reset
        return torch.ge(v, self.v_threshold, out=spikes)

    def extra_repr(self) -> str:
        return (f'type={self.type}, tau={self.tau}, '
                f'v_threshold={self.v_threshold}, v_reset={self.v_reset}')


class _InferenceOnly(torch.autograd.Function):
    """Identity whose backward is an error (guards deploy outputs)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, name: str) -> torch.Tensor:
        ctx.name = name
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        raise RuntimeError(DEPLOY_TRAIN_ERROR.format(name=ctx.name))


def _guard_outputs(out: Any, name: str) -> Any:
    if isinstance(out, torch.Tensor):
        return _InferenceOnly.apply(out, name) if out.requires_grad else out
    if isinstance(out, (tuple, list)):
        return type(out)(_guard_outputs(o, name) for o in out)
    return out


def _fold_bn(conv: _ConvNd, bn: _BatchNorm, name: str) -> None:
    """Fold ``bn`` (eval-mode statistics) into ``conv`` in place, in
    float64, so the folded float32 weights are the closest to exact."""
    if bn.running_mean is None:
        raise RuntimeError(
            f'Cannot fold {name}: it has no running statistics '
            '(track_running_stats=False), so eval mode normalises with batch '
            'statistics and no conv can replace it.')
    transpose = isinstance(conv, _ConvTransposeNd)
    if transpose and conv.groups != 1:
        raise NotImplementedError(
            f'Folding {name} into a grouped transposed conv is not supported.')

    def f64(t: Optional[torch.Tensor]) -> Optional[torch.Tensor]:
        return None if t is None else t.detach().double()

    w, b = fuse_conv_bn_weights(
        f64(conv.weight), f64(conv.bias), f64(bn.running_mean),
        f64(bn.running_var), bn.eps, f64(bn.weight), f64(bn.bias), transpose)
    conv.weight = nn.Parameter(w.to(conv.weight.dtype))
    conv.bias = nn.Parameter(b.to(conv.weight.dtype))


def _check_conv_module(module: ConvModule, name: str) -> None:
    order = tuple(module.order)
    if module.with_norm and order.index('norm') != order.index('conv') + 1:
        raise NotImplementedError(
            f"Cannot fold the norm of {name}: its order {order} does not "
            "put the norm right after the conv; use order=('conv', 'norm', "
            "'act').")


def _reparameterize(parent: nn.Module, prefix: str) -> None:
    if isinstance(parent, ConvModule):
        _check_conv_module(parent, prefix.rstrip('.') or 'the module')
    conv_name = None
    for name, child in list(parent.named_children()):
        qual = prefix + name
        if isinstance(child, _BatchNorm):
            if conv_name is None:
                raise RuntimeError(
                    f'Cannot fold BatchNorm {qual}: no conv is registered '
                    f'right before it in {type(parent).__name__}. Register '
                    'the conv that feeds a BN just before the BN, or give '
                    'the module its own switch_to_deploy().')
            conv = parent._modules[conv_name]
            pad = getattr(child, 'deploy_pad', 0)
            if pad:
                if (tuple(conv.kernel_size) != (1, 1)
                        or tuple(conv.stride) != (1, 1)
                        or tuple(conv.padding) != (0, 0)
                        or conv.padding_mode != 'zeros'):
                    raise NotImplementedError(
                        f'{qual} pads with BN(0); it can only fold into a '
                        'preceding unpadded stride-1 1x1 conv, got '
                        f'{conv}.')
                conv.padding = (pad, pad)
            _fold_bn(conv, child, qual)
            parent._modules[name] = nn.Identity()
        elif isinstance(child, _ConvNd):
            conv_name = name
        else:
            conv_name = None
            if isinstance(child, SpikingNeuron):
                parent._modules[name] = ThresholdNeuron(child)
            elif not isinstance(child, ThresholdNeuron):
                _reparameterize(child, qual + '.')


def _deploy_train(module: nn.Module, mode: bool = True) -> nn.Module:
    if mode:
        raise RuntimeError(
            DEPLOY_TRAIN_ERROR.format(name=type(module).__name__))
    return type(module).train(module, False)


def _forbid_training(module: nn.Module, args: tuple) -> None:
    if module.training:
        raise RuntimeError(
            DEPLOY_TRAIN_ERROR.format(name=type(module).__name__))


def _guard_hook(module: nn.Module, args: tuple, out: Any) -> Any:
    if torch.is_grad_enabled():
        return _guard_outputs(out, type(module).__name__)
    return out


def reparameterize(module: nn.Module, check_eval: bool = True) -> nn.Module:
    """Switch ``module`` to deploy mode in place (see the module docstring).

    Afterwards ``module.deploy`` is True, no BatchNorm is left, every
    spiking neuron is a :class:`ThresholdNeuron`, ``module.train()`` and
    back-propagation through its outputs raise errors. A second call does
    nothing.

    Args:
        module (nn.Module): The model or sub-model.
        check_eval (bool): Require eval mode (BN folding uses the running
            statistics that eval mode uses). False only for building a
            deploy model to load deploy weights into. Defaults to True.

    Returns:
        nn.Module: ``module``.
    """
    if getattr(module, '_reparameterized', False):
        return module
    if check_eval and any(m.training for m in module.modules()):
        raise RuntimeError(
            f'switch_to_deploy() on {type(module).__name__} in training mode:'
            ' folding BatchNorm uses its running statistics, which only eval '
            'mode uses. Call model.eval() first.')
    _reparameterize(module, '')
    module.deploy = True
    module._reparameterized = True
    # Inference only: no training mode, no backward.
    module.train = partial(_deploy_train, module)
    module.eval()
    module.register_forward_pre_hook(_forbid_training)
    module.register_forward_hook(_guard_hook)
    return module


class DeployMixin:
    """Gives a spiking module ``switch_to_deploy()``, the method mmpretrain's
    RepVGG and MobileOne offer: see :func:`reparameterize`."""

    def switch_to_deploy(self) -> None:
        """Re-parameterise for inference: fold every BN into its conv and
        turn each neuron into a threshold for one time step. Needs eval
        mode; the result is inference-only."""
        reparameterize(self)


def init_accepts(module_type: type, arg: str) -> bool:
    """Whether a class's constructor takes ``arg``: its own ``__init__`` or,
    through ``**kwargs``, one of its bases'."""
    for klass in module_type.__mro__:
        if '__init__' in vars(klass) and arg in inspect.signature(
                klass.__init__).parameters:
            return True
    return False


def supports_deploy(module_type: type) -> bool:
    """Whether a model class takes a ``deploy`` argument."""
    return init_accepts(module_type, 'deploy')


def switch_model_to_deploy(model: nn.Module) -> nn.Module:
    """Call ``switch_to_deploy()`` on every outermost sub-module that has
    one (backbone, necks, heads), as mmpretrain's converter does for its
    backbone.

    Args:
        model (nn.Module): A whole model in eval mode.

    Returns:
        nn.Module: ``model``.
    """
    if hasattr(model, 'switch_to_deploy'):
        model.switch_to_deploy()
        return model
    switched = []
    for name, m in model.named_modules():
        if any(name.startswith(s + '.') for s in switched):
            continue
        if hasattr(m, 'switch_to_deploy'):
            m.switch_to_deploy()
            switched.append(name)
    if not switched:
        raise ValueError(f'{type(model).__name__} has no module with '
                         'switch_to_deploy(); nothing to re-parameterise.')
    return model
