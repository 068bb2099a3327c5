"""Counting MACs and synaptic operations (SOPs) of a forward pass.

How counting works:

* Every convolution, transposed convolution, linear layer and matrix product
  that the model runs is intercepted at the function level (a
  :class:`torch.overrides.TorchFunctionMode`), so layers called through
  :func:`~spikedet.models.spiking.seq_apply` (which merges ``T`` and ``B``
  into one batch axis, ``[T*B, C, H, W]``) and matmuls written as ``q @ k``
  inside attention modules are all seen. Each op is attributed to the
  innermost module running it (forward pre/post hooks keep a module stack).
* MACs are exact from shapes: ``out.numel() * C_in/groups * prod(kernel)``
  for a convolution, ``in.numel() * C_out/groups * prod(kernel)`` for a
  transposed one (every input element is scattered to that many outputs;
  outputs cropped away by padding are included), ``out.numel() *
  in_features`` for a linear layer and ``out.numel() * k`` for a product of
  ``[.., n, k] @ [.., k, m]``. Because ``T`` and ``B`` are merged into the
  batch axis, a count over the layer's input already includes every time
  step, so ``T`` never has to be recovered for SOPs.
* The input decides what an op costs. Its values are inspected on every
  call:

  - ``spike``: all values in {0, 1}. ``SOPs = MACs * rate`` where ``rate``
    is the fraction of non-zero inputs: the papers' ``FLOPs x fr x T``,
    with ``T`` inside the merged batch.
  - ``integer``: integer values beyond {0, 1}, at most
    :data:`MAX_SPIKE_COUNT` (e.g. Spikformer adds spike maps, giving
    {0, 1, 2, ...}); larger integers (raw pixels) are ``real``. A value
    ``k`` is ``|k|`` accumulations, so ``SOPs = MACs * mean(|x|)``. Such
    layers are flagged in the output.
  - ``real``: anything else (the image into the encoding conv, ANN heads).
    Counted as dense MACs ("FLOPs" in
    the papers' sense, 1 MAC = 1 FLOP), costed with ``E_MAC``. When such an
    input is the same frame repeated over the ``T`` time steps (direct
    encoding of a static image), it is counted once per image, as the
    papers count the encoding layer (any real input that is identical at
    every step, ``[T*B, ...]`` or ``[T, B, ...]``, is counted once).

  For a matmul the left operand decides (the one whose non-zeros select
  rows to accumulate); if it is real-valued and the right one is not, the
  right one decides.
* Linear chains: a real-valued input that is a *linear* function of a spike
  tensor, with no neuron in between (Meta-SpikeFormer's ``RepConvBN``:
  1x1 conv -> BN -> 3x3 depthwise -> 1x1 conv, and the depthwise -> 1x1
  pair of ``SepConv``), is tagged ``spike-chain`` and, with ``chain=True``
  (default), counted as SOPs at the firing rate of the chain's spike input:
  the chain is one spike-driven layer once re-parameterised, which is how
  the papers count every conv after the encoding layer. The tag follows
  convs, linears, matmuls, BatchNorm, padding, reshapes and scaling by a
  constant; any other op (an addition of two tensors, a neuron) drops it,
  and it only counts for ops of modules that are siblings of the one that
  consumed the spikes (the layers of one RepConvBN or SepConv), so an ANN
  head fed by a spiking neck stays an ANN (MAC) layer.
  With ``chain=False`` such inputs count as MACs, as executed.
  BatchNorm itself is not counted (it folds into the preceding conv at
  inference, as the papers count).
* Nothing is skipped silently: executed modules with parameters on which no
  op was counted, and known heavy functions that are not counted (einsum,
  fused attention, ...), are listed in :meth:`OpCounter.uncounted`.
"""
import weakref
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from spikedet.models.spiking import SpikingNeuron
from .firing import in_scope

_CONV = {F.conv1d: 'conv1d', F.conv2d: 'conv2d', F.conv3d: 'conv3d'}
_CONVT = {
    F.conv_transpose1d: 'conv_transpose1d',
    F.conv_transpose2d: 'conv_transpose2d',
    F.conv_transpose3d: 'conv_transpose3d'
}
_LINEAR = {F.linear: 'linear'}
_MATMUL = {
    torch.matmul: 'matmul',
    torch.Tensor.matmul: 'matmul',
    torch.Tensor.__matmul__: 'matmul',
    torch.mm: 'matmul',
    torch.Tensor.mm: 'matmul',
    torch.bmm: 'matmul',
    torch.Tensor.bmm: 'matmul',
}
# (input, a, b): the product is a @ b.
_ADDMM = {
    torch.addmm: 'matmul',
    torch.Tensor.addmm: 'matmul',
    torch.baddbmm: 'matmul',
    torch.Tensor.baddbmm: 'matmul',
}
_RMATMUL = {torch.Tensor.__rmatmul__: 'matmul'}
#: Heavy functions that are seen but not counted: always reported.
_NOT_COUNTED = {
    torch.einsum: 'einsum',
    torch.tensordot: 'tensordot',
    F.bilinear: 'bilinear',
    torch.addbmm: 'addbmm',
    torch.mv: 'mv',
    torch.Tensor.mv: 'mv',
}
for _fn_name in ('scaled_dot_product_attention', ):
    if hasattr(F, _fn_name):
        _NOT_COUNTED[getattr(F, _fn_name)] = _fn_name
if hasattr(torch, '_native_multi_head_attention'):
    _NOT_COUNTED[torch._native_multi_head_attention] = \
        'native_multi_head_attention'

_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
          nn.modules.instancenorm._InstanceNorm, nn.LocalResponseNorm)
_MODULE_OPS = (nn.modules.conv._ConvNd, nn.Linear)

#: Why executed modules without counted ops were not counted, by type.
_NOT_COUNTED_BY_DESIGN = (
    (_NORMS, 'normalization: not counted (BN folds into the preceding '
     'conv at inference)'),
    ((SpikingNeuron, ), 'spiking neuron: membrane updates not counted (as '
     'in the papers); its firing rate is recorded'),
    ((nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
      nn.modules.pooling._AdaptiveAvgPoolNd,
      nn.modules.pooling._AdaptiveMaxPoolNd), 'pooling: no MAC/AC counted'),
    ((nn.Upsample, ), 'resampling: no MAC/AC counted'),
    ((nn.ReLU, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU,
      nn.Hardswish, nn.ReLU6), 'activation: not counted'),
    ((nn.modules.dropout._DropoutNd, nn.Identity),
     'identity/dropout at inference'),
)

#: Largest value an integer-valued input may hold to count as summed
#: spikes; above it (e.g. raw 8-bit pixels) the input is real-valued.
MAX_SPIKE_COUNT = 64


def classify_input(x: torch.Tensor) -> Tuple[str, float, int]:
    """Classify an op input as ``'spike'`` (values in {0, 1}),
    ``'integer'`` (integers with ``|x| <= MAX_SPIKE_COUNT``: summed spikes)
    or ``'real'`` (anything else, including raw 8-bit pixels).

    Returns:
        tuple: ``(kind, abs_sum, numel)``; ``abs_sum`` (the sum of ``|x|``,
        i.e. the number of spikes for binary input) is only meaningful for
        ``'spike'`` and ``'integer'``.
    """
    x = x.detach()
    numel = x.numel()
    if numel == 0:
        return 'spike', 0., 0
    if x.dtype == torch.bool:
        return 'spike', float(x.sum()), numel
    if x.is_floating_point() or x.is_complex():
        if not bool(torch.equal(x, torch.round(x))):
            return 'real', 0., numel
    ax = x.abs()
    amax = float(ax.max())
    if amax > MAX_SPIKE_COUNT:
        return 'real', 0., numel
    kind = 'spike' if amax <= 1 and bool(x.min() >= 0) else 'integer'
    return kind, float(ax.sum(dtype=torch.float64)), numel


class OpRecord:
    """Everything counted for one layer (or one matmul site) of a model.

    Attributes:
        name (str): Module name, with ``.matmulK`` etc. for function-level
            ops of a module that is not itself a conv/linear layer.
        module (str): Module class name.
        op (str): ``'conv2d'``, ``'conv_transpose2d'``, ``'linear'``,
            ``'matmul'``, ...
        calls (int): How often it ran.
        kinds (set): Input kinds seen: ``spike``, ``integer``,
            ``spike-chain``, ``real``.
        macs (float): Dense MACs as executed (all calls).
        sops (float): Synaptic operations (accumulates) of the calls with
            spike/integer/spike-chain input.
        flops (float): MACs of the calls with real input (counted once per
            image when the frame is repeated over time).
        in_abs_sum (float), in_numel (int): For the mean input rate of the
            SOP calls (for a chain: of the chain's spike input).
        repeated (bool): A real input was a frame repeated over time and
            was counted once.
        in_shape, out_shape (list): Shapes seen on the first call.
    """

    def __init__(self, name: str, module: str, op: str) -> None:
        self.name, self.module, self.op = name, module, op
        self.calls = 0
        self.kinds = set()
        self.macs = self.sops = self.flops = 0.
        self.in_abs_sum, self.in_numel = 0., 0.
        self.repeated = False
        self.in_shape: List[int] = []
        self.out_shape: List[int] = []

    @property
    def in_rate(self) -> Optional[float]:
        """Mean of ``|input|`` over the SOP calls (for binary inputs: the
        firing rate of the input). None if there were none."""
        return self.in_abs_sum / self.in_numel if self.in_numel else None

    def to_dict(self) -> dict:
        return dict(
            name=self.name,
            module=self.module,
            op=self.op,
            calls=self.calls,
            input_kind='+'.join(sorted(self.kinds)),
            input_rate=self.in_rate,
            repeated_over_time=self.repeated,
            in_shape=self.in_shape,
            out_shape=self.out_shape,
            macs=self.macs,
            sops=self.sops,
            flops=self.flops)


#: Ops through which a ``spike-chain`` tag is passed on (linear in the
#: tensor; ``mul``/``div`` only by a Python number).
_CHAIN_OPS = {
    'batch_norm', 'pad', 'flatten', 'reshape', 'view', 'transpose', 'permute',
    'contiguous', '__getitem__', 'unsqueeze', 'squeeze', 'clone', 'expand',
    't', 'to', 'float', 'unflatten'
}
_SCALE_OPS = {'mul', '__mul__', '__rmul__', 'div', '__truediv__'}


class _CountMode(TorchFunctionMode):

    def __init__(self, counter: 'OpCounter') -> None:
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        try:
            self.counter._on_function(func, args, kwargs, out)
        except Exception as e:  # never let counting break a forward
            self.counter.errors.append(f'{getattr(func, "__name__", func)}: '
                                       f'{type(e).__name__}: {e}')
        return out


class OpCounter:
    """Count MACs, SOPs and FLOPs of every forward run inside its context.

    Args:
        model (nn.Module): The model.
        num_steps (int, optional): Time steps ``T``; only used to recognise
            a real-valued input that is one frame repeated ``T`` times
            (counted once). Defaults to None (never de-duplicate).
        scope (str, optional): Only count ops of modules inside this one
            (e.g. ``'backbone'``). Defaults to None (whole model).
        chain (bool): Count real-valued inputs that are linear in a spike
            tensor (``spike-chain``) as SOPs at that tensor's rate; else as
            MACs. Defaults to True.

    Call :meth:`set_batch_size` before each forward (the number of images
    in it) so repeated frames can be recognised. Totals in
    :attr:`records` are sums over all forwards; divide by the number of
    images for per-image figures.
    """

    def __init__(self,
                 model: nn.Module,
                 num_steps: Optional[int] = None,
                 scope: Optional[str] = None,
                 chain: bool = True) -> None:
        self.model = model
        self.num_steps = num_steps
        self.scope = scope
        self.chain = chain
        self.batch_size: Optional[int] = None
        self.records: Dict[str, OpRecord] = OrderedDict()
        self.not_counted_calls: Dict[Tuple[str, str], int] = OrderedDict()
        self.errors: List[str] = []
        self.executed: Dict[str, nn.Module] = OrderedDict()
        self._stack: List[Tuple[str, nn.Module]] = []
        self._op_index: Dict[str, int] = {}
        self._counted_modules: set = set()
        # id(tensor) -> (weakref to it, (abs_sum, numel, parent module name)
        # of the spike source)
        self._tags: Dict[int, Tuple[weakref.ref, tuple]] = {}
        self._handles: List = []
        self._mode: Optional[_CountMode] = None

    # -- context --------------------------------------------------------------
    def set_batch_size(self, batch_size: int) -> None:
        """Number of images in the next forward."""
        self.batch_size = int(batch_size)
        self._tags.clear()

    def __enter__(self) -> 'OpCounter':
        for name, m in self.model.named_modules():
            self._handles.append(
                m.register_forward_pre_hook(self._pre_hook(name)))
            self._handles.append(
                m.register_forward_hook(
                    self._post_hook(name), always_call=True))
        self._mode = _CountMode(self)
        self._mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._mode is not None:
            self._mode.__exit__(*exc)
            self._mode = None
        for h in self._handles:
            h.remove()
        self._handles = []
        self._stack = []
        self._tags.clear()

    # -- module stack -------------------------------------------------------
    def _pre_hook(self, name: str):

        def hook(module, inputs):
            self._stack.append((name, module))
            self._op_index[name] = 0
            self.executed.setdefault(name, module)

        return hook

    def _post_hook(self, name: str):

        def hook(module, inputs, output):
            if self._stack and self._stack[-1][0] == name:
                self._stack.pop()

        return hook

    def _current(self) -> Tuple[str, nn.Module]:
        return self._stack[-1] if self._stack else ('', self.model)

    # -- spike-chain tags -----------------------------------------------------
    def _get_tag(self, x) -> Optional[tuple]:
        if not isinstance(x, torch.Tensor):
            return None
        entry = self._tags.get(id(x))
        if entry is None or entry[0]() is not x:
            return None
        return entry[1]

    def _set_tag(self, out, tag) -> None:
        outs = out if isinstance(out, (tuple, list)) else (out, )
        for o in outs:
            if isinstance(o, torch.Tensor):
                self._tags[id(o)] = (weakref.ref(o), tag)
        if len(self._tags) > 100000:  # drop entries of freed tensors
            self._tags = {
                k: v
                for k, v in self._tags.items() if v[0]() is not None
            }

    # -- functions ------------------------------------------------------------
    def _on_function(self, func, args, kwargs, out) -> None:
        if func in _NOT_COUNTED:
            name, _ = self._current()
            if in_scope(name, self.scope):
                key = (name, _NOT_COUNTED[func])
                self.not_counted_calls[key] = \
                    self.not_counted_calls.get(key, 0) + 1
            return
        if func in _CONV or func in _CONVT or func in _LINEAR:
            x = args[0] if args else kwargs['input']
            w = args[1] if len(args) > 1 else kwargs['weight']
            if func in _CONVT:
                op = _CONVT[func]
                macs = float(x.numel()) * w[0].numel()
            else:
                op = _CONV.get(func) or _LINEAR[func]
                macs = float(out.numel()) * w[0].numel()
            self._count(op, macs, x, out)
            return
        if func in _MATMUL or func in _ADDMM or func in _RMATMUL:
            if func in _ADDMM:
                a, b = args[1], args[2]
            elif func in _RMATMUL:
                b, a = args[0], args[1]
            else:
                a, b = args[0], args[1]
            macs = float(out.numel()) * a.shape[-1]
            self._count('matmul', macs, a, out, alt=b)
            return
        if not self.chain or not self._tags or not args:
            return
        fname = getattr(func, '__name__', '')
        tag = self._get_tag(args[0])
        if tag is None:
            return
        if fname in _CHAIN_OPS:
            self._set_tag(out, tag)
        elif fname in _SCALE_OPS and len(args) > 1 and isinstance(
                args[1], (int, float)):
            self._set_tag(out, tag)

    def _classify(self, x, parent: str) -> Tuple[str, float, float]:
        kind, abs_sum, numel = classify_input(x)
        if kind == 'real' and self.chain:
            tag = self._get_tag(x)
            if tag is not None and tag[2] == parent:
                # Rate of the chain's source, applied to this op's input size.
                return 'spike-chain', tag[0] / tag[1] * numel, numel
        return kind, abs_sum, numel

    def _count(self, op, macs, x, out, alt=None) -> None:
        name, module = self._current()
        parent = name.rsplit('.', 1)[0] if '.' in name else ''
        kind, abs_sum, numel = self._classify(x, parent)
        if kind == 'real' and alt is not None:
            alt_kind, alt_sum, alt_numel = self._classify(alt, parent)
            if alt_kind != 'real':
                kind, abs_sum, numel = alt_kind, alt_sum, alt_numel
        if kind != 'real' and self.chain:
            # The output is linear in a spike tensor: pass the rate on.
            self._set_tag(out, (abs_sum, numel, parent))
        if not in_scope(name, self.scope):
            return
        self._counted_modules.add(name)
        idx = self._op_index.get(name, 0)
        self._op_index[name] = idx + 1
        if not (isinstance(module, _MODULE_OPS) and idx == 0):
            name = f'{name}.{op}{idx}' if name else f'{op}{idx}'
        rec = self.records.get(name)
        if rec is None:
            rec = self.records[name] = OpRecord(name,
                                                type(module).__name__, op)
            rec.in_shape = list(x.shape)
            rec.out_shape = list(out.shape)
        rec.calls += 1
        rec.kinds.add(kind)
        rec.macs += macs
        if kind == 'real':
            if self._repeated_over_time(x):
                rec.repeated = True
                macs = macs / self.num_steps
            rec.flops += macs
        else:
            rec.sops += macs * abs_sum / numel if numel else 0.
            rec.in_abs_sum += abs_sum
            rec.in_numel += numel

    def _repeated_over_time(self, x: torch.Tensor) -> bool:
        """Whether ``x`` (``[T*B, ...]`` or time-major ``[T, B, ...]``) is
        the same at every time step."""
        T, B = self.num_steps, self.batch_size
        if not T or T < 2 or not B or x.dim() < 2:
            return False
        if x.shape[0] == T * B:
            frames = x.detach().reshape(T, B, -1)
        elif x.shape[0] == T and x.shape[1] == B:
            frames = x.detach().reshape(T, -1)
        else:
            return False
        return all(torch.equal(frames[t], frames[0]) for t in range(1, T))

    # -- results --------------------------------------------------------------
    def uncounted(self) -> List[dict]:
        """Executed modules and functions on which nothing was counted, each
        ``dict(name, type, reason, warn)``; ``warn`` marks the ones that do
        compute something (modules with parameters, heavy functions)."""
        neurons = [
            n for n, m in self.executed.items()
            if isinstance(m, SpikingNeuron)
        ]
        result = []
        for name, m in self.executed.items():
            if (not in_scope(name, self.scope) or name in self._counted_modules
                    or any(name.startswith(n + '.') for n in neurons)):
                continue
            reason, warn = None, False
            for types, why in _NOT_COUNTED_BY_DESIGN:
                if isinstance(m, types):
                    reason = why
                    break
            if reason is None:
                if any(True for _ in m.parameters(recurse=False)):
                    reason = ('HAS PARAMETERS BUT NO COUNTED OP: its '
                              'computation is not in the totals')
                    warn = True
                elif not any(True for _ in m.children()):
                    reason = 'no MAC/AC counted (not a conv/linear/matmul)'
                else:
                    continue  # containers: their children are listed
            result.append(
                dict(
                    name=name or '(model)',
                    type=type(m).__name__,
                    reason=reason,
                    warn=warn))
        for (name, fn), calls in self.not_counted_calls.items():
            result.append(
                dict(
                    name=name or '(model)',
                    type=f'function:{fn}',
                    reason=f'{fn} ({calls} calls) is not counted: its '
                    'computation is not in the totals',
                    warn=True))
        return result
