"""One option schema: every entry point (flags, TOML, sweep specs, --set) converts and checks with the same code."""

import inspect
import re

import pytest

from neuronet.cli import train as train_command
from neuronet.config import TrainConfig, load_toml, resolve, validate
from neuronet.errors import ConfigError
from neuronet.experiments.base import parse_overrides
from neuronet.options import TRAIN, TRAIN_OPTIONS, Option, convert, options_for, parse_text
from neuronet.sweep import parse_spec


def _toml(tmp_path, text):
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


# -- the table drives the command line and the config ------------------------------------------
def test_every_training_option_is_a_flag_and_a_config_field_with_the_declared_default():
    flags = set(inspect.signature(train_command).parameters) - {"config"}
    assert flags == set(TRAIN), f"train's flags differ from the schema: {flags ^ set(TRAIN)}"
    cfg = TrainConfig()
    for opt in TRAIN_OPTIONS:
        assert getattr(cfg, opt.name) == opt.default, opt.name
    # the preset names where the defaults came from; its values are the options themselves
    assert TrainConfig.OUTPUT_KEYS == ("preset", "epochs", "out", "checkpoint_dir", "resume", "overwrite", "report")


def test_task_and_header_are_flags_with_an_auto_default(tmp_path):
    import typer

    from neuronet.cli import app

    train = typer.main.get_command(app).commands["train"]

    def parsed(*args):
        ctx = train.make_context("train", list(args))
        return resolve({k: v for k, v in ctx.params.items() if k != "config"})

    assert (parsed().task, parsed().header) == (None, None), "None: detect the task and the header, as before"
    assert parsed("--no-header").header is False and parsed("--header").header is True
    assert parsed("--task", "regression").task == "regression"
    with pytest.raises(ConfigError, match=r"^--task: must be one of classification, regression, got 'bogus'$"):
        parsed("--task", "bogus")
    cfg = resolve({}, _toml(tmp_path, 'task = "classification"\nheader = false\n'))
    assert (cfg.task, cfg.header) == ("classification", False)
    with pytest.raises(ConfigError, match="header: expected true or false, got 'no'"):
        resolve({}, _toml(tmp_path, 'header = "no"\n'))
    assert parse_text(TRAIN["header"], "none") is None


def test_checkpoints_of_earlier_versions_still_resume():
    """Options added later (preset, task, header) do not change the hash of a run that leaves them unset."""
    from neuronet.modelfile import config_hash

    cfg = TrainConfig()
    assert {"preset", "task", "header"}.isdisjoint(cfg.training_dict())
    golden = "ae85b386e57aaf9c762ede51fe1ecade540754deea81df339e50be4705a9921a"  # TrainConfig() before they existed
    assert config_hash(cfg.training_dict()) == golden
    assert config_hash(TrainConfig(preset="lecture-baseline").training_dict()) == golden, "the name is provenance"
    assert TrainConfig(task="regression").training_dict()["task"] == "regression", "a set task changes the run"


# -- strict types (booleans are not numbers, strings are not booleans) ------------------------
@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('standardize = "false"', "standardize: expected true or false, got 'false'"),
        ('resume = "false"', "resume: expected true or false"),
        ("epochs = true", "epochs: expected an integer, got true"),
        ("hidden = [true]", "hidden: expected comma-separated integers"),
        ("epochs = 2.5", "epochs: expected an integer, got 2.5"),
        ('lr = "0.1"', "lr: expected a number, got '0.1'"),
        ("lr = -1", "lr: must be > 0, got -1"),
        ("dropout = 1.0", "dropout: must be < 1, got 1.0"),
        ('dtype = "float16"', "dtype: must be one of float32, float64"),
        ('activation = "sigmoidd"', "activation: unknown"),
        ("targets = [0.9, 0.1]", "targets: low must be below high"),
        ("targets = [0.1, 0.5, 0.9]", "targets: expected two numbers"),
    ],
)
def test_toml_values_are_checked_strictly_naming_file_and_key(tmp_path, line, needle):
    path = _toml(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as info:
        resolve({}, path)
    msg = str(info.value)
    assert msg.startswith(f"--config {path}: "), msg
    assert needle in msg, msg
    assert "\n" not in msg


def test_toml_accepts_the_documented_forms_and_normalises_them(tmp_path):
    path = _toml(tmp_path, 'hidden = "32,16"\nbatch-size = "full"\ntargets = [0.15, 0.85]\nstandardize = true\n')
    cfg = resolve({"epochs": 3}, path)
    assert cfg.hidden == (32, 16) and cfg.batch_size is None and cfg.targets == (0.15, 0.85)
    assert cfg.standardize is True and cfg.epochs == 3  # the flag wins over the defaults
    assert resolve({}, _toml(tmp_path, "hidden = 64\n")).hidden == (64,)


def test_a_folder_given_as_config_is_named_as_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="is a folder; give a TOML file"):
        load_toml(tmp_path)


# -- the same option gives the same problem from every entry point -----------------------------
def test_one_problem_one_message_from_flags_toml_sweep_and_set(tmp_path):
    problem = "must be > 0, got -1"
    with pytest.raises(ConfigError) as flags:
        validate(TrainConfig(lr=-1))
    with pytest.raises(ConfigError) as toml:
        load_toml(_toml(tmp_path, "lr = -1\n"))
    with pytest.raises(ConfigError) as spec:
        parse_spec('experiment = "train"\nseeds = [0]\n[fixed]\nlr = -1\n', source="s.toml")
    assert str(flags.value) == f"--lr: {problem}"
    assert str(toml.value).endswith(f"lr: {problem}")
    assert str(spec.value) == f"s.toml: fixed.lr: {problem}"


def test_a_bad_fixed_value_is_blamed_on_itself_not_on_a_grid_key():
    text = 'experiment = "train"\nseeds = [0]\n[grid]\nlr = [0.1, 0.2]\n[fixed]\nepochs = -5\n'
    with pytest.raises(ConfigError) as info:
        parse_spec(text, source="s.toml")
    assert "fixed.epochs" in str(info.value) and "grid.lr" not in str(info.value), str(info.value)


@pytest.mark.parametrize(
    ("pair", "needle"),
    [
        ("seeds=a,b", "'a' is not an integer"),
        ("seeds=-1", "-1 is not an integer >= 0"),
        ("seeds=", "expected a non-empty list"),
        ("seeds=1,1", "a value is repeated"),
        ("epochs=0", "--set epochs: must be >= 1, got 0"),
        ("epochs=x", "--set epochs: expected an integer, got 'x'"),
    ],
)
def test_experiment_set_values_are_checked(pair, needle):
    from neuronet.experiments import get_experiment

    cls = get_experiment("dale").config_cls
    with pytest.raises(ConfigError) as info:
        parse_overrides(cls, [pair])
    assert needle in str(info.value), str(info.value)


def test_experiment_set_converts_typed_values():
    from neuronet.experiments import get_experiment

    cls = get_experiment("dale").config_cls
    got = parse_overrides(cls, ["seeds=3,4", "epochs=7"])
    assert got == {"seeds": (3, 4), "epochs": 7}
    assert options_for(cls)["epochs"].low == 1


# -- the converter itself -----------------------------------------------------------------------
def test_integers_refuse_booleans_and_fractions_but_take_integral_floats():
    opt = Option("n", "int", low=1)
    assert convert(opt, 3.0) == 3 and isinstance(convert(opt, 3.0), int)
    for bad in (True, 2.5, "3", None, [3]):
        with pytest.raises(ConfigError, match="^--n: "):
            convert(opt, bad)


def test_numbers_must_be_finite_and_inside_their_range():
    opt = TRAIN["momentum"]
    assert convert(opt, 0) == 0.0
    for bad, needle in ((1, "must be < 1"), (-0.1, "must be >= 0"), (float("nan"), "finite"), (True, "a boolean")):
        with pytest.raises(ConfigError, match=needle):
            convert(opt, bad)


def test_text_from_the_command_line_is_parsed_then_checked():
    assert parse_text(Option("b", "bool"), "off") is False
    assert parse_text(Option("b", "bool"), "YES") is True
    assert parse_text(TRAIN["max_grad_norm"], "none") is None
    assert parse_text(Option("x", "tuple", item="float"), "0.5, 1") == (0.5, 1.0)
    with pytest.raises(ConfigError, match="expected true or false, got 'maybe'"):
        parse_text(Option("b", "bool"), "maybe")


def test_an_encoder_spec_names_the_hidden_layer_unless_hidden_is_given():
    assert resolve({"data": "encoder:8-3-8"}).hidden == (3,)
    assert resolve({"data": "ENCODER:10-5-10"}).hidden == (5,)
    assert resolve({"data": "encoder:8-3-8", "hidden": (4, 4)}).hidden == (4, 4)  # the flag wins
    assert resolve({"data": "digits"}).hidden == (100,)  # the option's default elsewhere


def test_every_experiment_config_meets_its_own_option_ranges():
    # the conventions of options_for must hold for every shipped quick and full config
    import dataclasses

    from neuronet.experiments import get_experiment, sorted_names

    checked = 0
    for name in sorted_names():
        cls = get_experiment(name).config_cls
        opts = options_for(cls)
        for cfg in (cls(), cls.quick()):
            for f in dataclasses.fields(cfg):
                convert(opts[f.name], getattr(cfg, f.name), f"{name}.{f.name}")  # raises on a violation
                checked += 1
    assert checked > 400


@pytest.mark.parametrize(
    "pair,needle",
    [
        ("points=0", "--set points: must be >= 3"),
        ("points=-5", "--set points: must be >= 3"),
        ("x_max=0", "--set x_max: must be > 0"),
        ("x_max=-1", "--set x_max: must be > 0"),
        ("tail=1e308", "--set tail: must be < 0.5"),
        ("curvature_tolerance=-1", "--set curvature_tolerance: must be >= 0"),
    ],
)
def test_experiment_overrides_out_of_range_are_refused(pair, needle):
    from neuronet.experiments import get_experiment

    with pytest.raises(ConfigError, match=re.escape(needle)):
        parse_overrides(get_experiment("sigmoid-facts").config_cls, [pair])


def test_experiment_override_conventions():
    from neuronet.experiments import get_experiment

    remedies = get_experiment("remedies").config_cls
    assert parse_overrides(remedies, ["max_widen=0", "n_init_seeds=3"]) == {"max_widen": 0, "n_init_seeds": 3}
    for pair, needle in [("batch_size=0", ">= 1"), ("tie_tol=-0.1", ">= 0")]:
        with pytest.raises(ConfigError, match=re.escape(needle)):
            parse_overrides(remedies, [pair])
    lif = get_experiment("lif").config_cls
    assert parse_overrides(lif, ["v_rest_mv=-65"]) == {"v_rest_mv": -65.0}  # a potential may be negative
    assert parse_overrides(lif, ["warmup_ms=0"]) == {"warmup_ms": 0.0}  # count every spike
    hebb = get_experiment("hebb").config_cls
    assert parse_overrides(hebb, ["t_ref_ms=0"]) == {"t_ref_ms": 0.0}  # no refractory period
    with pytest.raises(ConfigError, match=re.escape("--set t_ref_ms: must be > 0")):
        parse_overrides(lif, ["t_ref_ms=0"])  # the lif experiment's ceiling is 1000 / t_ref
    xor = get_experiment("xor-relu").config_cls
    for pair in ("confidence=1", "confidence=0"):  # no interval at all
        with pytest.raises(ConfigError, match="--set confidence: must be"):
            parse_overrides(xor, [pair])
    for pair in ("dt_ms=0", "tau_m_ms=-1", "ladder_exc_share=1.5"):
        with pytest.raises(ConfigError):
            parse_overrides(lif, [pair])


@pytest.mark.parametrize("text", [",,,", "4,,4", "4,", ",4"])
def test_hidden_sizes_with_an_empty_item_are_refused(text):
    with pytest.raises(ConfigError, match="an empty item"):
        convert(TRAIN["hidden"], text, "--hidden")


def test_hidden_sizes_empty_text_means_no_hidden_layers():
    assert convert(TRAIN["hidden"], "", "--hidden") == ()
    assert convert(TRAIN["hidden"], " 4, 4 ", "--hidden") == (4, 4)


def test_resume_with_overwrite_resumes_as_the_help_says():
    # the README's advice is to rerun the same command with --resume, which may hold --overwrite
    cfg = resolve({"resume": True, "overwrite": True, "checkpoint_dir": "ck"})
    assert cfg.resume and "--resume wins over it" in TRAIN["overwrite"].help


def test_a_config_file_that_sets_an_option_twice_is_refused(tmp_path):
    p = tmp_path / "run.toml"
    p.write_text('batch-size = "full"\nbatch_size = 3\n')
    with pytest.raises(ConfigError, match=r"'batch_size' sets batch-size a second time"):
        load_toml(p)


@pytest.mark.parametrize("pair", ["hidden=,,,", "hidden=64,,32", "seeds=0,,1", "seeds=0,"])
def test_experiment_list_overrides_with_an_empty_item_are_refused(pair):
    from neuronet.experiments import get_experiment

    with pytest.raises(ConfigError, match="an empty item"):
        parse_overrides(get_experiment("saturation").config_cls, [pair])


def test_playground_hidden_layers_with_an_empty_item_are_refused():
    from neuronet.playground.options import OptionError, check_option

    for text in (",,,", "4,,4"):
        with pytest.raises(OptionError, match="an empty item"):
            check_option("hidden-layers", text)
