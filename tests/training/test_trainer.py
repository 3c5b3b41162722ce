"""ImbalanceTrainer: per-language bookkeeping (also under gradient accumulation), evaluation, errors."""

import math

import numpy as np
import pytest
import torch
from toolkit import tiny_model_flags
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang import ConfigError
from hf_clonelang.training.modeling import check_model_fits, gpt2_config
from hf_clonelang.training.trainer import ImbalanceTrainer, ImbalanceTrainingArguments, add_perplexities


@pytest.fixture(scope="module")
def corpus(tiny_corpus):
    return tiny_corpus


def _model(tok, seed=0):
    torch.manual_seed(seed)
    return GPT2LMHeadModel(gpt2_config("tiny", tok.vocab_size, 32, n_layer=2, n_embd=64, n_head=2))


def _args(tmp_path, **kwargs):
    defaults = dict(
        output_dir=str(tmp_path),
        max_steps=6,
        per_device_train_batch_size=4,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        language_schedule="0.1_0.9",
        seed=0,
        disable_tqdm=True,
        eval_strategy="no",
    )
    return ImbalanceTrainingArguments(**{**defaults, **kwargs})


def _train(corpus, tmp_path, train=None, **kwargs):
    dsd, tok = corpus
    train = dsd["train"].remove_columns(["language"]) if train is None else train
    evals = {f"L{k}": dsd[f"validation_L{k}"] for k in (1, 2)}
    trainer = ImbalanceTrainer(
        model=_model(tok),
        args=_args(tmp_path, **kwargs),
        train_dataset=train,
        eval_dataset=evals,
        processing_class=tok,
    )
    trainer.train()
    return trainer


def _train_logs(trainer):
    return [e for e in trainer.state.log_history if "loss" in e]


def test_per_language_numbers_are_the_same_with_gradient_accumulation(corpus, tmp_path):
    plain = _train(corpus, tmp_path / "a", per_device_train_batch_size=4, gradient_accumulation_steps=1)
    accum = _train(corpus, tmp_path / "b", per_device_train_batch_size=2, gradient_accumulation_steps=2)
    a, b = _train_logs(plain), _train_logs(accum)
    assert len(a) == len(b) == 6
    for x, y in zip(a, b, strict=True):
        for key in ("train_tokens_L1", "train_tokens_L2"):
            assert x[key] == y[key], key
        for key in ("loss", "train_loss_L1", "train_loss_L2"):
            if key in x or key in y:
                assert x[key] == pytest.approx(y[key], rel=1e-4, abs=1e-4), key


def test_tokens_follow_the_schedule_and_losses_split_by_language(corpus, tmp_path):
    trainer = _train(corpus, tmp_path, language_schedule="0.1_0.9", max_steps=10)
    logs = _train_logs(trainer)
    tokens = [(e["train_tokens_L1"], e["train_tokens_L2"]) for e in logs]
    assert tokens[-1][0] + tokens[-1][1] == 10 * 4 * 32
    first_half_l2 = tokens[4][1] / (32 * 4 * 5)
    assert abs(first_half_l2 - 0.1) <= 1 / 20  # within one sample of 10% over the first stage
    assert abs(tokens[-1][1] / (10 * 4 * 32) - 0.5) <= 1 / 40
    # the logged mean loss is the token-weighted mean of the per-language losses
    for e in logs:
        n1, n2 = e["train_tokens_L1"], e["train_tokens_L2"]
        if "train_loss_L1" in e and "train_loss_L2" in e and e is logs[0]:
            weighted = (e["train_loss_L1"] * n1 + e["train_loss_L2"] * n2) / (n1 + n2)
            assert weighted == pytest.approx(e["loss"], rel=2e-3)
    assert trainer.tokens_seen() == {"L1": tokens[-1][0], "L2": tokens[-1][1]}


def test_the_model_never_sees_the_language_tag(corpus, tmp_path):
    dsd, tok = corpus
    model = _model(tok)
    seen = []
    model.register_forward_pre_hook(lambda mod, args, kwargs: seen.append(set(kwargs)), with_kwargs=True)
    trainer = ImbalanceTrainer(
        model=model,
        args=_args(tmp_path, max_steps=2),
        train_dataset=dsd["train"].remove_columns(["language"]),
        eval_dataset={"L2": dsd["validation_L2"]},
        processing_class=tok,
    )
    trainer.train()
    trainer.evaluate()
    assert seen and all("language" not in kwargs for kwargs in seen)


def test_remove_unused_columns_keeps_the_language_tag(corpus, tmp_path):
    """Trainer's ``remove_unused_columns`` drops what neither the model nor the collator reads (the corpus's
    ``block_id``) and keeps each row's language: the run is the same as without it."""
    dsd, _ = corpus
    assert "block_id" in dsd["train"].column_names
    kept = _train(corpus, tmp_path / "a", train=dsd["train"], language_schedule="0.5,0.5", max_steps=4)
    removed = _train(
        corpus,
        tmp_path / "b",
        train=dsd["train"],
        language_schedule="0.5,0.5",
        max_steps=4,
        remove_unused_columns=True,
    )
    assert "language" in removed._signature_columns and "block_id" not in removed._signature_columns
    assert _train_logs(removed) == _train_logs(kept) and removed.tokens_seen() == kept.tokens_seen()
    assert removed.evaluate()["eval_L2_loss"] == kept.evaluate()["eval_L2_loss"]


def test_trainers_card_options_still_give_hf_clonelangs_card(corpus, tmp_path):
    """Trainer's own `create_model_card` signature (what `Trainer.push_to_hub` passes) writes hf_clonelang's card."""
    trainer = _train(corpus, tmp_path, max_steps=1)
    trainer.create_model_card(
        language="en", license="mit", tags=["extra"], model_name="m", finetuned_from="gpt2", tasks="text-generation",
        dataset_tags="d", dataset="d", dataset_args="a",
    )  # fmt: skip
    card = (tmp_path / "README.md").read_text()
    assert "hf_clonelang" in card and "hf-clonelang" in card.split("---")[1]  # ours: its text and its tags
    assert "fine-tuned version of" not in card  # not Trainer's


def test_every_language_is_evaluated_on_its_own_fixed_split(corpus, tmp_path):
    trainer = _train(corpus, tmp_path, max_steps=4)
    metrics = trainer.evaluate()
    for k in (1, 2):
        assert metrics[f"eval_L{k}_ppl"] == pytest.approx(math.exp(metrics[f"eval_L{k}_loss"]))
    again = trainer.evaluate()
    assert again["eval_L2_loss"] == pytest.approx(metrics["eval_L2_loss"])  # the eval set does not move
    evals = [e for e in trainer.state.log_history if "eval_L1_loss" in e]
    assert evals and "eval_L1_ppl" in evals[-1]


def test_pool_mode_trains_on_rows_of_each_language(corpus, tmp_path):
    dsd, _ = corpus
    trainer = _train(corpus, tmp_path, train=dsd["train"], language_schedule="0.5,0.5", max_steps=5)
    assert trainer.sampler.mode == "pool"
    langs = np.asarray(dsd["train"]["language"])
    for row, lang, _ in list(trainer.sampler)[:20]:
        assert langs[row] == lang
    assert trainer.tokens_seen()["L2"] == pytest.approx(5 * 4 * 32 / 2, abs=32)


def test_pool_lacking_a_language_is_refused(corpus, tmp_path):
    dsd, tok = corpus
    only_l1 = dsd["train"].filter(lambda row: row["language"] == 1)
    with pytest.raises(ConfigError, match="no rows in language L2"):
        ImbalanceTrainer(model=_model(tok), args=_args(tmp_path), train_dataset=only_l1, processing_class=tok)
    blocks = dsd["train"].remove_columns(["language"])  # clone mode: blocks never run out
    with pytest.raises(ConfigError, match="pool_exhausted='stop' applies to pool mode only"):
        args = _args(tmp_path, pool_exhausted="stop")
        ImbalanceTrainer(model=_model(tok), args=args, train_dataset=blocks, processing_class=tok)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"language_schedule": "0.1_0.9", "max_steps": -1}, "changes over training, so the run length must be known"),
        ({"language_schedule": "0.1_x"}, "stage 2 value 'x' is not a number"),
        ({"language_schedule": "0.5,0.3,0.2"}, "has 3 probabilities for 2 languages"),
        ({"language_schedule": "0.5,0.7"}, "sums to 1.2, not 1"),
        ({"sampling": "random"}, "sampling='random' is not allowed"),
    ],
)
def test_bad_training_arguments(tmp_path, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _args(tmp_path, **kwargs)


def test_model_must_fit_the_vocabulary_and_the_blocks():
    with pytest.raises(ConfigError, match="embedding has 100 rows but the cloned vocabulary needs 598"):
        check_model_fits(GPT2Config(vocab_size=100, n_positions=64), 598, 32)
    with pytest.raises(ConfigError, match="block_size=128 is larger than the model's context \\(64 positions\\)"):
        check_model_fits(GPT2Config(vocab_size=1000, n_positions=64), 598, 128)
    check_model_fits(GPT2Config(vocab_size=598, n_positions=32), 598, 32)
    with pytest.raises(ConfigError, match="model_preset='huge' is not allowed"):
        gpt2_config("huge", 100, 32)


def test_perplexities_beside_losses():
    metrics = add_perplexities({"eval_L1_loss": 1.0, "test_L3_loss": 2.0, "eval_runtime": 3.0, "loss": 4.0})
    assert metrics["eval_L1_ppl"] == pytest.approx(math.e) and metrics["test_L3_ppl"] == pytest.approx(math.e**2)
    assert "eval_runtime_ppl" not in metrics and "ppl" not in metrics


def test_evaluation_adds_the_alignment_summary(corpus, tmp_path):
    trainer = _train(corpus, tmp_path, max_steps=3, alignment_blocks=6, alignment_gradient_blocks=2)
    metrics = trainer.evaluate()
    for key in ("hidden_cosine", "hidden_cosine_centred", "retrieval_at_1", "gradient_cosine", "embedding_cosine"):
        assert f"eval_L1_L2_{key}" in metrics, key
    history = (tmp_path / "alignment_history.jsonl").read_text().splitlines()
    assert len(history) == 1 and '"L1-L2"' in history[0]
    assert trainer.last_alignment["L1-L2"]["blocks"] == 6
    off = _train(corpus, tmp_path / "off", max_steps=2, alignment_blocks=0)
    assert not any("hidden_cosine" in k for k in off.evaluate())


def test_a_folded_input_embedding_trains_exactly_like_the_papers_scaled_one(corpus, tmp_path):
    """The paper's GPT computes E[id]·√h. Folding √h into the weights (E' = √h·E) and training E' with √h times the
    learning rate and 1/√h the weight decay gives the same model at every step (Adam ignores gradient scale)."""
    from hf_clonelang.training.modeling import EMBEDDING_SCALE_KEY, fold_input_embedding_scale

    dsd, tok = corpus
    train = dsd["train"].remove_columns(["language"])
    paper, folded = _model(tok, seed=3), _model(tok, seed=3)
    scale = math.sqrt(64)
    paper.transformer.wte.register_forward_hook(lambda module, args, out: out * scale)  # the paper's forward
    assert fold_input_embedding_scale(folded) == scale and getattr(folded.config, EMBEDDING_SCALE_KEY) == scale
    trained = []
    for model, name in ((paper, "paper"), (folded, "folded")):
        args = _args(tmp_path / name, max_steps=5, weight_decay=0.1, max_grad_norm=0.0, learning_rate=3e-3)
        trainer = ImbalanceTrainer(model=model, args=args, train_dataset=train, processing_class=tok)
        trainer.train()
        trained.append(trainer)
    groups = trained[1].optimizer.param_groups
    embedding = next(g for g in groups if any(p is folded.transformer.wte.weight for p in g["params"]))
    assert len(embedding["params"]) == 1
    assert embedding["weight_decay"] == pytest.approx(0.1 / scale)
    assert embedding["initial_lr"] == pytest.approx(3e-3 * scale) and embedding["eps"] == pytest.approx(1e-8 / scale)
    assert torch.allclose(folded.transformer.wte.weight, paper.transformer.wte.weight * scale, rtol=1e-4, atol=1e-5)
    ids = torch.as_tensor(dsd["validation_L1"][:4]["input_ids"])
    with torch.no_grad():
        assert torch.allclose(folded(input_ids=ids).logits, paper(input_ids=ids).logits, rtol=1e-3, atol=1e-3)


def test_the_papers_learning_rate_shape(corpus, tmp_path):
    """Languini: lr(s) = min(s, W)/W · (r + (1 - r)·(1 + cos(π·s/T))/2) for optimizer steps s = 1..T."""
    dsd, tok = corpus
    args = _args(
        tmp_path, max_steps=40, warmup_steps=10, learning_rate=6e-4, lr_scheduler_type="cosine_with_min_lr",
        lr_scheduler_kwargs={"min_lr_rate": 0.01}, cosine_spans_warmup=True,
    )  # fmt: skip
    trainer = ImbalanceTrainer(
        model=_model(tok), args=args, train_dataset=dsd["train"].remove_columns(["language"]), processing_class=tok
    )
    trainer.create_optimizer_and_scheduler(num_training_steps=40)
    seen = []
    for _ in range(40):
        seen.append(trainer.lr_scheduler.get_last_lr()[0])
        trainer.optimizer.step()
        trainer.lr_scheduler.step()
    by_hand = [6e-4 * min(s, 10) / 10 * (0.01 + 0.99 * (1 + math.cos(math.pi * s / 40)) / 2) for s in range(1, 41)]
    assert seen == pytest.approx(by_hand, rel=1e-9)
    assert seen[-1] == pytest.approx(6e-6)  # the paper's final rate, 6e-4 -> 6e-6
    with pytest.raises(ConfigError, match="cosine_spans_warmup=True is not allowed with lr_scheduler_type='linear'"):
        _args(tmp_path, cosine_spans_warmup=True, lr_scheduler_type="linear")


def test_the_input_embedding_factor_is_folded_into_untied_embeddings_only():
    """Tied embeddings share the matrix with the output layer: folding √h there would scale the logits too."""
    from hf_clonelang.training.arguments import ModelArguments
    from hf_clonelang.training.modeling import EMBEDDING_SCALE_KEY, build_model, fold_input_embedding_scale

    untied = build_model(ModelArguments(model_preset="tiny"), 600, 32)
    assert getattr(untied.config, EMBEDDING_SCALE_KEY) == pytest.approx(math.sqrt(128))
    assert untied.transformer.wte.weight.std() > 5 * untied.lm_head.weight.std()  # √h ≈ 11 times the init
    tied = build_model(ModelArguments(model_preset="tiny", tie_word_embeddings=True), 600, 32)
    assert getattr(tied.config, EMBEDDING_SCALE_KEY, None) is None
    assert tied.transformer.wte.weight.std().item() == pytest.approx(0.02, rel=0.1)  # GPT-2's own initialisation
    with pytest.raises(ConfigError, match="tie_word_embeddings true"):
        build_model(ModelArguments(model_preset="tiny", tie_word_embeddings=True, scale_input_embedding=True), 600, 32)
    with pytest.raises(ConfigError, match="untied embeddings"):
        fold_input_embedding_scale(tied)


def test_a_given_optimizer_is_left_alone_with_a_warning_for_a_folded_embedding(corpus, tmp_path, caplog):
    from hf_clonelang.training.modeling import fold_input_embedding_scale

    dsd, tok = corpus
    train = dsd["train"].remove_columns(["language"])
    model = _model(tok)
    fold_input_embedding_scale(model)
    trainer = ImbalanceTrainer(model=model, args=_args(tmp_path / "a"), train_dataset=train, processing_class=tok)
    with caplog.at_level("WARNING", logger="hf_clonelang.training.trainer"):
        first = trainer.create_optimizer()
        assert trainer.create_optimizer() is first  # a second call (as a second train() makes) changes nothing
    assert sum(bool(g.get("clonelang_embedding")) for g in first.param_groups) == 1
    assert "optimizer was given" not in caplog.text
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    given = ImbalanceTrainer(
        model=model, args=_args(tmp_path / "b"), train_dataset=train, processing_class=tok, optimizers=(sgd, None)
    )
    with caplog.at_level("WARNING", logger="hf_clonelang.training.trainer"):
        assert given.create_optimizer() is sgd and len(sgd.param_groups) == 1
    assert "optimizer was given" in caplog.text


def test_data_seed_seeds_the_languages_and_block_order_as_in_trainer(corpus, tmp_path):
    """`data_seed` (Trainer's seed of data sampling) decides the language and block of every sample; `seed` alone
    decides them when it is not set."""
    dsd, tok = corpus
    train = dsd["train"].remove_columns(["language"])

    def samples(**kwargs):
        args = _args(tmp_path, language_schedule="0.5,0.5", sampling="bernoulli", **kwargs)
        trainer = ImbalanceTrainer(model=_model(tok), args=args, train_dataset=train, processing_class=tok)
        return [(row, lang) for row, lang, _ in trainer.sampler]

    assert samples(seed=0, data_seed=5) == samples(seed=5)
    assert samples(seed=0, data_seed=5) != samples(seed=0)
    assert samples(seed=1, data_seed=5) == samples(seed=0, data_seed=5)


def test_one_process_on_two_gpus_consumes_the_schedules_stream(corpus, tmp_path):
    """`python run_clm_imbalance.py` on a host with 2 GPUs: Trainer wraps the model in DataParallel and each step
    takes n_gpu x the per-device batch. Simulated on CPU (DataParallel without GPUs calls the model directly): the
    languages and tokens per step are those of one process with the doubled batch."""
    dsd, tok = corpus
    seen = {}

    def run(name, n_gpu, batch):
        args = _args(tmp_path / name, per_device_train_batch_size=batch, max_steps=6, language_schedule="0.1_0.9")
        assert args.n_gpu in (0, 1)  # devices set up on the CPU ...
        args._n_gpu = n_gpu  # ... then seen as n_gpu GPUs, as on a GPU host
        trainer = ImbalanceTrainer(
            model=_model(tok), args=args, train_dataset=dsd["train"].remove_columns(["language"]), processing_class=tok
        )
        languages = []
        collate = trainer.data_collator
        trainer.data_collator = lambda rows: languages.extend(int(r["language"]) for r in rows) or collate(rows)
        trainer.train()
        seen[name] = languages
        return trainer

    parallel, single = run("dp", 2, 2), run("one", 1, 4)
    assert isinstance(parallel.model_wrapped, torch.nn.DataParallel) and parallel.samples_per_step == 4
    assert seen["dp"] == seen["one"] and len(seen["dp"]) == 6 * 4  # the same stream, each sample once
    assert parallel.tokens_seen() == single.tokens_seen() == {f"L{k}": 32 * seen["one"].count(k) for k in (1, 2)}


def test_attention_kernel_and_weights_dtype_reach_the_model(monkeypatch):
    from hf_clonelang.commands.train import parse_args
    from hf_clonelang.training import modeling

    small = tiny_model_flags(n_layer=1, n_embd=32)
    default, _, _ = parse_args(small)
    chosen, _, _ = parse_args([*small, "--dtype", "bfloat16", "--attn_implementation", "eager"])
    model = modeling.build_model(default, 100, 32)
    assert model.config._attn_implementation == "sdpa" and model.dtype == torch.float32  # no flash-attn here
    model = modeling.build_model(chosen, 100, 32)
    assert model.config._attn_implementation == "eager" and model.dtype == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr("importlib.util.find_spec", lambda name: object() if name == "flash_attn" else None)
    assert modeling.attention_kernel("auto") == "flash_attention_2"  # where flash-attn and a GPU are


def test_fsdp_example_saves_a_full_model_and_training_time_alignment_is_skipped_with_a_message(
    corpus, tmp_path, caplog
):
    from pathlib import Path

    from accelerate.commands.config.config_args import load_config_from_file

    example = Path(__file__).resolve().parents[2] / "examples" / "accelerate_fsdp.yaml"
    fsdp = load_config_from_file(str(example)).fsdp_config  # accelerate's own reader of the file
    assert fsdp["fsdp_state_dict_type"] == "FULL_STATE_DICT"  # one loadable model in the run folder
    assert fsdp["fsdp_sync_module_states"] or not fsdp["fsdp_cpu_ram_efficient_loading"]

    trainer = _train(corpus, tmp_path, max_steps=2, alignment_blocks=6)
    trainer.is_fsdp_enabled = True  # as under accelerate's FSDP: per-tensor gradients are sharded
    with caplog.at_level("WARNING"):
        metrics = trainer.evaluate()
        trainer.evaluate()
    assert not any("hidden_cosine" in k for k in metrics)
    assert caplog.text.count("alignment during training is skipped under FSDP") == 1
