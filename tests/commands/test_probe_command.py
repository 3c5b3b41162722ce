"""``hf-clonelang probe``: a run folder probed from the command line (probe.json, probe.png, the card's eval
results), a Hub repo probed and its card updated on the local stand-in Hub, and bad input as a table."""

import csv
import json
import shutil
from pathlib import Path

import pytest
from probe_runs import save_run, write_task
from toolkit import run_cli, run_snippet

from hf_clonelang import ClonedTokenizer, JointTokenizer
from hf_clonelang.commands.cli import main
from hf_clonelang.hub.cards import write_model_card

FAST = ["--learning_rate", "1e-2", "--batch_size", "8", "--gradient_accumulation_steps", "1", "--epochs", "3",
        "--eval_steps", "10", "--disable_tqdm", "true"]  # fmt: skip
"""A variant of the recipe that learns the tests' small task in seconds."""


@pytest.fixture(scope="module")
def run_and_task(tmp_path_factory, base_tokenizer):
    folder = tmp_path_factory.mktemp("probe")
    run = save_run(folder / "run", ClonedTokenizer(base_tokenizer, num_languages=2))
    return run, write_task(folder / "topics.csv")


def test_probe_writes_its_results_and_the_runs_card_shows_them(tmp_path, run_and_task, capsys):
    source, task = run_and_task
    run = shutil.copytree(source, tmp_path / "run")
    write_model_card(run)
    assert main(["probe", str(run), "--dataset", str(task), *FAST]) == 0
    printed = capsys.readouterr().out
    assert "L2 (zero-shot)" in printed and "a variant of the paper's recipe" in printed
    result = json.loads((run / "probe.json").read_text())
    assert result["tasks"]["topics"]["languages"]["L1"]["accuracy"] >= 0.8
    assert (run / "probe.png").read_bytes().startswith(b"\x89PNG")
    card = (run / "README.md").read_text()
    assert card.count("type: text-classification") == 2  # one eval result per task and language
    assert "| topics | L2 (zero-shot) |" in card and "### Downstream probe" in card
    saved = (run / "probe.json").read_text()
    assert str(task) not in card and str(task) not in saved and '"dataset": "topics.csv"' in saved  # named, no path
    # several tasks: each one's accuracy and their mean
    second = write_task(tmp_path / "other.csv", seed=3)
    out = tmp_path / "two"
    assert main(["probe", str(run), "--dataset", str(task), str(second), "--output_dir", str(out), *FAST]) == 0
    both = json.loads((out / "probe.json").read_text())
    assert set(both["tasks"]) == {"topics", "other"}
    mean = sum(t["languages"]["L2"]["accuracy"] for t in both["tasks"].values()) / 2
    assert both["mean"]["L2"]["accuracy"] == pytest.approx(mean)


def test_a_hub_model_is_probed_and_its_card_updated(hub, run_and_task, tmp_path):
    run, task = run_and_task
    code = f"""
        import json
        from hf_clonelang.hub.push import push_run
        push_run({str(run)!r}, "me/probed", finished=False)
        print(json.dumps(1))
    """
    run_snippet(code, env=hub.client_env)
    out = tmp_path / "results"
    proc = run_cli("probe", "me/probed", "--dataset", str(task), "--output_dir", out, "--push_to_hub", *FAST,
                   env=hub.client_env)  # fmt: skip
    assert "pushed the probe results to" in proc.stdout
    remote = run_snippet(
        """
        import json
        from huggingface_hub import HfApi, ModelCard, hf_hub_download
        card = ModelCard.load("me/probed")
        probe = json.load(open(hf_hub_download("me/probed", "probe.json")))
        results = [r for r in card.data.eval_results if r.task_type == "text-classification"]
        print(json.dumps({"files": sorted(HfApi().list_repo_files("me/probed")),
                          "results": [[r.metric_name, r.metric_value] for r in results],
                          "accuracy": probe["tasks"]["topics"]["languages"]["L2"]["accuracy"]}))
        """,
        env=hub.client_env,
    )
    assert {"probe.json", "probe.png", "README.md", "model.safetensors"} <= set(remote["files"])
    assert [name for name, _ in remote["results"]] == ["L1 accuracy", "L2 accuracy (zero-shot)"]
    assert remote["results"][1][1] == round(remote["accuracy"], 4)
    assert json.loads((out / "probe.json").read_text())["model"] == "me/probed"


def _csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def _bad_inputs(tmp):
    """Files for the bad-input table, in ``tmp``."""
    words = [f"word{i} and more" for i in range(60)]
    _csv(tmp / "empty.csv", [])
    _csv(tmp / "no_text.csv", [(w, i % 2) for i, w in enumerate(words)], header=("words", "label"))
    _csv(tmp / "one_label.csv", [(w, 1) for w in words])
    _csv(tmp / "negative.csv", [(w, -1 if i == 3 else i % 2) for i, w in enumerate(words)])
    _csv(tmp / "floats.csv", [(w, 0.5 * (i % 3)) for i, w in enumerate(words)])
    _csv(tmp / "empty_text.csv", [("" if i == 5 else w, i % 2) for i, w in enumerate(words)])
    _csv(tmp / "few.csv", [(w, i % 2) for i, w in enumerate(words[:20])])
    (tmp / "no_tokenizers").mkdir()
    (tmp / "no_tokenizers" / "config.json").write_text('{"model_type": "gpt2"}')
    write_task(tmp / "task_en.csv")
    from datasets import ClassLabel, Dataset, Features, Value

    features = Features({"text": Value("string"), "label": ClassLabel(names=["a", "b"])})
    (tmp / "glue_like").mkdir()
    Dataset.from_dict({"text": words, "label": [i % 2 for i in range(60)]}, features=features).to_parquet(
        tmp / "glue_like" / "train.parquet"
    )
    Dataset.from_dict({"text": words[:8], "label": [-1] * 8}, features=features).to_parquet(
        tmp / "glue_like" / "test.parquet"
    )  # GLUE's test split: no labels


# (arguments with {run}, {real} and {tmp}; the start of the one-line message after "error: ")
CASES = [
    (["--dataset", "{tmp}/few.csv"], "no model given: hf-clonelang probe MODEL"),
    (["{tmp}/missing_run"], "model '{tmp}/missing_run' does not exist"),
    (["{tmp}/no_tokenizers"], "{tmp}/no_tokenizers has no per-language tokenizers"),
    (["{run}", "--dataset", "{tmp}/missing.csv"], "--dataset '{tmp}/missing.csv' does not exist"),
    (["{run}", "--dataset", "{tmp}/empty.csv"], "--dataset '{tmp}/empty.csv' is empty"),
    (["{run}", "--dataset", "{tmp}/no_text.csv"], "--dataset '{tmp}/no_text.csv' has no text column"),
    (["{run}", "--dataset", "{tmp}/few.csv", "--text_column", "txt"], "--dataset '{tmp}/few.csv' has no text column"),
    (["{run}", "--dataset", "{tmp}/few.csv", "--label_column", "topic"], "--dataset '{tmp}/few.csv' has no label"),
    (["{run}", "--dataset", "{tmp}/one_label.csv"], "--dataset '{tmp}/one_label.csv': every training example has"),
    (["{run}", "--dataset", "{tmp}/negative.csv"], "--dataset '{tmp}/negative.csv': label -1 in column 'label' is"),
    (["{run}", "--dataset", "{tmp}/floats.csv"], "--dataset '{tmp}/floats.csv': label 0.5 in column 'label' is not"),
    (["{run}", "--dataset", "{tmp}/empty_text.csv"], "--dataset '{tmp}/empty_text.csv': row 5 of split 'train' has"),
    (["{run}", "--dataset", "{tmp}/few.csv"], "--dataset '{tmp}/few.csv' has 16 training examples in L1: fewer than"),
    (["{run}", "--train_language", "3"], "language 3 is not allowed: the model has languages 1..2"),
    (["{run}", "--languages", "1,4"], "language 4 is not allowed: the model has languages 1..2"),
    (["{real}"], "--dataset embedded holds English stories only"),
    (["{real}", "--dataset", "{tmp}/few.csv"], "--dataset '{tmp}/few.csv' names one source for the real languages"),
    (["{real}", "--dataset", "{tmp}/task_{{lang}}.csv"], "--dataset '{tmp}/task_fr.csv' does not exist"),
    (["{run}", "--dataset", "{tmp}/task_{{lang}}.csv"], "--dataset '{tmp}/task_{{lang}}.csv' has {{lang}}, but"),
    (["{run}", "--pooling", "mean"], "--pooling 'mean' is not allowed: choose final-position or last-token"),
    (["{run}", "--finetune", "lora"], "--finetune 'lora' is not allowed: choose head or full"),
    (["{run}", "--learning_rate", "0"], "--learning_rate=0.0 is not allowed: it must be > 0"),
    (["{run}", "--max_length", "1"], "--max_length=1 is not allowed: an input needs >= 2 tokens"),
    (["{run}", "--text_column", "a,b,c"], "--text_column 'a,b,c' is not allowed"),
    (["{run}", "--push_to_hub"], "--push_to_hub needs --hub_model_id REPO for a local model"),
    (["{run}", "--seed", "-1"], "--seed=-1 is not allowed: it must be >= 0"),
    (["{run}", "--threshold", "nan"], "--threshold=nan is not allowed: it must be >= 0"),
    (["{run}", "--report_to", "nosuch"], "--report_to 'nosuch' is not allowed: give none, all or an installed one"),
    (["{run}", "--dataset", "{tmp}/task_en.csv", "{tmp}/task_en.csv"], "--dataset '{tmp}/task_en.csv' and"),
    (["{run}", "--dataset", "{tmp}/glue_like", "--eval_split", "test"], "--dataset '{tmp}/glue_like': label -1 in"),
    (["{run}", "--hub_model_id", "me/x"], "--hub_model_id me/x is given without --push_to_hub"),
]  # fmt: skip


@pytest.fixture(scope="module")
def bad_input_folders(tmp_path_factory, run_and_task, base_tokenizer):
    tmp = tmp_path_factory.mktemp("bad")
    _bad_inputs(tmp)
    real = save_run(
        tmp / "real", JointTokenizer([base_tokenizer, base_tokenizer], mode="disjoint", names=["en", "fr"])
    )
    return {"run": str(run_and_task[0]), "real": str(real), "tmp": str(tmp)}


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(a[1:]) or a[0] for a, _ in CASES])
def test_bad_input_ends_in_one_line_before_any_training(argv, message, bad_input_folders, capsys):
    folders = bad_input_folders
    before = {p: sorted(x.name for x in Path(p).iterdir()) for p in (folders["run"], folders["real"])}
    status = main(["probe", *(a.format(**folders) for a in argv)])
    err = capsys.readouterr().err.strip()
    assert status == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"hf-clonelang probe: error: {message.format(**folders)}"), err
    after = {p: sorted(x.name for x in Path(p).iterdir()) for p in before}
    assert after == before  # nothing written next to the model
