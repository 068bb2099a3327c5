"""A DVS (dynamic vision sensor) pixel model and sub-pixel saccade motion.

An event camera pixel reports a change of its log intensity: it keeps a
reference level ``L_ref`` and emits an ON event (polarity 1) each time
``L - L_ref`` exceeds its ON threshold, an OFF event (polarity 0) each time
it falls below minus its OFF threshold, moving the reference by one
threshold per event. :class:`DVSSensor` models, per pixel:

* a contrast threshold with per-pixel mismatch (ON and OFF drawn
  separately, Gaussian around ``contrast`` with relative std
  ``threshold_mismatch``);
* a refractory period: after an event a pixel stays blind for
  ``refractory_us``; a change it misses stays in ``L - L_ref`` and is
  reported once the period is over;
* background-activity noise: spurious events of random polarity at
  ``noise_rate_hz`` per pixel (Poisson), also subject to the refractory
  period.

Events between two rendered frames get timestamps spread evenly over the
interval (linear interpolation of the crossing times). Everything random is
drawn from the ``numpy.random.Generator`` given, so a stream is a function
of its seed. Streams are dicts of arrays ``t`` (int64, microseconds), ``x``,
``y`` (uint16) and ``p`` (uint8, 1 = ON, 0 = OFF), the keys spikingjelly's
processed event datasets use.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

#: Keys and dtypes of an event stream (spikingjelly's ``events_np`` layout).
EVENT_DTYPES = dict(t=np.int64, x=np.uint16, y=np.uint16, p=np.uint8)


def empty_events() -> Dict[str, np.ndarray]:
    """An event stream with no events."""
    return {k: np.zeros(0, dtype=d) for k, d in EVENT_DTYPES.items()}


def log_intensity(image: np.ndarray, ambient: float = 0.05) -> np.ndarray:
    """Log intensity of an 8-bit (or [0, 255] float) grayscale image.

    Args:
        image (np.ndarray): ``[H, W]`` intensities in ``[0, 255]``.
        ambient (float): Light added to every pixel as a fraction of full
            scale, so that black pixels have a finite log intensity (the
            scene's darkest level). Defaults to 0.05.

    Returns:
        np.ndarray: float64 ``log(ambient + (1 - ambient) * image / 255)``.
    """
    if ambient <= 0:
        raise ValueError(f'ambient must be > 0, got {ambient!r}')
    scaled = np.asarray(image, dtype=np.float64) / 255.
    return np.log(ambient + (1. - ambient) * scaled)


def shift_bilinear(image: np.ndarray,
                   dx: float,
                   dy: float,
                   out_hw: Optional[Tuple[int, int]] = None,
                   offset: Tuple[float, float] = (0., 0.),
                   fill: Optional[float] = 0.) -> np.ndarray:
    """Translate an image by a sub-pixel offset with bilinear sampling.

    Output pixel ``(i, j)`` samples the source at
    ``(i - offset[1] - dy, j - offset[0] - dx)``.

    Args:
        image (np.ndarray): ``[H, W]`` source.
        dx (float): Shift along x (columns) in pixels.
        dy (float): Shift along y (rows) in pixels.
        out_hw (tuple[int, int], optional): Output size. Defaults to the
            source size.
        offset (tuple[float, float]): Constant ``(x, y)`` placement of the
            source in the output, added to the shift. Defaults to (0, 0).
        fill (float, optional): Value outside the source; ``None`` repeats
            the border pixels. Defaults to 0.

    Returns:
        np.ndarray: float64 ``out_hw`` image.
    """
    src = np.asarray(image, dtype=np.float64)
    h, w = src.shape
    oh, ow = out_hw if out_hw is not None else (h, w)
    sy = np.arange(oh, dtype=np.float64) - offset[1] - dy
    sx = np.arange(ow, dtype=np.float64) - offset[0] - dx
    y0 = np.floor(sy).astype(np.int64)
    x0 = np.floor(sx).astype(np.int64)
    fy = (sy - y0)[:, None]
    fx = (sx - x0)[None, :]
    if fill is None:
        pad = np.pad(src, 1, mode='edge')
    else:
        pad = np.pad(src, 1, mode='constant', constant_values=fill)
    # Indices into the padded source; outside ones land on the pad ring.
    yi0 = np.clip(y0 + 1, 0, h + 1)
    yi1 = np.clip(y0 + 2, 0, h + 1)
    xi0 = np.clip(x0 + 1, 0, w + 1)
    xi1 = np.clip(x0 + 2, 0, w + 1)
    top = pad[yi0][:, xi0] * (1 - fx) + pad[yi0][:, xi1] * fx
    bottom = pad[yi1][:, xi0] * (1 - fx) + pad[yi1][:, xi1] * fx
    return top * (1 - fy) + bottom * fy


def saccade_path(rng: np.random.Generator,
                 num_steps: int,
                 num_saccades: int = 3,
                 amplitude: float = 2.0,
                 closed: bool = True) -> np.ndarray:
    """A piecewise-linear sub-pixel eye/camera path.

    The path starts at ``(0, 0)`` and visits ``num_saccades`` random
    vertices at a distance between ``amplitude / 2`` and ``amplitude``; if
    ``closed`` the last saccade returns to the start (N-MNIST's triangle is
    ``num_saccades=3``).

    Args:
        rng (np.random.Generator): Source of the vertices.
        num_steps (int): Number of positions returned (>= 2).
        num_saccades (int): Number of straight segments. Defaults to 3.
        amplitude (float): Largest distance of a vertex from the start, in
            pixels. Defaults to 2.0.
        closed (bool): Whether the path ends where it starts. Defaults to
            True.

    Returns:
        np.ndarray: float64 ``[num_steps, 2]`` positions ``(dx, dy)``.
    """
    if num_steps < 2 or num_saccades < 1:
        raise ValueError('saccade_path needs num_steps >= 2 and '
                         f'num_saccades >= 1, got {num_steps}, '
                         f'{num_saccades}')
    num_free = num_saccades - 1 if closed else num_saccades
    angle = rng.uniform(0, 2 * np.pi, num_free)
    radius = rng.uniform(amplitude / 2, amplitude, num_free)
    verts = [np.zeros(2)]
    verts += [
        np.array([r * np.cos(a), r * np.sin(a)])
        for r, a in zip(radius, angle)
    ]
    if closed:
        verts.append(np.zeros(2))
    verts = np.stack(verts)
    knots = np.linspace(0., 1., len(verts))
    s = np.linspace(0., 1., num_steps)
    return np.stack(
        [np.interp(s, knots, verts[:, 0]),
         np.interp(s, knots, verts[:, 1])],
        axis=1)


class DVSSensor:
    """An array of DVS pixels fed with log-intensity frames.

    Call :meth:`reset` with the first frame, then :meth:`step` with each
    next frame and its timestamp; each call returns the events of that
    interval, sorted by time.

    Args:
        height (int): Sensor rows.
        width (int): Sensor columns.
        rng (np.random.Generator): Source of the threshold mismatch and the
            noise.
        contrast (float): Nominal ON/OFF threshold on the log intensity.
            Defaults to 0.25.
        threshold_mismatch (float): Relative std of the per-pixel
            thresholds. Defaults to 0.03.
        min_threshold (float): Lower bound of a pixel's threshold.
            Defaults to 0.01.
        refractory_us (int): Blind time after each event, in microseconds.
            Defaults to 1000.
        noise_rate_hz (float): Background-activity events per pixel per
            second. Defaults to 0.2.
    """

    def __init__(self,
                 height: int,
                 width: int,
                 rng: np.random.Generator,
                 contrast: float = 0.25,
                 threshold_mismatch: float = 0.03,
                 min_threshold: float = 0.01,
                 refractory_us: int = 1000,
                 noise_rate_hz: float = 0.2) -> None:
        if contrast <= 0 or min_threshold <= 0:
            raise ValueError('contrast and min_threshold must be > 0, got '
                             f'{contrast!r}, {min_threshold!r}')
        if threshold_mismatch < 0 or refractory_us < 0 or noise_rate_hz < 0:
            raise ValueError('threshold_mismatch, refractory_us and '
                             'noise_rate_hz must be >= 0')
        self.shape = (int(height), int(width))
        self.rng = rng
        self.refractory_us = int(refractory_us)
        self.noise_rate_hz = float(noise_rate_hz)
        # thresholds[0] is OFF, thresholds[1] ON (indexed by polarity).
        self.thresholds = np.maximum(
            contrast *
            (1. +
             threshold_mismatch * rng.standard_normal((2, ) + self.shape)),
            min_threshold)
        self.ref: Optional[np.ndarray] = None
        self.last_t: Optional[np.ndarray] = None
        self.t: Optional[int] = None

    def reset(self, log_frame: np.ndarray, t: int = 0) -> None:
        """Start a recording: the references take ``log_frame``'s values."""
        self._check_frame(log_frame)
        self.ref = np.array(log_frame, dtype=np.float64)
        # No pixel is refractory at the start.
        self.last_t = np.full(
            self.shape, np.iinfo(np.int64).min // 2, dtype=np.int64)
        self.t = int(t)

    def _check_frame(self, frame: np.ndarray) -> None:
        if frame.shape != self.shape:
            raise ValueError(f'frame of shape {frame.shape} given to a '
                             f'{self.shape} sensor')

    def step(self, log_frame: np.ndarray, t: int) -> Dict[str, np.ndarray]:
        """Advance to time ``t`` (us), where the scene is ``log_frame``.

        Returns:
            dict[str, np.ndarray]: The events in ``(t_prev, t]``, sorted
            by time (then row, column).
        """
        if self.ref is None:
            raise RuntimeError('call reset() before step()')
        self._check_frame(log_frame)
        t = int(t)
        t0 = self.t
        if t <= t0:
            raise ValueError(f'timestamps must increase, got {t} after {t0}')
        dt = t - t0
        diff = log_frame - self.ref
        pol = (diff > 0).astype(np.int64)
        theta = np.take_along_axis(self.thresholds, pol[None], 0)[0]
        count = np.floor(np.abs(diff) / theta).astype(np.int64)
        ts, ys, xs, ps = [], [], [], []
        sent = np.zeros(self.shape, dtype=np.int64)
        for k in range(int(count.max(initial=0))):
            # k-th crossing of this interval, at a linearly interpolated time
            active = count > k
            t_k = t0 + ((k + 1) * dt) // np.maximum(count, 1)
            ok = active & (t_k - self.last_t >= self.refractory_us)
            yy, xx = np.nonzero(ok)
            tk = t_k[yy, xx]
            ts.append(tk)
            ys.append(yy)
            xs.append(xx)
            ps.append(pol[yy, xx])
            self.last_t[yy, xx] = tk
            sent[yy, xx] += 1
        # Each reported crossing moves the reference by one threshold; the
        # crossings missed while refractory stay pending in ``diff``.
        self.ref += np.where(pol == 1, 1., -1.) * theta * sent
        if self.noise_rate_hz > 0:
            prob = -np.expm1(-self.noise_rate_hz * dt * 1e-6)
            fire = self.rng.random(self.shape) < prob
            t_n = t0 + 1 + self.rng.integers(0, dt, self.shape)
            p_n = self.rng.integers(0, 2, self.shape)
            ok = fire & (t_n - self.last_t >= self.refractory_us)
            yy, xx = np.nonzero(ok)
            ts.append(t_n[yy, xx])
            ys.append(yy)
            xs.append(xx)
            ps.append(p_n[yy, xx])
            self.last_t[yy, xx] = np.maximum(self.last_t[yy, xx], t_n[yy, xx])
        self.t = t
        return _sorted_events(ts, ys, xs, ps)


def _sorted_events(ts: Sequence[np.ndarray], ys: Sequence[np.ndarray],
                   xs: Sequence[np.ndarray],
                   ps: Sequence[np.ndarray]) -> Dict[str, np.ndarray]:
    if not ts:
        return empty_events()
    t = np.concatenate(ts).astype(np.int64)
    y = np.concatenate(ys).astype(np.int64)
    x = np.concatenate(xs).astype(np.int64)
    p = np.concatenate(ps)
    order = np.lexsort((x, y, t))
    return dict(
        t=t[order],
        x=x[order].astype(np.uint16),
        y=y[order].astype(np.uint16),
        p=p[order].astype(np.uint8))


def concat_events(
        streams: Sequence[Dict[str, np.ndarray]]) -> Dict[str, np.ndarray]:
    """Concatenate event streams that follow each other in time."""
    if not streams:
        return empty_events()
    return {
        k: np.concatenate([s[k] for s in streams]).astype(d)
        for k, d in EVENT_DTYPES.items()
    }


def record_events(log_frames: np.ndarray, timestamps_us: np.ndarray,
                  rng: np.random.Generator,
                  **sensor_kwargs) -> Dict[str, np.ndarray]:
    """Record a log-intensity video with a fresh :class:`DVSSensor`.

    Args:
        log_frames (np.ndarray): ``[N, H, W]`` log intensities (N >= 2).
        timestamps_us (np.ndarray): ``[N]`` increasing times in us.
        rng (np.random.Generator): Source of mismatch and noise.
        **sensor_kwargs: Arguments of :class:`DVSSensor`.

    Returns:
        dict[str, np.ndarray]: The whole stream, sorted by time.
    """
    if len(log_frames) != len(timestamps_us) or len(log_frames) < 2:
        raise ValueError('record_events needs N >= 2 frames and N '
                         f'timestamps, got {len(log_frames)} and '
                         f'{len(timestamps_us)}')
    sensor = DVSSensor(*log_frames[0].shape, rng=rng, **sensor_kwargs)
    sensor.reset(log_frames[0], int(timestamps_us[0]))
    return concat_events([
        sensor.step(frame, int(t))
        for frame, t in zip(log_frames[1:], timestamps_us[1:])
    ])


def record_saccades(image: np.ndarray,
                    rng: np.random.Generator,
                    sensor_hw: Optional[Tuple[int, int]] = None,
                    offset: Tuple[float, float] = (0., 0.),
                    duration_us: int = 300_000,
                    step_us: int = 1000,
                    num_saccades: int = 3,
                    amplitude: float = 2.0,
                    ambient: float = 0.05,
                    fill: Optional[float] = 0.,
                    **sensor_kwargs) -> Dict[str, np.ndarray]:
    """Record a still grayscale image moved along a saccade path.

    Args:
        image (np.ndarray): ``[H, W]`` intensities in ``[0, 255]``.
        rng (np.random.Generator): Source of the path, the pixel mismatch
            and the noise.
        sensor_hw (tuple[int, int], optional): Sensor size. Defaults to the
            image size.
        offset (tuple[float, float]): ``(x, y)`` position of the image on
            the sensor at rest. Defaults to (0, 0).
        duration_us (int): Recording length. Defaults to 300000 (0.3 s).
        step_us (int): Rendering interval. Defaults to 1000.
        num_saccades (int): Segments of the path. Defaults to 3.
        amplitude (float): Path amplitude in pixels. Defaults to 2.0.
        ambient (float): See :func:`log_intensity`. Defaults to 0.05.
        fill (float, optional): Intensity outside the image; ``None``
            repeats its border (a camera moving over a larger scene).
            Defaults to 0.
        **sensor_kwargs: Arguments of :class:`DVSSensor`.

    Returns:
        dict[str, np.ndarray]: The event stream.
    """
    num = duration_us // step_us + 1
    path = saccade_path(rng, num, num_saccades, amplitude)
    hw = sensor_hw if sensor_hw is not None else image.shape
    frames = np.stack([
        log_intensity(
            shift_bilinear(image, dx, dy, hw, offset, fill), ambient)
        for dx, dy in path
    ])
    times = np.arange(num, dtype=np.int64) * step_us
    return record_events(frames, times, rng, **sensor_kwargs)
