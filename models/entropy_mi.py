"""MEG's entropy term (Kumar et al. 2019, "Maximum Entropy Generators for Energy-Based Models").

For x = G(z) plus any independent noise, H(X) = I(X; Z) + H(X | Z), and H(X | Z) does not depend on
how G maps z: maximising the mutual information between z and x maximises the entropy. I(X; Z)
is estimated, as in Deep InfoMax (Hjelm et al. 2019), by the Jensen-Shannon bound of a critic
T(z, x) that tells joint pairs from pairs of the marginals' product:
    positives (z_i, x_i),   x_i = G(z_i);
    negatives (z~_i, x_i),  z~ = z with each coordinate shuffled across the batch on its own
                            (a draw of p(z) independent of x_i: the product of the marginals);
    L_JS = mean softplus(-T(z_i, x_i)) + mean softplus(T(z~_i, x_i))
and the estimate is I_JS = -L_JS: from -2 log 2 (x tells nothing of z) up towards 0. It is a
bound on a Jensen-Shannon divergence, not the mutual information in nats, so its scale, and the
entropy weight that balances it against the energy, are not the paper's KL.

The critic T is a small MLP on (z, (x - centre) / unit), with its own Adam, trained each iteration inside the
generator's step: one step on L_JS of the batch (x held fixed), then the generator's entropy term
is -L_JS of the same pairs under the updated critic, whose gradient reaches x. As in MEG, the
critic and the generator both maximise I_JS. The critic is seeded from the run's seed
(CRITIC_SEED_OFFSET) and its negatives from the run's stream, so a run is deterministic from its
seed; it is not saved in checkpoints (a pair is energy + generator), so training a loaded pair
further starts a fresh critic.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

CRITIC_HIDDEN = 128            # width of the critic's two hidden layers (MEG's toy critic: 3 x 512)
CRITIC_LR = 1e-3               # its Adam learning rate (the generator's default)
CRITIC_BETAS = (0.5, 0.999)    # and betas, as the two networks'
CRITIC_SEED_OFFSET = 104_729   # its initial weights come from the run's seed + this


class Critic(nn.Module):
    """T(z, x): Linear -> LeakyReLU(0.2) -> Linear -> LeakyReLU(0.2) -> Linear to one number."""

    def __init__(self, latent_dim: int, data_dim: int, hidden: int = CRITIC_HIDDEN):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim + data_dim, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, x], dim=1)).squeeze(1)


def shuffle_per_dimension(z: torch.Tensor, rng: torch.Generator | None) -> torch.Tensor:
    """Each column of z permuted across the rows on its own (a seeded permutation per column)."""
    order = torch.rand(z.shape, generator=rng, device=z.device).argsort(dim=0)
    return z.gather(0, order)


def js_loss(critic: Critic, z: torch.Tensor, negatives: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """L_JS = mean softplus(-T(z, x)) + mean softplus(T(z~, x)); -L_JS is Deep InfoMax's I_JS."""
    scores = critic(torch.cat([z, negatives]), torch.cat([x, x]))
    n = z.shape[0]
    return F.softplus(-scores[:n]).mean() + F.softplus(scores[n:]).mean()


class MutualInformation:
    """The critic and its optimiser, as a run's training state holds them."""

    def __init__(self, latent_dim: int, data_dim: int, to_network, seed: int, device,
                 hidden: int = CRITIC_HIDDEN, lr: float = CRITIC_LR):
        with torch.random.fork_rng(devices=[]):   # seeded weights, without touching the global stream
            torch.manual_seed(seed + CRITIC_SEED_OFFSET)
            self.critic = Critic(latent_dim, data_dim, hidden)
        self.critic.to(device)
        self.to_network = to_network   # data units -> the generator's frame (centre, unit), where T reads x
        self.optimiser = torch.optim.Adam(self.critic.parameters(), lr=lr, betas=CRITIC_BETAS)

    def entropy(self, z: torch.Tensor, x: torch.Tensor, rng: torch.Generator | None,
                learn: bool = True) -> torch.Tensor:
        """I_JS of the batch (z, x = G(z)) under the critic after one step of it (learn); differentiable in x."""
        z = z.detach()
        y = self.to_network(x)
        negatives = shuffle_per_dimension(z, rng)
        if learn:
            loss = js_loss(self.critic, z, negatives, y.detach())
            self.optimiser.zero_grad(set_to_none=True)
            loss.backward()
            self.optimiser.step()
        return -js_loss(self.critic, z, negatives, y)
