"""ember.Generator: a seedable random stream for host-side choices (shuffling, dataset splits).

Tensor sampling (ember.rand, randn, randint) draws from the one global C++ generator that
ember.manual_seed seeds. Data loading needs its own streams as well, so that a DataLoader's order
can be fixed without touching the global one, as with torch.Generator. The stream here is NumPy's
PCG64; its numbers differ from PyTorch's, only the seeding behaviour is the same.
"""
import builtins

import numpy as np

from . import _C
from . import _dtype

# torch.Generator's seed before any manual_seed; any fixed value would do
_DEFAULT_SEED = 67280421310721
_SEED_RANGE = 2 ** 64


class Generator:
    """A seedable random stream for shuffling and splitting data.

        g = ember.Generator().manual_seed(0)
        loader = ember.data.DataLoader(dataset, batch_size=32, shuffle=True, generator=g)

    Each use advances the stream, so successive epochs differ; seeding again repeats them.
    """

    def __init__(self, device="cpu"):
        if str(device) != "cpu":
            raise ValueError(f"Generator: only device='cpu' is supported (it drives host-side choices), "
                             f"got {device!r}")
        self.device = _C.device("cpu")
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        """Restarts the stream from `seed` (any integer; negatives wrap modulo 2**64). Returns self."""
        if isinstance(seed, builtins.bool) or not isinstance(seed, (builtins.int, np.integer)):
            raise TypeError(f"Generator.manual_seed: the seed must be an integer, got {type(seed).__name__}")
        self._seed = builtins.int(seed) % _SEED_RANGE
        self._numpy = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Reseeds from the operating system's entropy and returns the new seed."""
        self.manual_seed(builtins.int(np.random.SeedSequence().entropy) % _SEED_RANGE)
        return self._seed

    def initial_seed(self):
        """The seed the stream last started from."""
        return self._seed

    def get_state(self):
        """A snapshot of the stream (a dict) that set_state restores."""
        return {"seed": self._seed, "bit_generator": self._numpy.bit_generator.state}

    def set_state(self, state):
        """Restores a snapshot from get_state. Returns self."""
        try:
            seed, bit_state = state["seed"], state["bit_generator"]
        except (TypeError, KeyError):
            raise TypeError("Generator.set_state: expected a dict from Generator.get_state()") from None
        self._seed = seed
        self._numpy = np.random.Generator(np.random.PCG64())
        self._numpy.bit_generator.state = bit_state
        return self

    def __repr__(self):
        return f"ember.Generator(seed={self._seed})"

    # ---- draws (NumPy arrays: these drive Python-side index choices) ----------------------------
    def permutation(self, n):
        """A random permutation of range(n) as an int64 NumPy array."""
        return self._numpy.permutation(n).astype(np.int64, copy=False)

    def integers(self, low, high, size):
        """`size` integers uniform in [low, high) as an int64 NumPy array."""
        return self._numpy.integers(low, high, size, dtype=np.int64)


def check_generator(generator, op):
    """TypeError unless `generator` is None or an ember.Generator."""
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"{op}: generator must be an ember.Generator, got {type(generator).__module__}."
                        f"{type(generator).__name__}")


def generator_or_global(generator, op):
    """`generator` itself, or a fresh one seeded from ember's global generator, so that
    ember.manual_seed fixes everything drawn from it."""
    check_generator(generator, op)
    if generator is not None:
        return generator
    seed = _C.randint(0, 2 ** 63 - 1, [], _dtype.int64, None).item()
    return Generator().manual_seed(seed)
