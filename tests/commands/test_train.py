"""run_clm_imbalance.py end to end: outputs, resume equivalence, a config file, two CPU processes, bad input."""

import json
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from toolkit import (
    TINY_CORPUS,
    TINY_MODEL,
    TRAINING_SCRIPT,
    run_training,
    subprocess_env,
    tiny_run_flags,
    tiny_run_settings,
)
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang import BaseCorpus, ClonedCorpusConfig
from hf_clonelang.commands.train import cli, configure_logging
from hf_clonelang.data.corpus_folder import save_cloned_corpus
from hf_clonelang.training.arguments import ImbalanceTrainingArguments


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("corpus_cache"))


def _run(output_dir, corpus_cache, *extra, **overrides):
    """A tiny run (60 steps x 4 x 32 tokens unless overridden) into ``output_dir``; its all_results.json."""
    run_training(*tiny_run_flags(output_dir=output_dir, corpus_cache_dir=corpus_cache, **overrides), *extra)
    return json.loads((Path(output_dir) / "all_results.json").read_text())


def _history(run_dir):
    return json.loads((Path(run_dir) / "trainer_state.json").read_text())["log_history"]


@pytest.fixture(scope="module")
def tiny_run_process(tmp_path_factory, corpus_cache):
    """The default tiny run: its folder and its finished process (what it printed)."""
    out = tmp_path_factory.mktemp("run") / "r"
    return out, run_training(*tiny_run_flags(output_dir=out, corpus_cache_dir=corpus_cache))


@pytest.fixture(scope="module")
def tiny_run(tiny_run_process):
    out, _ = tiny_run_process
    return out, json.loads((out / "all_results.json").read_text())


def test_the_script_logs_as_run_clm_does(tiny_run_process, tmp_path):
    """transformers' run_clm.py logging: the main process at info by default (Trainer's passive level), one format
    on stdout for hf_clonelang and datasets, transformers' explicit format; --log_level sets every library, and
    Python's warnings show on the main process only."""
    import datasets
    import transformers

    _, proc = tiny_run_process
    line = r"^\d\d/\d\d/\d{4} [\d:]{8} - INFO - hf_clonelang\.commands\.train - process 0 of 1 on cpu"
    assert re.search(line, proc.stdout, re.M), proc.stdout[:2000]
    assert " - INFO - datasets." in proc.stdout and "[INFO|" in proc.stderr

    def levels():
        named = [logging.getLogger(name).level for name in ("hf_clonelang", "py.warnings")]
        return [*named, transformers.logging.get_verbosity(), datasets.logging.get_verbosity()]

    before = levels()
    restore = configure_logging(ImbalanceTrainingArguments(output_dir=str(tmp_path), log_level="error", use_cpu=True))
    try:
        assert levels() == [logging.ERROR, logging.WARNING, logging.ERROR, logging.ERROR]  # warnings: main only
    finally:
        restore()
    assert levels() == before  # a Python caller's logging is left as it was


def test_run_folder_is_complete(tiny_run):
    out, results = tiny_run
    for k in (1, 2):
        for key in (f"eval_L{k}_loss", f"eval_L{k}_ppl", f"train_tokens_L{k}"):
            assert key in results, key
    assert results["train_tokens_L1"] + results["train_tokens_L2"] == 60 * 4 * 32
    assert abs(results["train_tokens_L2"] / (60 * 4 * 32) - 0.1) <= 1 / 240  # 90/10 by default
    for name in (
        "model.safetensors",
        "config.json",
        "trainer_state.json",
        "eval_loss.png",
        "README.md",
        "cloned_tokenizer.json",
        "tokenizers/L2/tokenizer.json",
        "run_info.json",
        "checkpoint-30",
    ):
        assert (out / name).exists(), name
    info = json.loads((out / "run_info.json").read_text())
    assert info["language_schedule"] == "0.9,0.1"
    # the test text: the paper's windows (32 tokens advanced by 8, a quarter) over the 8 test blocks as one stream,
    # and every position of the blocks
    assert (info["evaluation"]["test_window"], info["evaluation"]["test_stride"]) == (32, 8)
    for k in (1, 2):
        assert results[f"test_L{k}_tokens"] == 8 * 32 - (32 - 8 + 1)
        assert results[f"test_L{k}_ppl"] > 1 and results[f"test_L{k}_blocks_ppl"] > 1
        assert results[f"test_L{k}_ppl"] != results[f"test_L{k}_blocks_ppl"]


def test_the_rare_language_learns(tiny_run):
    out, results = tiny_run
    first = next(e for e in _history(out) if "eval_L2_loss" in e)
    assert first["step"] == 0  # evaluated before training
    assert results["eval_L2_loss"] < first["eval_L2_loss"] - 0.5  # perplexity at least 1.6x lower


def test_plain_transformers_loads_the_run_in_every_language(tiny_run):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _ = tiny_run
    model = AutoModelForCausalLM.from_pretrained(out)
    l2 = AutoTokenizer.from_pretrained(out, subfolder="tokenizers/L2")
    ids = l2("The little fox found a kite.", return_tensors="pt")["input_ids"]
    assert ids.min() >= 300  # already in L2's range
    assert model(ids).logits.shape[-1] == json.loads((out / "run_info.json").read_text())["tokenizer"]["vocab_size"]


@pytest.mark.slow  # a second full run
def test_resume_from_a_checkpoint_gives_the_same_run(tiny_run, tmp_path, corpus_cache):
    full, results = tiny_run
    resumed = tmp_path / "resumed"
    resumed.mkdir()
    shutil.copytree(full / "checkpoint-30", resumed / "checkpoint-30")  # a run stopped after its checkpoint
    again = _run(resumed, corpus_cache, resume_from_checkpoint="true")
    keep = (
        "loss",
        "train_loss_L1",
        "train_loss_L2",
        "train_tokens_L1",
        "train_tokens_L2",
        "eval_L1_loss",
        "eval_L2_loss",
    )
    after = [{k: e[k] for k in keep if k in e} | {"step": e["step"]} for e in _history(full) if e["step"] > 30]
    replay = [{k: e[k] for k in keep if k in e} | {"step": e["step"]} for e in _history(resumed) if e["step"] > 30]
    assert after and len(after) == len(replay)
    for a, b in zip(after, replay, strict=True):
        assert a.keys() == b.keys()
        for k in a:
            assert b[k] == pytest.approx(a[k], rel=1e-6), (a["step"], k)
    for k in ("eval_L1_loss", "eval_L2_loss", "train_tokens_L1", "train_tokens_L2"):
        assert again[k] == pytest.approx(results[k], rel=1e-6), k
    assert again["train_loss"] == pytest.approx(results["train_loss"], rel=1e-3)  # from logs rounded to 4 digits
    at_resume = [e for e in _history(resumed) if e["step"] == 30 and "eval_L1_loss" in e]
    assert len(at_resume) == 1  # the evaluation at the resumed step is not logged twice


def test_arguments_from_a_yaml_file(tmp_path, corpus_cache):
    config = tmp_path / "run.yaml"
    settings = tiny_run_settings(
        output_dir=tmp_path / "out",
        corpus_cache_dir=corpus_cache,
        language_schedule="0.5,0.5",
        max_steps=5,
        save_steps=5,
    )
    config.write_text("".join(f"{k}: {v}\n" for k, v in settings.items()))
    run_training(config)
    results = json.loads((tmp_path / "out" / "all_results.json").read_text())
    assert results["train_tokens_L1"] == results["train_tokens_L2"] == 5 * 4 * 32 // 2


@pytest.mark.slow  # two processes over gloo
def test_two_cpu_processes_train_the_stream_of_one_with_twice_the_batch(tmp_path, corpus_cache):
    single = _run(tmp_path / "one", corpus_cache, per_device_train_batch_size=8, language_schedule="0.1_0.9")
    cmd = [
        "accelerate",
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        TRAINING_SCRIPT,
        "--use_cpu",
        "true",
        *tiny_run_flags(
            output_dir=tmp_path / "two",
            corpus_cache_dir=corpus_cache,
            per_device_train_batch_size=4,
            language_schedule="0.1_0.9",
        ),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=subprocess_env())
    results_path = tmp_path / "two" / "all_results.json"
    assert results_path.exists(), proc.stderr[-3000:]  # judged by its outputs (gloo may abort at exit)
    two = json.loads(results_path.read_text())
    assert json.loads((tmp_path / "two" / "run_info.json").read_text())["samples_per_step"] == 8
    for k in ("train_tokens_L1", "train_tokens_L2"):
        assert two[k] == single[k]
    for k in ("eval_L1_loss", "eval_L2_loss", "train_loss"):
        assert two[k] == pytest.approx(single[k], rel=2e-3), k
    steps_one = [e["train_loss_L2"] for e in _history(tmp_path / "one") if "train_loss_L2" in e]
    steps_two = [e["train_loss_L2"] for e in _history(tmp_path / "two") if "train_loss_L2" in e]
    assert steps_two == pytest.approx(steps_one, rel=2e-3)


@pytest.fixture(scope="module")
def l1_only_corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("pool") / "corpus"
    config = ClonedCorpusConfig(
        base=BaseCorpus(max_documents=200), vocab_size=300, block_size=32, eval_blocks=8, ratios=(1.0, 0.0)
    )
    save_cloned_corpus(config, out)
    return str(out)


def _fails(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        cli(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2
    assert err[-1].startswith("run_clm_imbalance.py: error: ") and message in err[-1], err[-1]


def test_bad_input_stops_before_training(tmp_path, capsys, corpus_cache, l1_only_corpus):
    base = tiny_run_flags(output_dir=tmp_path / "o", corpus_cache_dir=corpus_cache)
    _fails(capsys, [*base, "--language_schedule", "0.1_x"], "stage 2 value 'x' is not a number")
    _fails(capsys, [*base, "--language_schedule", "0.2,0.3,0.5"], "has 3 probabilities for 2 languages")
    _fails(capsys, [*base, "--language_schedule", "0.7,0.7"], "sums to 1.4, not 1")
    _fails(capsys, [*base, "--language_schedule", "0.1_0.9", "--max_steps", "-1"], "set max_steps")
    small = GPT2LMHeadModel(GPT2Config(vocab_size=50, n_positions=32, n_layer=1, n_embd=16, n_head=2))
    small.save_pretrained(tmp_path / "small")
    checkpoint = ["--model_name_or_path", str(tmp_path / "small")]
    from_checkpoint = tiny_run_flags(*TINY_MODEL, output_dir=tmp_path / "o", corpus_cache_dir=corpus_cache)
    _fails(capsys, [*from_checkpoint, *checkpoint], "embedding has 50 rows")
    _fails(capsys, [*base, *checkpoint], "--n_layer 2, --n_embd 64, --n_head 2 cannot apply to --model_name_or_path")
    GPT2Config(n_positions=16, n_layer=1, n_embd=16, n_head=2).save_pretrained(tmp_path / "short")
    _fails(capsys, [*base, "--config_name", str(tmp_path / "short")], "block_size=32 is larger than the model's")
    pool = tiny_run_flags(*TINY_CORPUS, output_dir=tmp_path / "o")
    _fails(capsys, [*pool, "--cloned_corpus", l1_only_corpus], "no rows in language L2")
    _fails(capsys, [*base, "--cloned_corpus", l1_only_corpus], "--max_documents 400, --vocab_size 300")
    assert not (tmp_path / "o" / "model.safetensors").exists()


def test_the_precision_that_ran_is_recorded(tmp_path, corpus_cache, monkeypatch):
    """`accelerate launch --mixed_precision bf16` sets the accelerator's precision, not Trainer's --bf16: the run
    folder records what the accelerator ran (here bf16 autocast on the CPU)."""
    from hf_clonelang.commands.train import main

    monkeypatch.setenv("ACCELERATE_MIXED_PRECISION", "bf16")
    main(tiny_run_flags(output_dir=tmp_path / "bf16", corpus_cache_dir=corpus_cache, max_steps="4", eval_steps="4"))
    info = json.loads((tmp_path / "bf16" / "run_info.json").read_text())
    assert info["training"]["precision"] == "bf16 mixed precision"
    assert "bf16 mixed precision" in (tmp_path / "bf16" / "README.md").read_text()
    monkeypatch.delenv("ACCELERATE_MIXED_PRECISION")
    main(tiny_run_flags(output_dir=tmp_path / "fp32", corpus_cache_dir=corpus_cache, max_steps="2", eval_steps="2"))
    assert json.loads((tmp_path / "fp32" / "run_info.json").read_text())["training"]["precision"] == "fp32"


@pytest.mark.slow  # compiling takes about a minute on a CPU
def test_torch_compile_trains_with_the_language_machinery(tmp_path, corpus_cache):
    results = _run(tmp_path / "compiled", corpus_cache, "--torch_compile", "true", max_steps="6", eval_steps="3")
    assert results["train_tokens_L1"] + results["train_tokens_L2"] == 6 * 4 * 32
    assert "eval_L1_L2_hidden_cosine" in results  # alignment measured on the compiled model's weights
    from transformers import AutoModelForCausalLM

    AutoModelForCausalLM.from_pretrained(tmp_path / "compiled")  # saved without the compile wrapper's prefixes
