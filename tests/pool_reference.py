"""A float64 NumPy reference for 2-d pooling in NCHW, written from PyTorch's definitions (output sizes,
ceil_mode, divisors, which element max pooling picks): the oracle of tests/test_pool.py, independent of
both ember and PyTorch."""
import numpy as np


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def out_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size: the last window must start inside the input or the left padding."""
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + p:
        o -= 1
    return o


def ref_max_pool(x, kernel, stride, padding, dilation, ceil_mode):
    """(out, indices): per window, the last NaN if any, else the first maximum in row-major order."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = map(_pair, (kernel, stride, padding, dilation))
    n, c, h, w = x.shape
    oh_n, ow_n = out_size(h, kh, sh, ph, dh, ceil_mode), out_size(w, kw, sw, pw, dw, ceil_mode)
    flat = x.reshape(n, c, h * w)
    out = np.empty((n, c, oh_n, ow_n), x.dtype)
    idx = np.empty((n, c, oh_n, ow_n), np.int64)
    for oh in range(oh_n):
        rows = [r for r in range(oh * sh - ph, oh * sh - ph + kh * dh, dh) if 0 <= r < h]
        for ow in range(ow_n):
            cols = [q for q in range(ow * sw - pw, ow * sw - pw + kw * dw, dw) if 0 <= q < w]
            at = np.array([r * w + q for r in rows for q in cols], np.int64)
            if at.size == 0:  # every tap in the padding (PyTorch's index is then meaningless): ember says -1
                out[:, :, oh, ow], idx[:, :, oh, ow] = -np.inf, -1
                continue
            vals = flat[:, :, at]
            nan = np.isnan(vals)
            last_nan = vals.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
            first_max = np.argmax(np.where(nan, -np.inf, vals), axis=-1)
            pick = np.where(nan.any(-1), last_nan, first_max)
            idx[:, :, oh, ow] = at[pick]
            out[:, :, oh, ow] = np.take_along_axis(vals, pick[..., None], -1)[..., 0]
    return out, idx


def ref_max_pool_backward(g, idx, shape):
    n, c, h, w = shape
    gx = np.zeros((n * c, h * w + 1))  # the last column collects the gradient of index -1 (no element)
    np.add.at(gx, (np.repeat(np.arange(n * c), idx.shape[2] * idx.shape[3]), idx.reshape(-1)), g.reshape(-1))
    gx = gx[:, :-1]
    return gx.reshape(shape)


def _avg_windows(n_in, n_out, k, s, p, count_include_pad):
    """(first, end, divisor) per output position: the window clipped to the padded input, then to the input."""
    for o in range(n_out):
        start = o * s - p
        stop = min(start + k, n_in + p)
        first, end = max(start, 0), min(stop, n_in)
        yield o, first, end, (stop - start) if count_include_pad else (end - first)


def _adaptive_windows(n_in, n_out):
    for o in range(n_out):
        first, end = (o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)
        yield o, first, end, end - first


def ref_window_average(x, rows, cols, divisor_override=None, g=None):
    """Forward (g None) or the gradient for g, over windows given as (o, first, end, divisor) per dim."""
    n, c, h, w = x.shape
    rows, cols = list(rows), list(cols)
    out = np.zeros((n, c, len(rows), len(cols)))
    gx = np.zeros(x.shape)
    for oh, r0, r1, dr in rows:
        for ow, c0, c1, dc in cols:
            div = divisor_override or dr * dc
            if g is None:
                out[:, :, oh, ow] = x[:, :, r0:r1, c0:c1].sum((2, 3)) / div
            else:
                gx[:, :, r0:r1, c0:c1] += g[:, :, oh, ow][..., None, None] / div
    return out if g is None else gx


def ref_avg_pool(x, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override, g=None):
    (kh, kw), (sh, sw), (ph, pw) = map(_pair, (kernel, stride, padding))
    h, w = x.shape[2:]
    rows = _avg_windows(h, out_size(h, kh, sh, ph, 1, ceil_mode), kh, sh, ph, count_include_pad)
    cols = _avg_windows(w, out_size(w, kw, sw, pw, 1, ceil_mode), kw, sw, pw, count_include_pad)
    return ref_window_average(x, rows, cols, divisor_override, g)


def ref_adaptive_avg_pool(x, output_size, g=None):
    oh, ow = _pair(output_size)
    return ref_window_average(x, _adaptive_windows(x.shape[2], oh), _adaptive_windows(x.shape[3], ow), None, g)
