"""The options table: layering (defaults < dataset defaults < preset < given), bounds with messages
that name the flag, and a property test that check_value never fails in any other way."""
import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.config.options import (
    DATASET_DEFAULTS,
    LIVE_SETTINGS,
    OPTION_BY_NAME,
    OPTIONS,
    Experiment,
    as_experiment,
    check_value,
    resolve,
)
from explorer.config.presets import PRESETS, preset_lines, preset_options
from explorer.errors import UserInputError

DEFAULT = {o.name: o.default for o in OPTIONS}

# ----------------------------------------------------------------------------- layering


def test_defaults_then_dataset_defaults():
    options = resolve()
    assert options["dataset"] == "ring"
    assert options["batch_size"] == DEFAULT["batch_size"]
    for name, value in DATASET_DEFAULTS["ring"].items():
        assert options[name] == value
    assert set(options) == set(OPTION_BY_NAME)


def test_dataset_defaults_override_defaults():
    digits = resolve(given={"dataset": "digits"})
    assert DATASET_DEFAULTS["digits"]["hidden"] != DEFAULT["hidden"]
    assert digits["hidden"] == DATASET_DEFAULTS["digits"]["hidden"]
    assert digits["latent_dim"] == DATASET_DEFAULTS["digits"]["latent_dim"] != DEFAULT["latent_dim"]
    assert digits["modes"] is None and digits["std"] is None  # ring/grid settings are dropped


def test_preset_overrides_dataset_defaults_and_given_overrides_preset():
    preset = {"dataset": "digits", "hidden": 64, "steps": 77}
    assert resolve(preset)["hidden"] == 64
    assert resolve(preset)["steps"] == 77
    both = resolve(preset, {"hidden": 32})
    assert both["hidden"] == 32 and both["steps"] == 77


def test_given_overrides_dataset_defaults():
    options = resolve(given={"dataset": "ring", "modes": 4, "std": 0.2})
    assert options["modes"] == 4 and options["std"] == 0.2
    assert options["radius"] == DATASET_DEFAULTS["ring"]["radius"]


def test_given_dataset_overrides_preset_dataset():
    options = resolve(preset_options("paper"), {"dataset": "grid"})
    assert options["dataset"] == "grid"
    assert options["modes"] == DATASET_DEFAULTS["grid"]["modes"]
    assert options["radius"] is None and options["spacing"] == DATASET_DEFAULTS["grid"]["spacing"]
    assert options["steps"] == PRESETS["paper"][1]["steps"]  # the rest of the preset stays


def test_none_in_given_means_not_given():
    preset = {"dataset": "ring", "batch_size": 48}
    assert resolve(preset, {"batch_size": None, "std": None})["batch_size"] == 48


def test_numbers_are_converted_to_their_kind():
    options = resolve(given={"steps": 30.0, "std": 1, "batch_size": "64"})
    assert options["steps"] == 30 and type(options["steps"]) is int
    assert options["std"] == 1.0 and type(options["std"]) is float
    assert options["batch_size"] == 64 and type(options["batch_size"]) is int


def test_every_preset_resolves():
    for name in PRESETS:
        needs_file = PRESETS[name][1].get("dataset") == "points"  # resolve checks the flag, not the file
        options = resolve(preset_options(name), {"points": "points.csv"} if needs_file else None)
        for key, value in PRESETS[name][1].items():
            assert options[key] == value
    assert len(preset_lines()) == len(PRESETS)
    with pytest.raises(UserInputError, match="unknown preset 'nope'"):
        preset_options("nope")


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("given, flag", [
    ({"std": 0}, "--std"),
    ({"std": -1}, "--std"),
    ({"std": float("nan")}, "--std"),
    ({"std": float("inf")}, "--std"),
    ({"batch_size": 0}, "--batch-size"),
    ({"batch_size": 2.5}, "--batch-size"),
    ({"steps": -5}, "--steps"),
    ({"steps": 10**400}, "--steps"),                    # beyond float range: once an OverflowError
    ({"steps": "1e400"}, "--steps"),
    ({"dataset": "grid", "modes": 7}, "--modes"),
    ({"modes": 0}, "--modes"),
    ({"dataset": "nowhere"}, "--dataset"),
    ({"std": "abc"}, "--std"),
    ({"lr_energy": "fast"}, "--lr-energy"),
    ({"entropy": "magic"}, "--entropy"),
    ({"sampler": 3}, "--sampler"),
    ({"seed": -1}, "--seed"),
    ({"dataset": "moons", "std": 0.1}, "--std"),       # does not apply to moons
    ({"dataset": "points"}, "--points"),               # points needs a file
], ids=lambda v: str(v) if isinstance(v, dict) else v)
def test_bad_values_raise_user_input_error_naming_the_flag(given, flag):
    with pytest.raises(UserInputError) as info:
        resolve(given=given)
    message = str(info.value)
    assert flag in message
    assert "\n" not in message


def test_unknown_setting_is_named():
    with pytest.raises(UserInputError, match="colour"):
        resolve(given={"colour": "red"})
    with pytest.raises(UserInputError, match="colour"):
        check_value("colour", 1)


def test_bad_preset_value_is_caught_too():
    with pytest.raises(UserInputError, match="--steps"):
        resolve({"dataset": "ring", "steps": 0})


# ----------------------------------------------------------------------------- property test

ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-10**400, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=5000),
    st.text(max_size=12),
    st.sampled_from(["1e400", "-inf", "nan", " 5 ", "0x10", "1_000", "2.5", "ring", "knn", "", "١٢"]),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from([o.name for o in OPTIONS]), value=ANY_VALUE)
def test_check_value_returns_a_valid_value_or_raises_user_input_error(name, value):
    option = OPTION_BY_NAME[name]
    try:
        result = check_value(name, value)
    except UserInputError as e:
        assert str(e) and "\n" not in str(e)
        return
    if value is None:
        assert result is None
        return
    if option.kind is str:
        assert isinstance(result, str)
        if option.choices:
            assert result in option.choices
        return
    assert type(result) is option.kind
    assert math.isfinite(result)
    assert option.low <= result <= option.high


# ----------------------------------------------------------------------------- the typed experiment
def test_an_experiment_has_a_typed_field_per_option_in_the_tables_order():
    assert [field.name for field in dataclasses.fields(Experiment)] == [option.name for option in OPTIONS]
    options = resolve(None, {"dataset": "grid", "seed": 3})
    assert isinstance(options, Experiment) and list(options) == list(OPTION_BY_NAME) and len(options) == len(OPTIONS)
    assert options.seed == options["seed"] == 3 and options.modes == 25 and options.radius is None


def test_an_experiment_reads_like_the_dict_of_options_and_cannot_be_changed_in_place():
    options = resolve(None, {"dataset": "grid", "seed": 3})
    assert options == dict(options) and dict(options) == options and options == resolve(None, dict(options))
    assert {**options, "seed": 4} != options and options.get("no such setting", 7) == 7
    assert options.items() and "spacing" in options and "no such setting" not in options
    with pytest.raises(KeyError):
        options["no such setting"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seed = 4
    assert as_experiment(options) is options and as_experiment({**options, "seed": 4}).seed == 4


def test_a_change_is_checked_and_only_live_settings_leave_the_run_as_it_is():
    assert LIVE_SETTINGS == ("entropy", "entropy_weight", "lr_energy", "lr_generator", "lr_decay",
                             "lr_final_generator", "energy_magnitude", "gradient_penalty", "energy_weight_decay",
                             "importance", "importance_floor", "uniform_negatives", "steps")
    options = resolve()
    changed = options.changed(entropy_weight=0, steps="300")
    assert changed.entropy_weight == 0.0 and type(changed.entropy_weight) is float and changed.steps == 300
    assert options.entropy_weight == 1.0   # a change is a new experiment
    with pytest.raises(UserInputError, match="entropy-weight"):
        options.changed(entropy_weight=-1)
    assert not options.shapes_differ(changed) and changed.live_settings() != options.live_settings()
    assert options.shapes_differ(options.changed(seed=1)) and options.shapes_differ({**options, "hidden": 8})
