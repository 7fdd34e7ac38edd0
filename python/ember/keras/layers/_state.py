"""The state of the layer calls in progress, shared by the layer base, its weight handling, models
and the training loop."""


class _CallState:
    """State of the layer calls in progress. One instance: storing to its slots is cheaper than to
    class attributes (which invalidate the type's caches), and the call path stores on every call."""
    __slots__ = ("training", "depth", "epoch", "version")

    def __init__(self):
        self.training = None  # the training flag of the enclosing call
        self.depth = 0        # how many non-leaf layer calls are in progress
        self.epoch = 0        # counts outermost calls; losses recorded during one belong to it
        # bumped whenever weights, sublayers, trainability or regularizers change anywhere, so that
        # layers can cache what they derive from them (weight lists, loss sources)
        self.version = 0


_CallContext = _CallState()


def _bump():
    _CallContext.version += 1
