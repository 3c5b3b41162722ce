"""AlignmentCallback with a plain `transformers.Trainer`: once per evaluation, in the metrics and the log history."""

import json

import pytest
import torch
from transformers import GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments

from hf_clonelang import AlignmentCallback, ConfigError
from hf_clonelang.training.modeling import gpt2_config


@pytest.fixture(scope="module")
def corpus(tiny_corpus):
    return tiny_corpus


def _lm_batch(rows):
    ids = torch.tensor([r["input_ids"] for r in rows])
    return {"input_ids": ids, "labels": ids}


def test_a_plain_trainer_measures_alignment_once_per_evaluation(corpus, tmp_path):
    dsd, tok = corpus
    torch.manual_seed(0)
    model = GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 32, n_layer=2, n_embd=64, n_head=2))
    blocks = dsd["validation_L1"]["input_ids"][:5]
    callback = AlignmentCallback(blocks, tok, gradient_blocks=2)
    args = TrainingArguments(
        output_dir=str(tmp_path),
        max_steps=4,
        per_device_train_batch_size=4,
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    evals = {f"L{k}": dsd[f"validation_L{k}"].select(range(4)) for k in (1, 2)}
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=dsd["train"].remove_columns(["language"]),
        eval_dataset=evals,
        data_collator=_lm_batch,
    )
    trainer.add_callback(callback)
    trainer.train()
    logged = [e for e in trainer.state.log_history if "eval_L1_L2_hidden_cosine" in e]
    assert [e["step"] for e in logged] == [2, 4]  # two evaluations of two eval sets each: measured twice
    for key in ("hidden_cosine_centred", "retrieval_at_1", "gradient_cosine", "embedding_cosine"):
        assert f"eval_L1_L2_{key}" in logged[-1], key
    assert -1.0 <= logged[-1]["eval_L1_L2_hidden_cosine"] <= 1.0
    assert callback.last_report["L1-L2"]["blocks"] == 5

    metrics = trainer.evaluate()  # another evaluation at the same step measures again
    assert "eval_L1_L2_hidden_cosine" in metrics
    lines = (tmp_path / "alignment_history.jsonl").read_text().splitlines()
    assert [json.loads(line)["step"] for line in lines] == [2, 4, 4]


class _Spy(TrainerCallback):
    """What an integration (TensorBoard, W&B) receives: the logs of Trainer.log."""

    def __init__(self):
        self.logged = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logged.append(dict(logs or {}))


def test_attached_the_numbers_reach_the_integrations_and_test_sets_are_left_alone(corpus, tmp_path):
    dsd, tok = corpus
    torch.manual_seed(0)
    model = GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 32, n_layer=2, n_embd=64, n_head=2))
    args = TrainingArguments(
        output_dir=str(tmp_path), max_steps=1, report_to="none", use_cpu=True, disable_tqdm=True, save_strategy="no"
    )
    spy = _Spy()
    evals = {f"L{k}": dsd[f"validation_L{k}"].select(range(4)) for k in (1, 2)}
    trainer = Trainer(model=model, args=args, eval_dataset=evals, data_collator=_lm_batch, callbacks=[spy])
    AlignmentCallback(dsd["validation_L1"]["input_ids"][:3], tok, gradient_blocks=1).attach(trainer)
    metrics = trainer.evaluate()
    assert "eval_L1_L2_hidden_cosine" in metrics
    assert any("eval_L1_L2_hidden_cosine" in logs for logs in spy.logged)  # through Trainer.log
    tests = {f"L{k}": dsd[f"test_L{k}"].select(range(4)) for k in (1, 2)}
    assert not any("hidden_cosine" in k for k in trainer.evaluate(tests, metric_key_prefix="test"))


def test_the_callback_refuses_what_it_cannot_measure(corpus):
    dsd, tok = corpus
    with pytest.raises(ConfigError, match="blocks of shape"):
        AlignmentCallback([], tok)
    with pytest.raises(ConfigError, match="gradient_blocks=-1"):
        AlignmentCallback(dsd["validation_L1"]["input_ids"][:2], tok, gradient_blocks=-1)
