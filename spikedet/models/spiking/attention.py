"""Multi-head attention on time-major spike maps, shared by the spiking
self-attention layers of Meta-SpikeFormer and Spikformer."""
import torch


def check_num_heads(dims: int, num_heads: int) -> int:
    """``num_heads``, after checking that it divides ``dims`` channels."""
    if dims % num_heads:
        raise ValueError(f'dims {dims} is not divisible by num_heads '
                         f'{num_heads}.')
    return num_heads


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """``[T, B, C, H, W]`` -> ``[T, B, heads, H*W, C // heads]``.

    Args:
        x (Tensor): Time-major map.
        num_heads (int): Number of heads; must divide ``C``.
    """
    T, B, C = x.shape[:3]
    if C % num_heads:
        raise ValueError(f'{C} channels cannot be split into {num_heads} '
                         'heads: num_heads must divide the channels.')
    return x.flatten(3).transpose(-1,
                                  -2).reshape(T, B, -1, num_heads,
                                              C // num_heads).transpose(2, 3)


def spiking_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                             num_heads: int, scale: float) -> torch.Tensor:
    """Softmax-free attention ``Q (K^T V) * scale`` over the tokens of
    time-major maps.

    ``K^T V`` is formed first, so the cost is linear in the number of tokens
    (the result equals ``(Q K^T) V`` without a softmax).

    Args:
        q (Tensor): Queries ``[T, B, C, H, W]``.
        k (Tensor): Keys, same shape.
        v (Tensor): Values, same shape.
        num_heads (int): Number of heads.
        scale (float): Scale of the product.

    Returns:
        Tensor: ``[T, B, C, H, W]``.
    """
    shape = q.shape
    q, k, v = (split_heads(t, num_heads) for t in (q, k, v))
    x = q @ (k.transpose(-2, -1) @ v) * scale
    return x.transpose(3, 4).reshape(shape)
