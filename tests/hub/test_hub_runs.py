"""Runs on a Hub served by a real HTTP server on 127.0.0.1: push, load back with plain transformers, the model
card's metadata, checkpoint pushes, probing, and push failures that never damage the local run folder."""

import hashlib
import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from toolkit import run_cli, run_snippet, run_training, tiny_run_flags
from transformers import AutoModelForCausalLM, AutoTokenizer

TEXT = "Once upon a time, a little fox found a red kite near the river."


@pytest.fixture(scope="module")
def corpus_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("cache"))


def _train(hub, out, corpus_cache, *extra, returncode=0):
    """A tiny run of 20 steps, evaluated and saved every 10, with the default learning rate."""
    flags = tiny_run_flags(
        "learning_rate",
        max_steps=20,
        eval_steps=10,
        save_steps=10,
        logging_steps=5,
        alignment_blocks=8,
        output_dir=out,
        corpus_cache_dir=corpus_cache,
    )
    return run_training(*flags, *extra, env=hub.client_env, returncode=returncode)


def _digest(folder):
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def pushed_run(module_hub, tmp_path_factory, corpus_cache):
    out = tmp_path_factory.mktemp("run") / "tiny"
    proc = _train(
        module_hub,
        out,
        corpus_cache,
        "--push_to_hub",
        "true",
        "--hub_model_id",
        "tester/tiny-run",
        "--hub_strategy",
        "checkpoint",
    )
    assert "pushed" in proc.stdout
    return out


def test_a_pushed_run_loads_with_plain_transformers_and_gives_the_same_logits(module_hub, pushed_run):
    code = f"""
        import json, torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        model = AutoModelForCausalLM.from_pretrained("tester/tiny-run")
        tok = AutoTokenizer.from_pretrained("tester/tiny-run", subfolder="tokenizers/L2")
        ids = tok({TEXT!r}, return_tensors="pt", truncation=True, max_length=16)["input_ids"]
        with torch.no_grad():
            logits = model(ids).logits[0, -1, :8].tolist()
        print(json.dumps({{"ids": ids[0].tolist(), "logits": logits}}))
    """
    remote = run_snippet(code, env=module_hub.client_env)
    local_model = AutoModelForCausalLM.from_pretrained(pushed_run)
    local_tok = AutoTokenizer.from_pretrained(pushed_run, subfolder="tokenizers/L2")
    ids = local_tok(TEXT, return_tensors="pt", truncation=True, max_length=16)["input_ids"]
    assert remote["ids"] == ids[0].tolist() and min(remote["ids"]) >= 300  # L2 ids
    with torch.no_grad():
        expected = local_model(ids).logits[0, -1, :8].tolist()
    assert remote["logits"] == pytest.approx(expected, abs=1e-5)


def test_the_pushed_files_and_the_card_metadata(module_hub, pushed_run):
    files = set(module_hub.files("tester/tiny-run", rtype="models"))
    for name in (
        "model.safetensors",
        "config.json",
        "all_results.json",
        "alignment.json",
        "run_info.json",
        "eval_loss.png",
        "schedule.png",
        "cloned_tokenizer.json",
        "tokenizers/L1/tokenizer.json",
        "tokenizers/L2/tokenizer.json",
        "README.md",
        "last-checkpoint/model.safetensors",
        "last-checkpoint/optimizer.pt",  # --hub_strategy checkpoint, as Trainer means it: resumable from the repo
    ):
        assert name in files, name
    assert not any(f.startswith("checkpoint-") for f in files)
    root = {f for f in files if "/" not in f}
    # resuming state stays in checkpoints; the pickled arguments that Trainer's checkpoint pushes upload are removed
    assert not root & {"optimizer.pt", "scheduler.pt", "rng_state.pth", "training_args.bin"}, root
    loaded = run_snippet(
        """
        import json
        from huggingface_hub import ModelCard
        card = ModelCard.load("tester/tiny-run")
        results = [[r.dataset_split, r.metric_type, r.metric_value] for r in card.data.eval_results]
        print(json.dumps({"library": card.data.library_name, "results": results, "text": card.text}))
        """,
        env=module_hub.client_env,
    )
    card = ModelCard(module_hub.read("tester/tiny-run", "README.md", rtype="models").decode())
    assert loaded["library"] == card.data.library_name == "transformers" and card.data.license == "apache-2.0"
    assert "| data | hf_clonelang's embedded stories" in card.text
    assert loaded["text"] == card.text
    results = {(split, metric): value for split, metric, value in loaded["results"]}
    local = json.loads((pushed_run / "all_results.json").read_text())
    for lang in ("L1", "L2"):
        for split, prefix in (("validation", "eval"), ("test", "test")):
            assert results[(f"{split}_{lang}", "perplexity")] == pytest.approx(local[f"{prefix}_{lang}_ppl"], rel=1e-3)
            assert results[(f"{split}_{lang}", "loss")] == pytest.approx(local[f"{prefix}_{lang}_loss"], rel=1e-3)
    assert ("validation", "hidden_cosine") in results
    assert 'subfolder="tokenizers/L2"' in card.text and "tester/tiny-run" in card.text
    assert "![language schedule](schedule.png)" in card.text and "arXiv:2404.07982" in card.text
    assert "| shared ids | only padding, `<pad>` (id 1); every other special token" in card.text
    assert "input embedding × " in card.text and "untied embeddings" in card.text
    assert not (pushed_run / "README.md").read_text().count("tester/tiny-run")  # the local card is left alone


@pytest.mark.slow  # probes of a pushed checkpoint: the frozen model's head and full fine-tuning, each twice
def test_probe_a_pushed_checkpoint_zero_shot(module_hub, pushed_run, tmp_path):
    from datasets import load_dataset

    from hf_clonelang.data.stories import TOPICS

    data = tmp_path / "probe.jsonl"
    run_cli("stories", "--num", "160", "--seed", "1", "--output", data, env=module_hub.client_env)
    args = ("probe", "tester/tiny-run", "--dataset", data, "--epochs", "3", "--eval_steps", "2", "--batch_size", "8",
            "--disable_tqdm", "true")  # fmt: skip
    # The model trained 20 steps: its features hardly tell the 8 topics apart, so "L1 beats the baseline" would be
    # luck. What the probe must do at any scale: hold out the seeded evaluation split, report the majority baseline
    # of its training labels, and give the same numbers for the same seed (a check that fails if any source of
    # randomness is left unseeded).
    split = load_dataset("json", data_files=str(data), split="train").train_test_split(test_size=0.2, seed=12)
    majority = max(set(split["train"]["label"]), key=split["train"]["label"].count)
    baseline = sum(y == majority for y in split["test"]["label"]) / len(split["test"])
    for extra in ((), ("--finetune", "full")):
        results = []
        for attempt in (1, 2):
            out = tmp_path / f"probe-{len(extra)}-{attempt}"
            run_cli(*args, *extra, "--output_dir", out, env=module_hub.client_env)
            result = json.loads((out / "probe.json").read_text())
            results.append({k: v for k, v in result["tasks"]["probe"].items() if k != "seconds"})
        assert results[0] == results[1]  # the same seed: the same training, selection and accuracies
        l1, l2 = results[0]["languages"]["L1"], results[0]["languages"]["L2"]
        assert l1["examples"] == l2["examples"] == len(split["test"]) == 32
        assert results[0]["labels"] == [str(i) for i in range(len(TOPICS))]  # integer labels keep their values
        assert l1["majority"] == l2["majority"] == pytest.approx(baseline)
        assert 0.0 <= l2["accuracy"] <= 1.0 and l2["zero_shot"] and not l1["zero_shot"]
        # 128 training examples in batches of 8 with 2 accumulation steps: 8 steps an epoch, at most 24 in 3 epochs,
        # evaluated every 2 (early stopping may end it after 10 evaluations without improvement)
        fit = results[0]["training"]["probe"]
        assert fit["steps"] <= 24 and fit["evaluations"] == fit["steps"] // 2 and fit["steps"] >= 22


@pytest.mark.parametrize(
    ("fault", "cause"),
    [
        ({"status": 500}, "500"),
        pytest.param({"status": 403}, "403", marks=pytest.mark.slow),
        ({"status": None, "delay": 4}, "Timeout"),
        pytest.param({"drop": True}, "Disconnected", marks=pytest.mark.slow),
    ],
)
def test_failed_pushes_leave_the_run_intact_and_can_be_retried(module_hub, pushed_run, fault, cause):
    before = _digest(pushed_run)
    repo = f"tester/retry-{cause.lower()}"
    module_hub.fault(rf"^POST /api/models/{repo}/commit/", times=1, **fault)
    failed = run_cli("push", pushed_run, "--repo", repo, env=module_hub.client_env, returncode=2)
    assert "Traceback" not in failed.stderr
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"hf-clonelang push: error: pushing run {pushed_run} to model repo '{repo}' failed: ")
    assert cause.lower() in last.lower(), last
    assert _digest(pushed_run) == before
    again = run_cli("push", pushed_run, "--repo", repo, env=module_hub.client_env)  # the same command
    assert "pushed" in again.stdout
    assert "model.safetensors" in module_hub.files(repo, rtype="models")
    assert _digest(pushed_run) == before


def test_a_training_run_whose_push_fails_is_saved_and_the_same_command_retries_only_the_push(
    module_hub, tmp_path, corpus_cache
):
    out = tmp_path / "run"
    module_hub.fault(r"^POST /api/models/tester/flaky/commit/", times=1, status=502)
    args = ("--push_to_hub", "true", "--hub_model_id", "tester/flaky", "--hub_strategy", "end")
    failed = _train(module_hub, out, corpus_cache, *args, returncode=2)
    assert "run the same command again to retry the push" in failed.stderr.strip().splitlines()[-1]
    assert (out / "all_results.json").is_file() and (out / "model.safetensors").is_file()
    state = (out / "trainer_state.json").stat().st_mtime_ns
    retried = _train(module_hub, out, corpus_cache, *args)
    assert "already holds this run: pushing it" in retried.stdout
    assert (out / "trainer_state.json").stat().st_mtime_ns == state  # not trained again
    assert "all_results.json" in module_hub.files("tester/flaky", rtype="models")


def test_the_card_names_the_data_a_run_really_trained_on(tmp_path):
    from hf_clonelang.hub.cards import render_model_card

    def card_for(data):
        (tmp_path / "run_info.json").write_text(json.dumps({"num_languages": 2, "data": data}))
        (tmp_path / "all_results.json").write_text(json.dumps({"eval_L1_loss": 2.0, "eval_L1_ppl": 7.39}))
        return ModelCard(render_model_card(tmp_path))

    local = card_for({"train_files": ["/data/en_gutenberg_children.txt.gz"]})
    assert "| data | local text files: `en_gutenberg_children.txt.gz` |" in local.text
    assert local.data.eval_results[0].dataset_type == "local-files" and not local.data.datasets
    hub = card_for({"cloned_corpus": "me/clones", "cloned_corpus_config": "L2-r90-10"})
    assert "[me/clones](https://huggingface.co/datasets/me/clones), config `L2-r90-10`" in hub.text
    assert hub.data.datasets == ["me/clones"]


def test_a_repo_that_cannot_be_created_stops_the_run_before_training(module_hub, tmp_path, corpus_cache):
    out = tmp_path / "run"
    module_hub.fault(r"^POST /api/repos/create", times=1, status=500)
    args = ("--push_to_hub", "true", "--hub_model_id", "tester/no-repo")
    failed = _train(module_hub, out, corpus_cache, *args, returncode=2)
    last = failed.stderr.strip().splitlines()[-1]
    assert "Traceback" not in failed.stderr
    assert last.startswith("run_clm_imbalance.py: error: creating model repo 'tester/no-repo' failed: "), last
    assert "retry the push" not in last  # nothing was trained, so nothing waits to be pushed
    assert not (out / "model.safetensors").exists()


def test_no_token_and_no_absolute_local_path_reaches_the_run_folder_or_the_repo(module_hub, tmp_path, corpus_cache):
    secret = "hf_secret_given_on_the_command_line"
    books = tmp_path / "data" / "books.txt"
    books.parent.mkdir()
    books.write_text("\n\n".join(f"The fox {i} ran to the river and found a red kite." for i in range(300)))
    out = tmp_path / "runs" / "private"
    extra = ("--hub_token", secret, "--hub_model_id", "tester/private", "--hub_strategy", "every_save")
    _train(module_hub, out, corpus_cache, "--train_files", str(books), "--push_to_hub", "true", *extra)
    local = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    remote = {
        f: module_hub.read("tester/private", f, rtype="models")
        for f in module_hub.files("tester/private", rtype="models")
    }
    environment_token = module_hub.client_env["HF_TOKEN"].encode()
    for where, files in (("run folder", local), ("repo", remote)):
        for name, data in files.items():
            assert secret.encode() not in data, f"{where}: {name} holds the token"
            assert environment_token not in data, f"{where}: {name} holds the environment's token"
    for name, data in remote.items():
        assert str(tmp_path).encode() not in data, f"repo: {name} holds a local path"
    info = json.loads(local["run_info.json"])
    assert info["data"]["train_files"] == ["../../data/books.txt"]  # relative to the run folder
