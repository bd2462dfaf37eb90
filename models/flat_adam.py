"""Adam over one flat buffer: the same numbers as torch.optim.Adam, in one pass per step.

Adam (Kingma & Ba, 2015), per element, at step t with gradient g:
    m <- beta1 m + (1 - beta1) g             v <- beta2 v + (1 - beta2) g^2
    theta <- theta - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

Why not torch.optim.Adam: on a CPU its single-tensor loop runs ~10 small elementwise ops per
parameter tensor, mostly Python and dispatch; a pair's two networks hold 18 tensors, which cost
a good share of each training iteration (docs/speed.md). Here each network's parameters are made views into one
contiguous buffer (and its moments are two more buffers), so a step is one set of 8 elementwise
ops whatever the number of tensors. The ops are exactly those of torch's `_single_tensor_adam`
(the path torch.optim.Adam takes on a CPU): lerp_, mul_/addcmul_, sqrt / bias_correction2_sqrt,
add_ eps, addcdiv_ with -lr / bias_correction1, the bias corrections in Python floats. Every
element sees the same float32 arithmetic as before, so parameters stay bit-identical to stock
Adam's (tests/test_flat_adam.py checks this on every kind of run).

The views are the price: the parameters must not be moved or replaced after the optimiser is
built (`module.to(other device)`, `p.data = ...`); `load_state_dict` on the modules copies in place
and is fine. `step` refuses to run on parameters that no longer live in the buffer.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch


def _adam_update(param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor,
                 step: int, lr: float, beta1: float, beta2: float, eps: float) -> None:
    """torch.optim.Adam's single-tensor update (no weight decay, amsgrad or maximize), op for op."""
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    step = float(step)   # torch keeps step as a float32 tensor and reads it back as a Python float
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2 ** 0.5
    denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
    param.addcdiv_(exp_avg, denom, value=-step_size)


class FlatAdam:
    """Adam over `params`, which become views into one flat buffer (see the module's docstring).

    `step(grads)` takes the gradients (one per parameter, in order; None where a parameter got
    none). `param_groups[0]["lr"]` is the learning rate, as in torch's optimisers.
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8):
        self.params = list(params)
        if not self.params:
            raise ValueError("FlatAdam needs at least one parameter")
        first = self.params[0]
        if any(p.dtype != first.dtype or p.device != first.device for p in self.params):
            raise ValueError("FlatAdam needs all parameters of one dtype on one device")
        with torch.no_grad():
            self.flat = torch.cat([p.detach().reshape(-1) for p in self.params])
            self.sizes = [p.numel() for p in self.params]
            for p, view in zip(self.params, self._views(self.flat), strict=True):
                p.data = view   # the parameter object (a leaf that requires grad) stays; its numbers move
        self._pointers = [p.data_ptr() for p in self.params]
        self.exp_avg = torch.zeros_like(self.flat)
        self.exp_avg_sq = torch.zeros_like(self.flat)
        # steps taken by each tensor: equal unless a tensor got no gradient at some step (stock Adam
        # skips such a tensor, and so its moments, step count and bias corrections, alone)
        self.steps = [0] * len(self.params)
        self.steps_equal = True   # every tensor has taken as many steps: the flat update applies
        self.param_groups = [{"lr": lr, "betas": tuple(betas), "eps": eps}]

    def _views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        return [part.view_as(p) for part, p in zip(flat.split(self.sizes), self.params, strict=True)]

    def views_intact(self) -> bool:
        """Do the parameters still live in the flat buffer (not moved or replaced since)?"""
        return all(p.data_ptr() == ptr for p, ptr in zip(self.params, self._pointers, strict=True))

    def count_flat_step(self) -> None:
        """One more step for every tensor: after a flat update (here, or in models/compiled_step.py)."""
        self.steps = [self.steps[0] + 1] * len(self.params)

    @torch.no_grad()
    def step(self, grads: Sequence[torch.Tensor | None]) -> None:
        if len(grads) != len(self.params):
            raise ValueError(f"FlatAdam.step needs {len(self.params)} gradients, got {len(grads)}")
        if not self.views_intact():
            raise RuntimeError("parameters were moved or replaced after their FlatAdam was built; "
                               "build a new optimiser")
        group = self.param_groups[0]
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if self.steps_equal and all(g is not None for g in grads):
            self.count_flat_step()
            grad = torch.cat([g.reshape(-1) for g in grads])
            _adam_update(self.flat, grad, self.exp_avg, self.exp_avg_sq, self.steps[0], lr, beta1, beta2, eps)
            return
        # some tensor got no gradient (now or before): tensor by tensor, exactly as stock Adam
        for i, (p, g, m, v) in enumerate(zip(self._views(self.flat), grads, self._views(self.exp_avg),
                                             self._views(self.exp_avg_sq), strict=True)):
            if g is not None:
                self.steps[i] += 1
                _adam_update(p, g, m, v, self.steps[i], lr, beta1, beta2, eps)
        self.steps_equal = len(set(self.steps)) == 1

    def __setstate__(self, state: dict) -> None:
        """Unpickled (a run handed to a training process, explorer/training/processes.py): the
        parameters become views into the unpickled buffer again and their new addresses are kept."""
        self.__dict__.update(state)
        with torch.no_grad():
            for p, view in zip(self.params, self._views(self.flat), strict=True):
                p.data = view
        self._pointers = [p.data_ptr() for p in self.params]

    def state_dict(self) -> dict:
        """The moments and step counts (live tensors, as torch's: deep-copy to keep them)."""
        return {"steps": list(self.steps), "exp_avg": self.exp_avg, "exp_avg_sq": self.exp_avg_sq,
                "sizes": list(self.sizes), "param_groups": [dict(g) for g in self.param_groups]}

    def load_state_dict(self, state: dict) -> None:
        """Back to a saved state (its moments, counts and learning rate), as torch's optimisers do."""
        if list(state["sizes"]) != self.sizes:
            raise ValueError("this optimiser state belongs to other parameters")
        with torch.no_grad():
            self.exp_avg.copy_(state["exp_avg"])
            self.exp_avg_sq.copy_(state["exp_avg_sq"])
        self.steps = list(state["steps"])
        self.steps_equal = len(set(self.steps)) == 1
        self.param_groups = [dict(g) for g in state["param_groups"]]
