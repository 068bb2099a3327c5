"""The DVS pixel model: polarity, silence, refractory period, noise,
mismatch, sub-pixel motion and determinism."""
import numpy as np
import pytest

from spikedet.datasets.events.dvs import (DVSSensor, log_intensity,
                                          record_events, record_saccades,
                                          saccade_path, shift_bilinear)


def ramp_video(start, stop, num=11, shape=(4, 6)):
    """Uniform frames whose log intensity goes linearly from start to stop."""
    levels = np.linspace(start, stop, num)
    return (np.stack([np.full(shape, v)
                      for v in levels]), np.arange(num, dtype=np.int64) * 1000)


def quiet(**kw):
    return dict(
        dict(threshold_mismatch=0., noise_rate_hz=0., refractory_us=0), **kw)


def test_brightening_gives_on_darkening_gives_off():
    frames, times = ramp_video(-2., -1.)
    ev = record_events(
        frames, times, np.random.default_rng(0), contrast=0.2, **quiet())
    assert len(ev['t']) > 0 and (ev['p'] == 1).all()
    # 1.0 of log change at a 0.2 threshold: 5 events per pixel (4x6 px),
    # up to rounding at the last crossing.
    assert 4 * 24 <= len(ev['t']) <= 5 * 24
    ev = record_events(
        frames[::-1], times, np.random.default_rng(0), contrast=0.2, **quiet())
    assert len(ev['t']) > 0 and (ev['p'] == 0).all()


def test_moving_edge_polarity():
    """A bright bar moving right: ON at its leading edge, OFF at its
    trailing edge."""
    img = np.zeros((8, 32))
    img[:, 4:12] = 255
    rng = np.random.default_rng(0)
    frames = np.stack([
        log_intensity(shift_bilinear(img, dx, 0.))
        for dx in np.linspace(0, 6, 13)
    ])
    ev = record_events(frames, np.arange(13) * 1000, rng, **quiet())
    on_x = ev['x'][ev['p'] == 1]
    off_x = ev['x'][ev['p'] == 0]
    assert len(on_x) and len(off_x)
    assert on_x.min() >= 12 and on_x.max() <= 18  # leading edge 12 -> 18
    assert off_x.min() >= 4 and off_x.max() <= 10  # trailing edge 4 -> 10


def test_static_image_without_noise_is_silent():
    img = np.random.default_rng(1).integers(0, 256, (16, 16))
    frames = np.stack([log_intensity(img)] * 20)
    ev = record_events(
        frames,
        np.arange(20) * 1000,
        np.random.default_rng(0),
        threshold_mismatch=0.2,
        noise_rate_hz=0.)
    assert len(ev['t']) == 0
    # With background activity, a static scene does emit (noise) events.
    ev = record_events(
        frames,
        np.arange(20) * 1000,
        np.random.default_rng(0),
        noise_rate_hz=50.)
    assert len(ev['t']) > 0 and set(np.unique(ev['p'])) == {0, 1}


@pytest.mark.parametrize('refractory', [0, 300, 1000, 2500])
def test_refractory_period_respected(refractory):
    frames, times = ramp_video(-3., 0., num=6)  # 0.6 log per 1 ms step
    ev = record_events(
        frames,
        times,
        np.random.default_rng(0),
        contrast=0.1,
        threshold_mismatch=0.05,
        noise_rate_hz=100.,
        refractory_us=refractory)
    pix = ev['y'].astype(np.int64) * 6 + ev['x']
    order = np.lexsort((ev['t'], pix))
    same = pix[order][1:] == pix[order][:-1]
    gaps = np.diff(ev['t'][order])[same]
    assert len(gaps)
    assert gaps.min() >= refractory
    if refractory == 0:
        # without a refractory period the 6 crossings per step all fire
        assert gaps.min() < 300
    # The refractory period only delays: fewer events, never more.
    assert len(ev['t']) <= 24 * 30 + 24 * 6


def test_refractory_delays_pending_change():
    """A change missed while refractory is reported once the period ends."""
    rng = np.random.default_rng(0)
    sensor = DVSSensor(
        1,
        1,
        rng,
        contrast=0.1,
        refractory_us=1500,
        **{
            k: v
            for k, v in quiet().items() if k != 'refractory_us'
        })
    sensor.reset(np.zeros((1, 1)))
    first = sensor.step(np.full((1, 1), 0.25), 1000)  # two crossings
    assert first['t'].tolist() == [500]  # the second one is blind
    second = sensor.step(np.full((1, 1), 0.25), 2000)  # no new change
    assert second['t'].tolist() == [2000]  # the pending crossing fires


def test_threshold_mismatch_spreads_thresholds():
    sensor = DVSSensor(
        32, 32, np.random.default_rng(0), contrast=0.2, threshold_mismatch=0.1)
    assert sensor.thresholds.shape == (2, 32, 32)
    assert abs(sensor.thresholds.mean() - 0.2) < 0.01
    assert 0.015 < sensor.thresholds.std() < 0.025
    flat = DVSSensor(4, 4, np.random.default_rng(0), threshold_mismatch=0.)
    assert np.all(flat.thresholds == flat.thresholds[0, 0, 0])


def test_shift_bilinear_subpixel():
    img = np.arange(20, dtype=float).reshape(4, 5)
    np.testing.assert_allclose(shift_bilinear(img, 0., 0.), img)
    half = shift_bilinear(img, 0.5, 0., fill=None)
    np.testing.assert_allclose(half[:, 1:], (img[:, 1:] + img[:, :-1]) / 2)
    one = shift_bilinear(img, 1., 2., fill=0.)
    np.testing.assert_allclose(one[2:, 1:], img[:2, :4])
    assert (one[:2] == 0).all() and (one[:, 0] == 0).all()


def test_saccade_path_closed_and_bounded():
    path = saccade_path(np.random.default_rng(0), 31, 3, amplitude=2.)
    assert path.shape == (31, 2)
    np.testing.assert_allclose(path[0], 0.)
    np.testing.assert_allclose(path[-1], 0.)
    assert np.hypot(*path.T).max() <= 2. + 1e-9
    assert np.abs(np.diff(path, axis=0)).max() < 1.  # sub-pixel steps


def test_record_saccades_deterministic_and_sorted():
    img = np.zeros((28, 28))
    img[6:22, 9:19] = 220
    kw = dict(
        sensor_hw=(34, 34), offset=(3., 3.), duration_us=60_000, step_us=2000)
    a = record_saccades(img, np.random.default_rng([0, 1]), **kw)
    b = record_saccades(img, np.random.default_rng([0, 1]), **kw)
    c = record_saccades(img, np.random.default_rng([0, 2]), **kw)
    assert len(a['t']) > 100
    for k in 't', 'x', 'y', 'p':
        np.testing.assert_array_equal(a[k], b[k])
    assert len(a['t']) != len(c['t']) or not np.array_equal(a['x'], c['x'])
    assert (np.diff(a['t']) >= 0).all()
    assert a['x'].max() < 34 and a['y'].max() < 34
    assert a['t'].dtype == np.int64 and a['p'].dtype == np.uint8


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match='contrast'):
        DVSSensor(2, 2, rng, contrast=0.)
    sensor = DVSSensor(2, 2, rng)
    with pytest.raises(RuntimeError, match='reset'):
        sensor.step(np.zeros((2, 2)), 10)
    sensor.reset(np.zeros((2, 2)))
    with pytest.raises(ValueError, match='shape'):
        sensor.step(np.zeros((3, 2)), 10)
    with pytest.raises(ValueError, match='increase'):
        sensor.step(np.zeros((2, 2)), 0)
    with pytest.raises(ValueError, match='ambient'):
        log_intensity(np.zeros(2), ambient=0.)
