"""The downstream probe: the paper's input format, a frozen model by default (full fine-tuning trains a copy), the
controls beside every accuracy, tasks from files with one or two text columns, real languages on their own data."""

import json

import numpy as np
import pytest
import torch
from probe_runs import save_run, write_task

from hf_clonelang import ConfigError, JointTokenizer
from hf_clonelang.analysis.probing.inputs import encode
from hf_clonelang.analysis.probing.probe import _fit, _Rows, load_probed_model, probe_model
from hf_clonelang.analysis.probing.recipe import ProbeRecipe
from hf_clonelang.analysis.probing.tasks import TaskOptions, load_task

FAST = ProbeRecipe(learning_rate=1e-2, batch_size=8, gradient_accumulation_steps=1, epochs=4, eval_steps=10)
"""A variant that learns the tests' small tasks in seconds."""


def test_the_paper_recipe_is_the_default():
    recipe = ProbeRecipe()
    assert recipe.is_paper and recipe.to_dict()["paper_recipe"]
    assert (recipe.finetune, recipe.pooling, recipe.max_length, recipe.learning_rate) == ("head", "final-position",
                                                                                          128, 5e-5)  # fmt: skip
    assert (recipe.batch_size * recipe.gradient_accumulation_steps, recipe.epochs, recipe.eval_steps) == (64, 10, 200)
    assert (recipe.patience, recipe.threshold, recipe.dropout, recipe.seed) == (10, 0.001, 0.1, 12)
    assert not recipe.early_stopping  # as the reference ran (finetune_task.sh:62: --save_strategy no)
    assert not FAST.is_paper
    with pytest.raises(ConfigError, match="--pooling 'mean' is not allowed"):
        ProbeRecipe(pooling="mean")


def test_inputs_end_each_text_with_its_languages_end_of_document_and_pad_without_a_mask(cloned_run):
    probed = load_probed_model(cloned_run)
    tok1, tok2 = probed.tokenizers[1], probed.tokenizers[2]
    texts = [("a cat", "the dog"), ("sun " * 40, "rain")]
    out = encode(tok2, texts, 16, "final-position")
    assert set(out) == {"input_ids"} and out["input_ids"].shape == (2, 16)
    first = tok2("a cat", add_special_tokens=False)["input_ids"] + [tok2.eos_token_id]
    first += tok2("the dog", add_special_tokens=False)["input_ids"] + [tok2.eos_token_id]
    assert out["input_ids"][0, : len(first)].tolist() == first
    assert (out["input_ids"][0, len(first) :] == tok2.pad_token_id).all()  # the shared padding id fills the rest
    assert tok2.pad_token_id == tok1.pad_token_id and tok2.eos_token_id != tok1.eos_token_id  # eos is cloned
    long = tok2("sun " * 40, add_special_tokens=False)["input_ids"]
    assert out["input_ids"][1].tolist() == long[:16]  # padded, then cut: a long text loses its eos (as the reference)
    same = encode(tok1, texts, 16, "final-position")["input_ids"]
    assert int(same[0, 0]) < probed.tokenizers[1].vocab_size <= int(out["input_ids"][0, 0])  # L1's ids, L2's above
    masked = encode(tok2, texts, 16, "last-token")
    assert masked["attention_mask"][0].sum() == len(first) and masked["last"].tolist() == [len(first) - 1, 15]


def test_a_default_probe_trains_the_head_only_and_full_fine_tuning_a_copy_of_the_model(cloned_run, task_file):
    probed = load_probed_model(cloned_run)
    before = {k: v.clone() for k, v in probed.model.state_dict().items()}
    task = load_task(str(task_file), {1: None, 2: None}, TaskOptions())
    for recipe in (FAST, ProbeRecipe(**{**FAST.__dict__, "finetune": "full"})):
        rows = _Rows(probed, recipe, 32)
        where = cloned_run.parent / f"fit-{recipe.finetune}"
        fitted, summary = _fit(
            rows, probed.model, task.train[1], task.eval[1], 1, where, task.num_labels, "none", True
        )
        assert where.is_dir() and not list(where.glob("checkpoint-*"))  # the best weights loaded, checkpoints gone
        trained = {n: p.numel() for n, p in fitted.trainer.model.named_parameters() if p.requires_grad}
        if recipe.finetune == "head":  # a linear head of 32 features and 2 labels; nothing of the model is there
            assert trained == {"classifier.weight": 64, "classifier.bias": 2}
        else:
            copy = dict(fitted.trainer.model.model.named_parameters())
            changed = [n for n, p in copy.items() if not torch.equal(p.detach().cpu(), before[n])]
            assert len(changed) > len(copy) // 2, changed  # the copy's weights moved
        for name, value in probed.model.state_dict().items():
            assert torch.equal(value, before[name]), name  # the probed model itself never changes
        assert summary["steps"] > 0 and summary["evaluations"] >= 1


def test_the_probe_reports_every_language_with_its_controls(cloned_run, task_file):
    result = probe_model(cloned_run, [str(task_file)], FAST, disable_tqdm=True)
    entry = result["tasks"]["topics"]
    assert entry["labels"] == ["animals", "weather"]  # string labels: sorted class names
    l1, l2 = entry["languages"]["L1"], entry["languages"]["L2"]
    assert l1["accuracy"] >= 0.8 and not l1["zero_shot"] and l2["zero_shot"]  # the words alone separate the topics
    assert l2["ceiling"] >= 0.8  # trained in L2 itself, the probe learns it as well
    assert l1["ceiling"] == l1["accuracy"]  # in the training language the probe is its own ceiling
    assert 0.4 <= l1["majority"] <= 0.6 and l1["majority"] == l2["majority"]  # the same texts in both languages
    assert l1["random_init"] < l1["accuracy"] - 0.1  # the control is another model: it reads the topic worse
    assert l1["examples"] == l2["examples"] == 20  # datasets rounds the 0.2 share up
    assert result["mean"]["L2"]["accuracy"] == l2["accuracy"]  # one task: its mean is itself
    assert set(entry["training"]) == {"probe", "ceiling_L2", "random_init"}
    assert result["recipe"]["max_length"] == 32  # the model's context is shorter than the recipe's 128
    again = probe_model(cloned_run, [str(task_file)], FAST, disable_tqdm=True)
    assert again["tasks"] == {**result["tasks"], "topics": {**entry, "seconds": again["tasks"]["topics"]["seconds"]}}


def test_features_are_computed_once_per_language_and_every_epoch_trains(cloned_run, task_file):
    """The paper's recipe as the reference ran it: no early stopping, the last weights; the frozen model's features
    computed once per language and split, however many probes read them. The early-stopping variant selects."""
    probed = load_probed_model(cloned_run)
    calls = []
    hook = probed.model.transformer.h[-1].register_forward_hook(lambda *args: calls.append(1))
    try:
        result = probe_model(probed, [str(task_file)], FAST, disable_tqdm=True)
    finally:
        hook.remove()
    assert len(calls) == 2 * (2 + 1)  # 2 languages x (76 training + 20 evaluation examples, 64 a batch)
    fits = result["tasks"]["topics"]["training"]
    assert all(f["best_step"] is None and f["epochs"] == FAST.epochs for f in fits.values())  # no early stopping
    assert fits["probe"]["steps"] == 4 * 10 and fits["probe"]["evaluations"] == 4  # 76 examples / 8: 10 a epoch
    stopping = ProbeRecipe(**{**FAST.__dict__, "early_stopping": True, "patience": 1, "threshold": 0.5})
    fit = probe_model(probed, [str(task_file)], stopping, disable_tqdm=True)["tasks"]["topics"]["training"]["probe"]
    assert fit["steps"] == 20 and fit["evaluations"] == 2  # stopped at the 2nd evaluation: no gain above 0.5
    assert fit["best_step"] in (10, 20) and fit["best_evaluation"] is not None  # the better one's weights kept


def test_sentence_pairs_and_integer_labels(tmp_path, cloned_run):
    pairs = write_task(tmp_path / "pairs.csv", pairs=True)
    task = load_task(str(pairs), {1: None, 2: None}, TaskOptions())
    assert task.label_names == ("False", "True") and len(task.train[1].texts[0]) == 2
    rows = [json.dumps({"text": f"text {i}", "label": i % 3, "idx": i}) for i in range(40)]
    (tmp_path / "ints.jsonl").write_text("\n".join(rows))
    ints = load_task(str(tmp_path / "ints.jsonl"), {1: None}, TaskOptions(max_train_examples=10))
    assert ints.label_names == ("0", "1", "2") and len(ints.train[1]) == 10 and len(ints.eval[1]) == 8
    rows = [json.dumps({"review": f"text {i}", "label": 1 + i % 2, "idx": i}) for i in range(40)]
    (tmp_path / "two.jsonl").write_text("\n".join(rows))
    two = load_task(str(tmp_path / "two.jsonl"), {1: None}, TaskOptions())  # one string column, another name
    assert two.label_names == ("1", "2") and two.num_labels == 2  # the reference's label_to_id: two classes
    assert set(two.train[1].labels.tolist()) == {0, 1} and two.train[1].texts[0][0].startswith("text ")
    assert set(ints.eval[1].labels.tolist()) <= {0, 1, 2} and ints.train[1].labels.dtype == np.int64


def test_real_languages_read_their_own_data(tmp_path, base_tokenizer):
    joint = JointTokenizer([base_tokenizer, base_tokenizer], mode="disjoint", names=["en", "fr"])
    run = save_run(tmp_path / "real", joint)
    with pytest.raises(ConfigError, match="embedded holds English stories only"):
        probe_model(run, ["embedded"], FAST)
    with pytest.raises(ConfigError, match=r"each language is evaluated on its own labelled data; put \{lang\}"):
        probe_model(run, [str(write_task(tmp_path / "one.csv"))], FAST)
    write_task(tmp_path / "task_en.csv", seed=1)
    write_task(tmp_path / "task_fr.csv", seed=2, n=64)
    result = probe_model(run, [str(tmp_path / "task_{lang}.csv")], FAST, disable_tqdm=True)
    langs = result["tasks"]["task_lang"]["languages"]
    assert set(langs) == {"L1 (en)", "L2 (fr)"} and langs["L2 (fr)"]["examples"] == 13
    assert result["train_language"] == "L1 (en)"
