"""Adagrad."""
from .. import _C
from .optimizer import Optimizer, _run_closure, _full_like, _new_step


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), with learning-rate decay, weight decay, an initial accumulator
    value and maximization: torch.optim.Adagrad's algorithm, defaults and results. Each step
    updates a parameter group in one fused kernel call.

    For each parameter p with gradient g (negated when maximize), at step t:
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g * g
        p = p - clr * g / (sqrt(sum) + eps)

    State per parameter, created with the optimizer (as PyTorch does): "step" and "sum" (filled
    with initial_accumulator_value).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    @staticmethod
    def _init_state(p, state, group):
        state["step"] = _new_step()
        state["sum"] = _full_like(p, float(group["initial_accumulator_value"]))

    def step(self, closure=None):
        """Performs one Adagrad step; returns closure() when a closure is given."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            params, grads = self._params_with_grad(group)
            if not params:
                continue
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:  # a group added after construction
                    self._init_state(p, state, group)
            _C.adagrad_step(params, grads, [s["sum"] for s in states], [s["step"] for s in states],
                            float(group["lr"]), float(group["lr_decay"]), float(group["weight_decay"]),
                            float(group["eps"]), bool(group["maximize"]))
        return loss
