"""Published results to stand beside a study's, each with its paper, table and protocol.

PacGAN (Lin, Khetan, Fanti & Oh, NeurIPS 2018, "PacGAN: The power of two samples in generative
adversarial networks"), Table 1, 10 trials: ring = 8 modes on the unit circle, std 0.01; grid =
modes at {-4, -2, 0, 2, 4}^2, std 0.05; 2,500 samples; high quality = within 3 std of a mode.
VEEGAN (Srivastava, Valkov, Russell, Gutmann & Sutton, NeurIPS 2017), Table 1, 5 runs, on its own
set-up (networks, training length and data as that paper describes them): its GAN covers 1 ring
mode where PacGAN's covers 6.3, so each table is cited with its own protocol and never mixed.
Columns: modes covered (mean), high-quality samples (%), reverse KL of the mode histogram.
"""
from __future__ import annotations

PACGAN = "PacGAN (Lin et al. 2018), Table 1: 10 trials, 2,500 samples"
VEEGAN = "VEEGAN (Srivastava et al. 2017), Table 1: 5 runs, its own set-up"

# table -> (citation, modes total, [(method, modes covered, high-quality %, reverse KL or None)])
PUBLISHED: dict[str, tuple[str, int, list[tuple[str, float, float, float | None]]]] = {
    "pacgan-ring": (PACGAN, 8, [
        ("GAN", 6.3, 98.2, 0.45), ("ALI", 6.6, 97.6, 0.36), ("PacGAN2", 7.9, 95.6, 0.07),
        ("PacGAN3", 7.8, 97.7, 0.10), ("PacGAN4", 7.8, 95.9, 0.07)]),
    "pacgan-grid": (PACGAN, 25, [
        ("GAN", 17.3, 94.8, 0.70), ("ALI", 24.1, 95.7, 0.14), ("PacGAN2", 23.8, 91.3, 0.13),
        ("PacGAN3", 24.6, 94.2, 0.06), ("PacGAN4", 24.8, 93.6, 0.04)]),
    "veegan-ring": (VEEGAN, 8, [
        ("GAN", 1, 99.3, None), ("ALI", 2.8, 0.13, None), ("Unrolled GAN", 7.6, 35.6, None),
        ("VEEGAN", 8, 52.9, None)]),
    "veegan-grid": (VEEGAN, 25, [
        ("GAN", 3.3, 0.5, None), ("ALI", 15.8, 1.6, None), ("Unrolled GAN", 23.6, 16, None),
        ("VEEGAN", 24.6, 40, None)]),
}
