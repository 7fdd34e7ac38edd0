"""Stochastic gradient descent."""
from .. import _C
from .optimizer import Optimizer, _run_closure


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, dampening, Nesterov momentum, weight
    decay (an L2 penalty added to the gradient) and maximization: torch.optim.SGD's algorithm,
    defaults and results. Each step updates a parameter group in one fused kernel call.

    For each parameter p with gradient g (negated when maximize):
        g = g + weight_decay * p
        buf = g on the first step, else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf with nesterov, else buf            (when momentum != 0)
        p = p - lr * g

    State per parameter: "momentum_buffer" (when momentum != 0).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one SGD step; returns closure() when a closure is given."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            params, grads = self._params_with_grad(group)
            if not params:
                continue
            momentum = float(group["momentum"])
            buffers = [self.state[p].get("momentum_buffer") for p in params] if momentum != 0 else []
            created = _C.sgd_step(params, grads, buffers, float(group["lr"]), momentum, float(group["dampening"]),
                                  float(group["weight_decay"]), bool(group["nesterov"]), bool(group["maximize"]))
            for p, buffer in zip(params, created):
                if buffer is not None:
                    self.state[p]["momentum_buffer"] = buffer
        return loss
