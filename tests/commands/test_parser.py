"""One config layer: the command line's defaults are the arguments classes' defaults, a config file plus
command-line overrides, dash and underscore spellings, refused arguments."""

import dataclasses

import pytest

from hf_clonelang import ConfigError
from hf_clonelang.commands.build import parse_build_args
from hf_clonelang.commands.train import parse_args
from hf_clonelang.data.arguments import CorpusArguments
from hf_clonelang.training.arguments import ImbalanceTrainingArguments, ModelArguments


def test_python_defaults_are_the_command_lines():
    model, corpus, training = parse_args([])
    assert model == ModelArguments() and corpus == CorpusArguments()
    python = ImbalanceTrainingArguments().to_dict()
    cli = training.to_dict()
    assert cli == python
    assert (cli["max_steps"], cli["learning_rate"], cli["output_dir"], cli["seed"]) == (800, 2e-3, "runs/default", 0)
    assert cli["lr_scheduler_kwargs"] == {"min_lr_rate": 0.1} and cli["eval_on_start"] is True


def test_a_config_file_with_command_line_overrides(tmp_path):
    cfg = tmp_path / "run.yaml"
    cfg.write_text("max_steps: 300\nlearning_rate: 3.0e-3\nvocab_size: 512\ntrain_files: [a.txt, b.txt]\n")
    for argv in (["--config", str(cfg)], [str(cfg)], [f"--config={cfg}"]):
        _, corpus, training = parse_args([*argv, "--max_steps", "50"])
        assert training.max_steps == 50  # the command line wins
        assert training.learning_rate == 3e-3 and corpus.vocab_size == 512  # YAML's 3.0e-3 read as a number
        assert corpus.train_files == ["a.txt", "b.txt"]
    _, corpus, _ = parse_args(["--vocab-size", "600", "--corpus-seed", "3"])  # dash spelling = underscore spelling
    assert (corpus.vocab_size, corpus.corpus_seed) == (600, 3)
    with pytest.raises(ConfigError, match="does not exist"):
        parse_args(["--config", str(tmp_path / "nope.yaml")])


def test_build_and_training_share_the_corpus_options():
    corpus, build = parse_build_args(["--output", "o", "--vocab-size", "300", "--corpus_config_name", "x"])
    _, trained, _ = parse_args(["--vocab_size", "300", "--corpus-config-name", "x"])
    assert corpus == trained and build.output == "o"
    assert {f.name for f in dataclasses.fields(CorpusArguments)}.isdisjoint(
        f.name for f in dataclasses.fields(ImbalanceTrainingArguments)
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--train_sampling_strategy", "sequential"], "train_sampling_strategy='sequential' is not allowed"),
        (["--max_eval_blocks", "0"], "max_eval_blocks=0 is not allowed"),
        (["--alignment_blocks", "-1"], "alignment_blocks=-1, alignment_gradient_blocks=4 are not allowed"),
        (["--num_train_epochs", "2"], "num_train_epochs=2.0 has no effect with max_steps=800"),
        (["--model_name_or_path", "m", "--n_layer", "3"], "--n_layer 3 cannot apply to --model_name_or_path m"),
        (["--model_name_or_path", "m", "--scale_input_embedding", "true"], "--scale_input_embedding True cannot"),
        (["--cloned_corpus", "me/c", "--vocab_size", "300"], "--vocab_size 300 cannot apply to --cloned_corpus"),
        (["--no_such_flag", "1"], "unknown arguments: --no_such_flag 1"),
        (["--confi", "x.yaml"], "unknown arguments: --confi"),  # no prefix matching (--config_name exists too)
        (["--dataset_name", "me/texts", "--train_files", "a.txt"], "train_files are both given"),
        (["--clone_fraction", "0"], r"clone_fraction=0.0 is not allowed"),
        (["--anchors", "popular"], "anchors='popular' is not allowed"),
    ],
)
def test_arguments_that_cannot_do_what_they_say_are_refused(argv, message):
    with pytest.raises(ConfigError, match=message):
        parse_args(argv)


def test_build_refuses_training_only_options(capsys):
    from hf_clonelang.commands.cli import main

    assert main(["build", "--output", "o", "--cloned_corpus", "me/c"]) == 2
    assert "--cloned_corpus is not allowed in build" in capsys.readouterr().err
    assert main(["build", "--bogus", "1"]) == 2  # an unknown flag is named before any value is checked
    assert "unknown arguments: --bogus 1" in capsys.readouterr().err
    assert main(["build", "--push_to_hub"]) == 2
    assert "--push_to_hub needs --hub_dataset_id" in capsys.readouterr().err


def test_align_takes_both_spellings():
    from hf_clonelang.commands.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["align", "run", "--corpus-cache-dir", "c"])
    assert (
        args.corpus_cache_dir == "c" == parser.parse_args(["align", "run", "--corpus_cache_dir", "c"]).corpus_cache_dir
    )


def test_a_list_flag_given_several_times_collects_every_value(tmp_path):
    argv = ["--language", "en=a.txt", "--vocab", "anchored", "--language=fr=b.txt", "--language", "de=c.txt"]
    _, corpus, _ = parse_args(argv)
    assert corpus.language == ["en=a.txt", "fr=b.txt", "de=c.txt"] and corpus.vocab_mode == "anchored"
    assert corpus.languages == [("en", "a.txt"), ("fr", "b.txt"), ("de", "c.txt")]
    cfg = tmp_path / "run.yaml"
    cfg.write_text("language: [en=a.txt, fr=b.txt]\n")
    _, corpus, _ = parse_args(["--config", str(cfg), "--language", "en=x.txt", "--language", "fr=y.txt"])
    assert corpus.language == ["en=x.txt", "fr=y.txt"]  # the command line's list replaces the file's
