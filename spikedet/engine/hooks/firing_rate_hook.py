"""Log the mean firing rate of spiking stages during training and testing."""
from typing import Optional, Sequence, Union

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from spikedet.analysis.firing import FiringRateRecorder
from spikedet.registry import HOOKS

DATA_BATCH = Optional[Union[dict, tuple, list]]


@HOOKS.register_module()
class FiringRateHook(Hook):
    """Log the average firing rate of every stage of a spiking model.

    Off by default; add it to ``custom_hooks``::

        custom_hooks = [dict(type='spikedet.FiringRateHook', interval=50)]

    Every ``interval`` training iterations the firing rate of all
    :class:`~spikedet.models.spiking.SpikingNeuron` layers is recorded for
    that one iteration and logged: the element-weighted mean over all neurons
    as ``firing_rate`` in the normal training log line, and the mean of each
    stage as ``firing_rate/<stage>`` to the visualizer backends (TensorBoard,
    ``vis_data/scalars.json``) and one ``logger.info`` line. During
    validation and testing every iteration is recorded and the epoch means
    are logged the same way (``val/firing_rate``, ``test/firing_rate``).
    In distributed runs each rank records its own batches; the logged values
    are rank 0's.

    Args:
        interval (int): Record one training iteration in ``interval``.
            Defaults to 50.
        stages (int | Sequence[str], optional): How neuron names are grouped
            into stages, see :func:`spikedet.analysis.stage_name`: None
            (default: backbone stages such as ``backbone.stages.2``, then
            ``neck``, ``head``, ...), a name depth, or a list of prefixes.
        scope (str, optional): Only record neurons inside this submodule.
            Defaults to None (all).
        log_val (bool): Record during validation. Defaults to True.
        log_test (bool): Record during testing. Defaults to True.
    """
    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) reads the hub

    def __init__(self,
                 interval: int = 50,
                 stages: Optional[Union[int, Sequence[str]]] = None,
                 scope: Optional[str] = None,
                 log_val: bool = True,
                 log_test: bool = True) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive int, got '
                             f'{interval!r}.')
        self.interval = interval
        self.stages = stages
        self.scope = scope
        self.log_val = log_val
        self.log_test = log_test
        self._recorder: Optional[FiringRateRecorder] = None

    def _get_recorder(self, runner) -> FiringRateRecorder:
        if self._recorder is None:
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            try:
                self._recorder = FiringRateRecorder(model, self.scope)
            except ValueError as e:
                raise ValueError(f'FiringRateHook: {e} Remove the hook from '
                                 'custom_hooks for non-spiking models.')
        return self._recorder

    def _start(self, runner) -> None:
        rec = self._get_recorder(runner)
        rec.reset()
        rec.attach()

    def _finish(self, runner, mode: str, step: int) -> None:
        rec = self._recorder
        if rec is None or not rec.attached:
            return
        rec.detach()
        if not rec.names:
            return
        mean = rec.mean_rate()
        stage_rates = rec.stage_rates(self.stages)
        runner.message_hub.update_scalar(f'{mode}/firing_rate', mean)
        runner.visualizer.add_scalars(
            {
                f'{mode}/firing_rate/{k}': v
                for k, v in stage_rates.items()
            },
            step=step)
        runner.logger.info(f'Firing rate ({mode}): mean {mean:.4f} | ' +
                           ' | '.join(f'{k} {v:.4f}'
                                      for k, v in stage_rates.items()))
        rec.reset()

    # -- train ----------------------------------------------------------------
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: DATA_BATCH = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self._start(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: DATA_BATCH = None,
                         outputs: Optional[dict] = None) -> None:
        self._finish(runner, 'train', runner.iter + 1)

    # -- val / test -----------------------------------------------------------
    def before_val_epoch(self, runner) -> None:
        if self.log_val:
            self._start(runner)

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._finish(runner, 'val', runner.iter)

    def before_test_epoch(self, runner) -> None:
        if self.log_test:
            self._start(runner)

    def after_test_epoch(self, runner, metrics=None) -> None:
        self._finish(runner, 'test', runner.iter)

    def after_run(self, runner) -> None:
        if self._recorder is not None:
            self._recorder.detach()
