"""The lesson: a guided story in seven steps that a teacher runs in front of a class.

Content and set-up only, as data: each step has a title, a short Markdown text (KaTeX between
$...$ and $$...$$) that says what to look at and what to press, and a `Setup` the app applies
when the step opens (a pretrained pair, or a preset's options as a new run at step 0; the
landscape view and layers; the tab). The page turns a Setup into control updates (explorer/page/setup.py); the
tests (tests/test_lesson.py) check that every pair exists, every option resolves, and that the
numbers the text quotes are the ones in the pairs' metrics.json.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from explorer.config.options import resolve
from explorer.config.presets import preset_options
from explorer.figures.frame import LANDSCAPE_VIEWS

LAYERS = ("data", "samples", "arrows", "latent")   # the landscape's layers, as the page's checkboxes
# the page's tab ids without "-tab"
TABS = ("landscape", "compare", "gallery", "interpolation", "embedding", "draw", "densities", "studies")
VIEWS = tuple(LANDSCAPE_VIEWS)                    # the landscape's views: energy, density, log density


@dataclass(frozen=True)
class Setup:
    """What a step shows. Exactly one of `pair` (a folder of assets/pairs) and `preset` is set;
    `options` override the preset's (explorer/config/options.py names)."""
    pair: str | None = None
    preset: str | None = None
    options: dict = field(default_factory=dict)
    view: str = "energy"
    layers: tuple[str, ...] = ("data", "samples")
    tab: str = "landscape"

    def resolved_options(self) -> dict | None:
        """The checked options of a preset step (None for a pair step: the pair brings its own)."""
        if self.preset is None:
            return None
        return resolve(preset_options(self.preset), self.options)


@dataclass(frozen=True)
class Step:
    title: str
    text: str      # Markdown; KaTeX between $ and $$
    setup: Setup

    def __post_init__(self):
        object.__setattr__(self, "text", self.text.strip())


STEPS: tuple[Step, ...] = (
    Step("What an energy landscape is", r"""
An energy-based model gives every point $x$ a number, its **energy** $E(x)$: low where data is
likely, high elsewhere. The plot shows $E(x)$ of a pair trained on a ring of 8 Gaussians; the
dots are the real data, lying in the 8 valleys. The energy defines a probability density

$$p_E(x) = \frac{e^{-E(x)}}{Z}, \qquad Z = \int e^{-E(x)}\,dx .$$

**Look:** under the plot, switch *show* to **density**: the same landscape as probability, the
valleys turned into peaks. **log density** is $-E(x) - \log Z$, the energy upside down and shifted.
In 2-D, $Z$ is a sum over a grid (the plot's title gives $\log Z$); in 64 dimensions it cannot be
computed at all. The next step shows why training does not need it.
""", Setup(pair="ring", view="energy", layers=("data",))),

    Step("Why log Z cancels in the gradient", r"""
Training makes the data likely: raise $\log p_E(x) = -E_\theta(x) - \log Z_\theta$ at real $x$.
$Z_\theta$ depends on the parameters $\theta$, but its gradient is an average under the model:

$$\frac{\partial}{\partial\theta}\log p_E(x) = -\frac{\partial E_\theta(x)}{\partial\theta}
 + \mathbb{E}_{x'\sim p_E}\!\left[\frac{\partial E_\theta(x')}{\partial\theta}\right].$$

So training needs **samples of $p_E$**, never $Z$ itself: push the energy down at the data and up
at the samples. When the samples look like the data, the two pushes cancel.

**Look:** the view is now **log density**, with *generated* samples drawn over the real data. The
histogram below compares the energies of real data, generated samples and uniform noise: real and
generated overlap, noise sits far higher.
""", Setup(pair="ring", view="log density", layers=("data", "samples"))),

    Step("What the generator is for", r"""
Samples of $p_E$ usually come from MCMC: many small noisy steps downhill per sample. The paper
trains a **generator** instead, $x = G(z)$ with $z \sim U(-1, 1)^d$: one forward pass per sample.
The energy's loss is step 2's gradient with $G$'s samples standing in for $p_E$:

$$L_E = \mathbb{E}_{x\sim \text{data}}[E(x)] - \mathbb{E}_{z}[E(G(z))].$$

The generator learns to sample $p_E$ by minimising
$KL(p_G \,\|\, p_E) = \mathbb{E}_z[E(G(z))] - H(p_G) + \log Z$; $\log Z$ does not depend on $G$.

**Look:** the **latent grid G(z)** layer is on: the image of a grid over two latent coordinates,
folded by the generator onto the ring. In the curves, *mean E* (real data, generated) shows the two
terms of $L_E$.
""", Setup(pair="ring", view="energy", layers=("data", "samples", "latent"))),

    Step("Without the entropy term: collapse", r"""
The generator's loss is

$$L_G = \mathbb{E}_z[E(G(z))] - w\, H(p_G).$$

With $w = 0$ nothing stops the generator from putting every sample in the deepest valleys it has
found. This pair is the `lesson` preset (a generator learning 10x faster than its energy) with
**entropy weight 0**: it covers only **3 of 8 modes**, and 3 % of its samples are within 3 standard
deviations of a mode. Retrained, the same settings cover **0 to 7 of 8 modes** over seeds 0-9
(mean 4.6, the `lesson` study), and another CPU rounds differently and lands elsewhere in that
range: without the term, collapse is likely, not certain.

**Look:** the generated samples pile up in a few places, or in between modes; in the curves,
*modes covered* (evaluated every 250 steps on 1,000 samples) never reaches 8. The energy is dragged
along: its density puts **55 %** of its mass outside the plotted box (the title says so), and its
held-out NLL is **6.1 nats**, against **2.1** with the entropy term (next step).
""", Setup(pair="lesson-no-entropy", view="density", layers=("data", "samples"))),

    Step("An entropy term restores coverage", r"""
The same settings with **entropy weight 1** and a k-nearest-neighbour estimate of $H(p_G)$
(Kozachenko–Leonenko: entropy from each sample's distance to its 3rd-nearest neighbour in the
batch):
**8 of 8 modes** covered, as on every seed 0-9 of the `lesson` study. The samples are pushed
apart, so they spread over every valley.

The paper's own estimate is cheaper: treat each batch-normalised unit of $G$ as a Gaussian whose
standard deviation is its batch-norm scale $\gamma$,

$$H(p_G) \approx \sum_{\text{BN units}} \tfrac12 \log\!\left(2\pi e\,\gamma^2\right).$$

It is a **surrogate, not a bound**: scale a $\gamma$ up by $c$ and the next layer's weights down by
$c$, and the estimate grows by $\log c$ while not one sample changes.

**Try:** choose `ring-paper` in *pretrained pair* (the paper's estimate, weight 1): 8 of 8 too,
but look at **density**: its energy has deepened into spikes, not a density of the data. The `ring`
pair (EnergyLab's method) keeps every mode *and* a density. Without the entropy term the ring's own
settings still keep all 8 (`ring-no-entropy`): collapse needs a generator that outruns its energy,
as the lesson's 10x learning rate does.
""", Setup(pair="lesson", view="density", layers=("data", "samples"))),

    Step("Comparison with MCMC", r"""
The baseline the paper avoids: the same energy trained with negative samples from **Langevin
dynamics**, 20 steps per iteration on persistent chains (each iteration continues the last one's
chains, 5 % restarted from noise):

$$x \leftarrow x - \tfrac{\epsilon}{2}\,\nabla_x E(x) + \sqrt{\epsilon}\,\eta, \qquad \eta \sim \mathcal{N}(0, I).$$

**Look:** the dots are now Langevin chains, not generator samples. Every iteration costs 20
energy gradients instead of one generator pass: this pair trained at about **44 steps/s**, the
paper's generator (`ring-paper`) at about **173 steps/s** (the same 2-core CPU; each pair's
metrics.json). EnergyLab's method spends some of that gain on 5 Langevin steps from each generator
sample, which start where the generator put them, already in a well. And a new sample later needs a
long chain again, where the generator needs one pass (plus 5 steps).
""", Setup(pair="ring-langevin", view="energy", layers=("data", "samples"))),

    Step("Try it yourself", r"""
The controls now hold the `lesson` preset's settings with **entropy weight 0**, and a new run waits at
step 0.

1. Press **Train** and watch 3,000 steps (about 20 s on a 2-core CPU): the samples gather in a few
   places, and *modes covered* stays low (0 to 7 of 8 over seeds 0-9: change the seed and retry).
2. When it has finished, set **entropy weight** to **1** and press **Train** again: a new run with
   the same seed and data, only the weight differs. Compare *modes covered*.
3. The weight also changes mid-run: raise it while a collapsed run trains and watch the samples
   spread out.

Or open the **Compare** tab and press **Train both**: the two runs, identical but for the weight, train
side by side, with one chart of modes covered (the gap shows within about 15 s).
""", Setup(preset="lesson", options={"entropy_weight": 0.0}, view="density", layers=("data", "samples"))),
)


def step(number: int) -> Step:
    """Step `number`, counted from 1 as the page shows it."""
    if not 1 <= number <= len(STEPS):
        raise IndexError(f"the lesson has steps 1 to {len(STEPS)}, not {number}")
    return STEPS[number - 1]


def indicator(number: int) -> str:
    """The step indicator: 'Step 2 of 7 · Why log Z cancels in the gradient' and a row of dots."""
    if not 1 <= number <= len(STEPS):
        return f"**Lesson** · {len(STEPS)} steps: press **Next** to start"
    dots = " ".join("●" if i == number else "○" for i in range(1, len(STEPS) + 1))
    return f"**Step {number} of {len(STEPS)}** · {step(number).title}  \n{dots}"
