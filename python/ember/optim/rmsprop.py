"""RMSprop."""
from .. import _C
from .optimizer import Optimizer, _run_closure, _new_step, _zeros_like


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes), optionally centered, with momentum, weight decay and
    maximization: torch.optim.RMSprop's algorithm, defaults and results. Each step updates a
    parameter group in one fused kernel call.

    For each parameter p with gradient g (negated when maximize):
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        centered: g_avg = lerp(g_avg, g, 1 - alpha); avg = sqrt(v - g_avg * g_avg) + eps
        otherwise: avg = sqrt(v) + eps
        momentum > 0: buf = momentum * buf + g / avg; p = p - lr * buf
        otherwise: p = p - lr * g / avg

    State per parameter: "step", "square_avg", "momentum_buffer" (momentum > 0), "grad_avg"
    (centered).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
                 maximize=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one RMSprop step; returns closure() when a closure is given."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            params, grads = self._params_with_grad(group)
            if not params:
                continue
            momentum = float(group["momentum"])
            centered = bool(group["centered"])
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = _zeros_like(p)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = _zeros_like(p)
            _C.rmsprop_step(params, grads, [s["square_avg"] for s in states],
                            [s["grad_avg"] for s in states] if centered else [],
                            [s["momentum_buffer"] for s in states] if momentum > 0 else [],
                            [s["step"] for s in states], float(group["lr"]), float(group["alpha"]),
                            float(group["eps"]), float(group["weight_decay"]), momentum, centered,
                            bool(group["maximize"]))
        return loss
