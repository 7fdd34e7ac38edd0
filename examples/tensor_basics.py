"""A tour of ember's tensor engine: creation, broadcasting, views, reductions, matmul and NumPy
exchange. Run: python examples/tensor_basics.py"""
import numpy as np

import ember


def main():
    ember.manual_seed(0)

    # Creation and dtypes: Python floats become float32, ints int64 (as in PyTorch).
    x = ember.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    print("x =", x, x.dtype, x.shape)

    # Broadcasting and scalars on either side.
    centered = x - x.mean(dim=0, keepdim=True)
    print("centered =", centered)
    print("2 ** x =", 2 ** x)

    # Views share memory: transpose, slices with steps, expand.
    xt = x.T
    print("x.T strides", xt.stride(), "shares storage:", xt._shares_storage(x))
    print("every other column:", x[:, ::2])

    # Boolean masks and advanced indexing make copies; setitem writes through.
    x[x > 4] = 0.0
    print("masked:", x)

    # Reductions over any set of axes; numerically stable softmax.
    scores = ember.randn(4, 5)
    print("softmax rows sum to", scores.softmax(dim=1).sum(dim=1))
    values, indices = scores.max(dim=1)
    print("row maxima", values, "at", indices)

    # Matrix multiply with np.matmul semantics (batched, broadcast).
    a = ember.randn(8, 3, 16)
    b = ember.randn(16, 2)
    print("batched matmul:", (a @ b).shape)

    # Zero-copy exchange with NumPy.
    arr = np.arange(6.0).reshape(2, 3)
    t = ember.from_numpy(arr)
    t *= 10
    print("NumPy sees the in-place update:", arr)


if __name__ == "__main__":
    main()
