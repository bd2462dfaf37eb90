"""The random streams drawn from one seed, each named once: the offset added to the seed it starts from.

A run draws its training data, its latents and its initial weights from its seed itself.
Everything it only shows or measures draws from streams of its own, so that drawing a frame,
recording the entropy or opening a tab never moves training, and shows the same thing every time.

The offsets differ so that no two streams of one run are the same (the same seed in two places
draws the same numbers); their values are otherwise arbitrary (small ones, or primes far from
them), but fixed: changing one changes every figure and measurement seeded with it.
"""

# from a run's seed
PROBE_OFFSET = 7919              # the probe seed: fixed real points, latents and samples every frame shows

# from the probe seed (a run's seed + PROBE_OFFSET)
PROBE_NOISE_OFFSET = 1           # uniform noise over the box, whose energies the histogram shows
ENTROPY_OFFSET = 7927            # the latents of the entropy record (explorer/measures/entropies.py)
DENSITY_SAMPLES_OFFSET = 7933    # the Densities tab's samples of the model (explorer/measures/densities.py)

# from the seed of an evaluation (explorer/measures/evaluation.py; the model's samples use the seed itself)
HELDOUT_OFFSET = 1               # fresh draws of the data, held out by construction
EVALUATION_NOISE_OFFSET = 2      # uniform noise over the box, for the energy means

# from the seed of a gallery (explorer/measures/gallery.py; its latents use the seed itself)
GALLERY_REAL_OFFSET = 1          # which real points are shown beside the samples

# not from any seed: a property of the data, the same for every run (explorer/config/build.py data_frame)
FRAME_SEED = 104729              # the draws that measure a shape's mean and spread for `standardise`
