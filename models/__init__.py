"""The method itself, in torch alone: networks, entropy estimators, training step, checkpoints."""
from .checkpoint import CheckpointError, load_pair, read_config, save_pair
from .ema import GeneratorAverage
from .energy import DeepEnergy, EnergyConfig
from .entropy import BATCH_ESTIMATORS, ESTIMATORS, NOISY_ESTIMATORS, entropy_estimate
from .generator import Generator, GeneratorConfig
from .langevin import LangevinConfig, PersistentSampler, langevin_chain, refine
from .training import SAMPLERS, TrainConfig, TrainingState, train_step

__all__ = ["CheckpointError", "load_pair", "read_config", "save_pair", "DeepEnergy", "EnergyConfig",
           "BATCH_ESTIMATORS", "ESTIMATORS", "NOISY_ESTIMATORS", "entropy_estimate", "Generator", "GeneratorConfig",
           "GeneratorAverage", "LangevinConfig", "PersistentSampler", "langevin_chain", "refine", "SAMPLERS",
           "TrainConfig", "TrainingState", "train_step"]
