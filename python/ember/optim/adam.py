"""Adam and AdamW."""
from .. import _C
from .optimizer import Optimizer, _run_closure, _new_step, _zeros_like


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), optionally with AMSGrad, weight decay and maximization:
    torch.optim.Adam's algorithm, defaults and results. Each step updates a parameter group in one
    fused kernel call.

    For each parameter p with gradient g (negated when maximize), at step t:
        g = g + weight_decay * p            (or, with decoupled_weight_decay: p = p * (1 - lr * weight_decay))
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v) with amsgrad, used in place of v below
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    State per parameter: "step" (a 0-d float tensor), "exp_avg", "exp_avg_sq", and
    "max_exp_avg_sq" with amsgrad.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Performs one Adam step; returns closure() when a closure is given."""
        loss = _run_closure(closure)
        for group in self.param_groups:
            params, grads = self._params_with_grad(group)
            if not params:
                continue
            amsgrad = bool(group["amsgrad"])
            states = [self.state[p] for p in params]
            for p, state in zip(params, states):
                if not state:
                    state["step"] = _new_step()
                    state["exp_avg"] = _zeros_like(p)
                    state["exp_avg_sq"] = _zeros_like(p)
                if amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = _zeros_like(p)
            beta1, beta2 = group["betas"]
            _C.adam_step(params, grads, [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                         [s["max_exp_avg_sq"] for s in states] if amsgrad else [], [s["step"] for s in states],
                         float(group["lr"]), float(beta1), float(beta2), float(group["eps"]),
                         float(group["weight_decay"]), amsgrad, bool(group["decoupled_weight_decay"]),
                         bool(group["maximize"]))
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2017): Adam whose weight decay shrinks the parameters directly
    (p = p * (1 - lr * weight_decay)) instead of entering the gradient; torch.optim.AdamW's
    algorithm, defaults (weight_decay=1e-2) and results. See Adam for the update and the state.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """As Optimizer.load_state_dict; the weight decay stays decoupled whatever was saved."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
