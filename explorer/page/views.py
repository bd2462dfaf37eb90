"""The gallery, interpolation and embedding views of a session's current pair: probe, then draw.

Each reads the pair under the session's lock (a live run keeps training between calls), so they
work the same on a pretrained pair, a paused run or one training right now.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.errors import UserInputError
from explorer.figures.views import embedding_figure, gallery_figure, interpolation_figure
from explorer.measures.embedding import Embedding, embed
from explorer.measures.evaluation import digits_classifier, energy_fn
from explorer.measures.gallery import Gallery, check_gallery_size, draw_latents, interpolate, make_gallery
from explorer.training.live import LiveSession

EMBED_POINTS = 2000     # real and generated points in a UMAP view (fewer real when the set is smaller)


@dataclass
class ViewState:
    """What the views remember for a session: the last gallery (whose latents interpolations
    reuse) and computed embeddings, keyed by the pair and step they show."""
    gallery: Gallery | None = None
    embeddings: dict = field(default_factory=dict)
    last_embedding: Embedding | None = None
    last_key: tuple = ()


# whether this process has computed a UMAP yet: the first compiles umap-learn's code (20-40 s).
# Not warmed at server start: that costs every server ~190 MB more resident memory (334 -> 525 MB,
# measured) and 15-25 s of CPU beside the first visitor's cold start, for a view few pages open.
_umap_compiled = False


def embedding_needs_fresh_layout(session: LiveSession, state: ViewState) -> bool:
    """Whether the next embedding is a layout from scratch (no UMAP yet of the current run), the
    slow case that the page announces at once; False with no pair (the embedding then says why)."""
    return session.run is not None and state.last_key[:1] != (id(session.run),)


def first_umap_in_process() -> bool:
    return not _umap_compiled


def _run(session: LiveSession):
    if session.run is None:
        raise UserInputError("no pair yet: choose a pretrained pair or press Train")
    return session.run


def _landscape(session: LiveSession):
    frame, _ = session.latest()
    return frame.landscape if frame is not None else None


def gallery(session: LiveSession, state: ViewState, n: int, seed: int, sort_by_energy: bool):
    run = _run(session)
    check_gallery_size(n)
    with session.lock:
        # the generator's own map G(z) (the weight average with ema), not refined: latents stay paired with samples
        generator = run.sampling_generator if run.options["sampler"] == "generator" else None
        samples = None if generator is not None else run.samples(n, seed)
        state.gallery = make_gallery(run.energy, generator, run.probe_real, n, seed, sort_by_energy, samples=samples)
        bounds = run.dataset.bounds
    return gallery_figure(state.gallery, _landscape(session), bounds)


def interpolation(session: LiveSession, state: ViewState, endpoints: str, first: int, second: int, seed: int,
                  steps: int, method: str):
    """endpoints: "random" (two latents from `seed`) or "gallery" (the latents of gallery samples
    #first and #second)."""
    run = _run(session)
    if run.options["sampler"] != "generator":
        raise UserInputError("the Langevin baseline has no generator, so no latent space to interpolate in")
    latent_dim = run.generator.config.latent_dim
    if endpoints == "gallery":
        if state.gallery is None or state.gallery.latents is None:
            raise UserInputError("draw a gallery first (Gallery tab), then pick two of its samples by number")
        count = len(state.gallery.latents)
        for index in (first, second):
            if not 0 <= index < count:
                raise UserInputError(f"sample numbers go from 0 to {count - 1}; got {index}")
        z0, z1 = state.gallery.latents[first], state.gallery.latents[second]
    else:
        z0, z1 = draw_latents(latent_dim, 2, seed)
    with session.lock:
        path = interpolate(run.energy, run.sampling_generator, z0, z1, steps, method)
        bounds = run.dataset.bounds
    return interpolation_figure(path, _landscape(session), bounds)


def colouring(session: LiveSession, colour_by: str) -> str:
    """The colouring an embedding of the current pair is drawn with: "class" needs the digits'
    classes, so 2-D points are coloured by source instead (the page offers "class" only for digits,
    but a radio left on "class" when the pair changes still says "class")."""
    has_classes = session.run is not None and session.run.dataset.labels is not None
    return "source" if colour_by == "class" and not has_classes else colour_by


def embedding(session: LiveSession, state: ViewState, colour_by: str, seed: int = 0, progress=None):
    """UMAP of real and generated points, coloured by `colouring(session, colour_by)`; cached per
    pair, step and seed."""
    global _umap_compiled
    run = _run(session)
    colour_by = colouring(session, colour_by)
    key = (id(run), run.step, seed)
    cached = state.embeddings.get(key)
    if cached is None and progress is not None:
        progress(0.05, desc="UMAP: " + ("the first after the server starts takes 20-40 s (UMAP compiles its code)"
                                        if first_umap_in_process() else "a few seconds"))
    with session.lock:
        dataset = run.dataset
        rng = np.random.default_rng(seed)
        if dataset.points is not None:
            take = min(EMBED_POINTS, len(dataset.points))
            real = dataset.points[rng.choice(len(dataset.points), size=take, replace=False)]
        else:
            real = dataset.sample(EMBED_POINTS, rng)
        fake = run.samples(EMBED_POINTS, seed) if cached is None else cached.fake
        energies = energy_fn(run.energy)
        real_energies, fake_energies = energies(real), energies(fake)
    if cached is None:
        if progress is not None:
            progress(0.1, desc="UMAP: nearest neighbours and layout" +
                     (" (the first after the server starts takes 20-40 s)" if first_umap_in_process() else ""))
        # warm start only from an earlier step of this same run: another pair's layout would bias this one
        previous = state.last_embedding if state.last_key[:1] == key[:1] else None
        cached = embed(real, fake, seed, previous=previous)
        _umap_compiled = True
        state.embeddings = {key: cached}   # one pair's worth: the current one
        state.last_embedding, state.last_key = cached, key
    labels = {}
    images = {}
    if dataset.labels is not None:
        classifier = digits_classifier()
        labels = {"real_labels": classifier.predict(cached.real), "fake_labels": classifier.predict(cached.fake)}
        images = {"real_images": cached.real, "fake_images": cached.fake}
    figure = embedding_figure(cached.real_2d, cached.fake_2d, colour_by=colour_by,
                              real_energies=real_energies, fake_energies=fake_energies,
                              seconds=cached.seconds, **labels, **images)
    return figure, cached
