"""setup_cpu_distributed: when it applies and the errors it gives (the
two-process training itself is tests/test_engine/test_ddp.py)."""
import pytest
import torch
from mmengine.config import Config

from spikedet.utils.dist import setup_cpu_distributed

no_cuda = pytest.mark.skipif(
    torch.cuda.is_available(), reason='the CPU path only applies without CUDA')


def test_non_distributed_launch_is_untouched():
    cfg = Config(dict(launcher='none'))
    assert setup_cpu_distributed(cfg) is False
    assert 'model_wrapper_cfg' not in cfg and 'env_cfg' not in cfg


@no_cuda
def test_other_launchers_need_cuda():
    with pytest.raises(RuntimeError, match='torchrun'):
        setup_cpu_distributed(Config(dict(launcher='slurm')))


@no_cuda
def test_pytorch_launcher_needs_torchrun_env(monkeypatch):
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(RuntimeError, match='RANK, WORLD_SIZE'):
        setup_cpu_distributed(Config(dict(launcher='pytorch')))


@no_cuda
@pytest.mark.parametrize('env_cfg',
                         [None, dict(dist_cfg=dict(backend='nccl'))])
def test_gloo_group_and_cpu_wrapper(monkeypatch, env_cfg):
    """A one-process torchrun environment: the gloo group is started and the
    DDP wrapper gets no GPU device ids."""
    import socket

    import torch.distributed as dist
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(port))
    cfg = Config(dict(launcher='pytorch'))
    if env_cfg is not None:
        cfg.env_cfg = env_cfg
    assert not dist.is_initialized()
    try:
        if env_cfg is None:
            assert setup_cpu_distributed(cfg)
        else:
            with pytest.warns(UserWarning, match="instead of 'nccl'"):
                assert setup_cpu_distributed(cfg)
        assert dist.is_initialized() and dist.get_backend() == 'gloo'
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    assert cfg.model_wrapper_cfg.device_ids is None
