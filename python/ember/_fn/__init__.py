"""The differentiable forms of ember's operations: one autograd Function per op (forward and backward
side by side), and the op itself, which records a graph node only when grad mode is on and an input
requires grad (otherwise it is the bare `_C` call)."""
