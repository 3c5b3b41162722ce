"""Real languages end to end through the commands a user already knows: ``hf-clonelang build --language ...``
writes a corpus that plain ``load_dataset`` reads (per-language held-out splits, a joint tokenizer whose standalone
per-language tokenizers load with plain ``AutoTokenizer``), the main job trains on it in pool mode with alignment on
translation pairs, and ``hf-clonelang align --pairs`` measures the saved run."""

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset
from real_texts import write_texts
from toolkit import TINY_CORPUS, tiny_corpus_flags, tiny_run_flags
from transformers import AutoTokenizer

from hf_clonelang.commands.cli import main as hf_clonelang
from hf_clonelang.commands.train import main as train
from hf_clonelang.tokenization.clone_layout import SHARED
from hf_clonelang.tokenization.joint_tokenizer import JointTokenizer
from hf_clonelang.tokenization.language_tokenizer import load_language_tokenizer

CONFIG = "en-fr-anchored-r90-10"
CORPUS = tiny_corpus_flags("max_documents")  # the base texts are the languages' own
# the model and training of a tiny run, in batches of 8; each test gives its steps
MODEL = tiny_run_flags(
    *TINY_CORPUS, "max_steps", "eval_steps", "logging_steps", "save_steps", per_device_train_batch_size=8
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    en, fr, pairs = write_texts(root)
    out = root / "corpus"
    code = hf_clonelang(
        ["build", "--language", f"en={en}", "--language", f"fr={fr}", "--vocab", "anchored", "--ratios", "0.9,0.1",
         *CORPUS, "--output", str(out)]
    )  # fmt: skip
    assert code == 0
    return {"root": root, "out": out, "en": en, "fr": fr, "pairs": pairs}


def test_build_writes_a_corpus_that_load_dataset_reads(corpus):
    out = corpus["out"]
    dsd = load_dataset(str(out), CONFIG)
    assert set(dsd) == {"train", "validation_L1", "validation_L2", "test_L1", "test_L2"}
    langs = np.asarray(dsd["train"]["language"])
    assert abs(np.mean(langs == 2) - 0.1) < 0.01  # the ratios, exactly (within a row)
    info = json.loads((out / "data" / CONFIG / "info.json").read_text())
    assert info["limited_by"] == "en" and info["config"]["languages"] == ["en", "fr"]
    assert info["config"]["bases"][0]["files"] == ["en.txt"]  # local files by name, no absolute path
    tok = load_language_tokenizer(out, subfolder=f"tokenizer/{CONFIG}")
    assert isinstance(tok, JointTokenizer) and tok.mode == "anchored" and tok.names == ["en", "fr"]
    for k in (1, 2):  # held out from each language's own text, in its own ids
        rows = np.asarray(dsd[f"validation_L{k}"]["input_ids"])
        assert rows.shape == (8, 32) and set(np.unique(tok.language_of(rows))) <= {SHARED, k}
    plain = AutoTokenizer.from_pretrained(str(out / "tokenizer" / CONFIG / "tokenizers" / "L2"))
    text = "Le petit renard trouva un cerf-volant rouge."
    assert plain(text)["input_ids"] == tok(text, language=2)["input_ids"]
    card = (out / "README.md").read_text()
    shared = info["tokenizer"]["num_shared"][1]
    assert "Real-language corpus" in card and "L1 = en, L2 = fr" in card and "anchored" in card
    assert f"{shared} shared" in card and "as many rows as the text of en allows" in card


def test_train_on_it_with_alignment_on_pairs_then_align_the_run(corpus, capsys):
    run = corpus["root"] / "run"
    metrics = train(
        ["--cloned_corpus", str(corpus["out"]), "--corpus_config_name", CONFIG, "--language_schedule", "0.1_0.9",
         "--max_steps", "12", "--eval_steps", "6", "--logging_steps", "3", "--alignment_pairs", corpus["pairs"],
         "--alignment_blocks", "6", "--output_dir", str(run), *MODEL]
    )  # fmt: skip
    assert metrics["train_tokens_L1"] + metrics["train_tokens_L2"] == 12 * 8 * 32
    assert metrics["train_tokens_L2"] == metrics["train_tokens_L1"]  # 0.1_0.9: 10% then 90% of L2, half each
    assert -1 <= metrics["eval_L1_L2_hidden_cosine"] <= 1 and "eval_L1_L2_gradient_cosine" in metrics
    info = json.loads((run / "run_info.json").read_text())
    assert info["tokenizer"]["kind"] == "joint" and info["tokenizer"]["vocab_mode"] == "anchored"
    card = (run / "README.md").read_text()
    assert "**2 real languages**" in card and "held-out text of its own" in card
    assert "On 6 parallel sequences of consecutive translation pairs, with the paper's token matching" in card
    history = [json.loads(line) for line in (run / "alignment_history.jsonl").read_text().splitlines()]
    assert history[-1]["report"]["L1-L2"]["matching"] == "hungarian" and history[-1]["report"]["L1-L2"]["pairs"] == 6
    assert isinstance(load_language_tokenizer(run), JointTokenizer)

    capsys.readouterr()
    assert hf_clonelang(["align", str(run), "--pairs", corpus["pairs"], "--blocks", "5"]) == 0
    report = json.loads((run / "alignment.json").read_text())["L1-L2"]
    assert report["pairs"] == 5 and report["pairs_file"] == "pairs.tsv" and len(report["hidden_cosine"]) == 3
    assert Path(run / "alignment.png").is_file()
    assert hf_clonelang(["align", str(run)]) == 2
    assert "trained on real languages, which are not parallel: give --pairs FILE" in capsys.readouterr().err


def test_the_main_job_builds_real_languages_from_their_texts(corpus, tmp_path):
    metrics = train(
        ["--language", f"en={corpus['en']}", "--language", f"fr={corpus['fr']}", *CORPUS, "--language_schedule",
         "0.5,0.5", "--max_steps", "6", "--eval_steps", "6", "--output_dir", str(tmp_path / "run"),
         "--corpus_cache_dir", str(tmp_path / "cache"), *MODEL]
    )  # fmt: skip
    assert metrics["train_tokens_L1"] == metrics["train_tokens_L2"] == 3 * 8 * 32
    data = json.loads((tmp_path / "run" / "run_info.json").read_text())["data"]
    recorded = dict(spec.split("=", 1) for spec in data["language"])  # relative to the run folder: no local path
    assert not any(Path(v).is_absolute() for v in recorded.values())
    assert (tmp_path / "run" / recorded["fr"]).resolve() == Path(corpus["fr"]).resolve()
