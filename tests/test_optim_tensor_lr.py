"""A drop-in replacement accepts what torch.optim accepts: a learning rate given as a tensor
(PyTorch's own optimizer tests pass ``lr=torch.tensor(0.001)``)."""

from __future__ import annotations

import pytest
import torch

from adamlab import optim

CASES = [("SGD", {}), ("SGD", {"momentum": 0.9, "nesterov": True}), ("Adagrad", {}),
         ("RMSprop", {}), ("Adadelta", {}), ("Adam", {}), ("Adam", {"impl": "reference"}),
         ("Adam", {"impl": "inplace"}), ("AdamW", {}), ("Adamax", {}),
         ("Adamax", {"impl": "reference"})]


def _run(cls, lr, kw, steps=3):
    p = torch.nn.Parameter(torch.linspace(-1.0, 1.0, 7))
    opt = cls([p], lr=lr, **kw)
    for _ in range(steps):
        opt.zero_grad()
        (p ** 3 - p).sum().backward()
        opt.step()
    return p.detach()


@pytest.mark.parametrize("name,kw", CASES)
def test_a_tensor_learning_rate_gives_the_same_steps(name, kw):
    ours = getattr(optim, name)
    assert torch.equal(_run(ours, torch.tensor(0.01), kw), _run(ours, 0.01, kw))
    theirs = getattr(torch.optim, name)
    torch_kw = {k: v for k, v in kw.items() if k != "impl"}
    torch.testing.assert_close(_run(ours, torch.tensor(0.01), kw),
                               _run(theirs, torch.tensor(0.01), torch_kw))


def test_a_tensor_learning_rate_is_still_checked():
    p = [torch.nn.Parameter(torch.zeros(2))]
    with pytest.raises(ValueError, match="lr"):
        optim.Adam(p, lr=torch.tensor(-1.0))
    with pytest.raises(ValueError, match="lr"):
        optim.SGD(p, lr=torch.tensor([0.1, 0.2]))


def test_a_tensor_learning_rate_changed_in_place_takes_effect():
    lr = torch.tensor(0.01)
    p = torch.nn.Parameter(torch.ones(3))
    opt = optim.Adam([p], lr=lr)
    p.grad = torch.ones(3)
    opt.step()
    lr.fill_(0.0)  # the fast path reads the tensor's value at every step
    before = p.detach().clone()
    opt.step()
    assert torch.equal(p.detach(), before)
