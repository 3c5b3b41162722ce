"""``hf-clonelang build``: a real run of the console script, and every bad input the issue lists."""

import json
import re

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from toolkit import run_cli, run_python, tiny_corpus_flags
from transformers import PreTrainedTokenizerFast

from hf_clonelang.commands.cli import main

CORPUS = tiny_corpus_flags(max_documents=300)  # a corpus to build and push, not to train on: fewer stories


def test_console_script_builds_a_corpus(tmp_path):
    out = tmp_path / "corpus"
    dashed = [flag.replace("_", "-") for flag in CORPUS]  # --max-documents, ...: dashes work as well as underscores
    proc = run_cli("build", "--output", out, "--ratios", "0.9,0.1", *dashed)
    assert "config L2-r90-10" in proc.stdout and "validation_L2" in proc.stdout
    summary = json.loads((out / "data" / "L2-r90-10" / "info.json").read_text())["summary"]
    l1, l2 = summary["train"]["L1"]["blocks"], summary["train"]["L2"]["blocks"]
    assert abs(l2 - 0.1 * (l1 + l2)) <= 1
    assert f"{l1}" in proc.stdout and f"{l2}" in proc.stdout


def _tokenizer_without_eos(folder, texts):
    raw = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    raw.train_from_iterator(texts, trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=raw, unk_token="[UNK]").save_pretrained(folder)
    return str(folder)


BAD = [
    (["--ratios", "0.8,0.1"], "ratios=0.8,0.1 sum to 0.9: they must sum to 1"),
    (["--ratios", "1.2,-0.2"], "ratios=1.2,-0.2 are not allowed: ratios must be >= 0"),
    (["--ratios", "0.5,0.5", "--num-languages", "3"], "give 2 values for num_languages=3"),
    (["--ratios", "0.9,ten"], "--ratios='0.9,ten' is not allowed"),
    (["--num-languages", "0"], "num_languages=0 is not allowed: it must be an integer >= 1"),
    (["--num-languages", "10000000"], "num_languages=10000000 is not allowed: at most 100 languages"),
    (["--clone-fraction", "0"], r"clone_fraction=0.0 is not allowed: it must lie in \(0, 1\]"),
    (["--clone-fraction", "1.5"], r"clone_fraction=1.5 is not allowed"),
    (["--block-size", "1"], "block_size=1 is not allowed: it must be >= 2"),
    (["--anchors", "popular", "--clone-fraction", "0.5"], "anchors='popular' is not allowed"),
    (["--max-documents", "3", "--eval-blocks", "256"], "3 documents .* too few whole documents to hold out"),
    (["--max-documents", "3", "--eval-blocks", "256", "--held-out", "random_blocks"], "too few for eval_blocks=256"),
    (["--eod-token", "<nope>"], "eod token '<nope>' is not in the tokenizer's vocabulary"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_stops_with_one_line_and_no_folder(tmp_path, capsys, args, message):
    out = tmp_path / "out"
    code = main(["build", "--output", str(out), *tiny_corpus_flags("block_size", "eval_blocks"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "Traceback" not in err  # progress bars may come first; the error is one line, the last
    last = err.splitlines()[-1]
    assert last.startswith("hf-clonelang build: error: ") and sum("error:" in x for x in err.splitlines()) == 1
    assert re.search(message, last), last
    assert list(tmp_path.iterdir()) == []  # no output folder, no temporary leftovers


def test_empty_corpus(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    code = main(["build", "--train_files", str(empty), "--output", str(tmp_path / "out")])
    assert code == 2 and "is empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.txt"]


def test_missing_text_column(tmp_path, capsys):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"body": "hello there"}\n')
    code = main(["build", "--train_files", str(docs), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "text column 'text' not found" in err and "available columns are body" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["docs.jsonl"]


def test_missing_base_file_and_missing_destination(tmp_path, capsys):
    assert main(["build", "--train_files", str(tmp_path / "nope.txt"), "--output", str(tmp_path / "o")]) == 2
    assert "nope.txt' does not exist" in capsys.readouterr().err
    assert main(["build"]) == 2
    assert "no destination" in capsys.readouterr().err


def test_tokenizer_without_end_of_document_token(tmp_path, capsys, story_texts):
    tok = _tokenizer_without_eos(tmp_path / "tok", story_texts)
    code = main(["build", "--tokenizer_name", tok, "--output", str(tmp_path / "out"), *CORPUS])
    err = capsys.readouterr().err
    assert code == 2 and "has no end-of-document (eos) token: name one with eod_token / --eod-token" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok"]
    code = main(["build", "--tokenizer_name", tok, "--eod-token", "[UNK]", "--output", str(tmp_path / "out"), *CORPUS])
    assert code == 0  # naming one works


def test_existing_config_without_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "--output", str(out), *CORPUS]) == 0
    before = sorted(p.name for p in (out / "data" / "L2-r50-50").iterdir())
    capsys.readouterr()
    assert main(["build", "--output", str(out), *CORPUS]) == 2
    assert "config 'L2-r50-50' already exists" in capsys.readouterr().err
    assert sorted(p.name for p in (out / "data" / "L2-r50-50").iterdir()) == before
    assert main(["build", "--output", str(out), "--overwrite", *CORPUS]) == 0


def test_the_console_script_starts_without_torch():
    """Every hf-clonelang command starts fast: torch (over a second to import) loads only where a command needs a
    model or the grid's analysis, never to parse arguments, build a corpus or push."""
    assert (
        run_python("-c", "import sys, hf_clonelang.commands.cli; print('torch' in sys.modules)").stdout.strip()
        == "False"
    )
