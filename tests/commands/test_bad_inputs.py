"""Bad input at every entry point, as a table: the input, the one line it ends in (exit status 2), and nothing left
behind. Every case fails before any expensive work (no corpus build, no training, no Hub request)."""

import json

import pytest
from toolkit import tiny_run_flags

from hf_clonelang.commands.cli import main as hf_clonelang
from hf_clonelang.commands.train import cli as train_script


def _run(entry, argv):
    if entry == "train":
        with pytest.raises(SystemExit) as exit_info:
            train_script(argv)
        return exit_info.value.code
    return hf_clonelang(argv)


# (entry point, arguments with {tmp} for a scratch folder, the start of the message after "error: ")
CASES = [
    ("train", ["--no_such_flag", "1"], "unknown arguments: --no_such_flag 1"),
    ("train", ["--output_dir", "{tmp}/file"], "--output_dir '{tmp}/file' is a file: give a folder"),
    ("train", ["--output_dir", "{tmp}/file/under"], "--output_dir '{tmp}/file/under' is under '{tmp}/file'"),
    ("train", ["--output_dir", "{tmp}/o", "--max_steps", "0"], "max_steps=0, num_train_epochs=3.0 train nothing"),
    ("train", ["--output_dir", "{tmp}/o", "--num_languages", "5000"], "num_languages=5000 is not allowed: at most"),
    ("train", ["--output_dir", "{tmp}/o", "--model_name_or_path", "./missing"], "--model_name_or_path './missing'"),
    ("train", ["--output_dir", "{tmp}/o", "--cloned_corpus", "{tmp}/none"], "--cloned_corpus '{tmp}/none' is not a"),
    ("train", ["--output_dir", "{tmp}/o", "--cloned_corpus", "{tmp}/file"], "--cloned_corpus '{tmp}/file' is not a"),
    ("train", ["--output_dir", "{tmp}/o", "--push_to_hub", "--hub_model_id", "a b"], "--hub_model_id 'a b' is not"),
    ("train", ["--output_dir", "{tmp}/o", "--resume_from_checkpoint", "true"], "--resume_from_checkpoint true, but"),
    ("train", ["--output_dir", "{tmp}/o", "--resume_from_checkpoint", "{tmp}/nope"], "--resume_from_checkpoint"),
    ("train", ["--output_dir", "{tmp}/o", "--corpus_config_name", ""], "corpus_config_name='' is not allowed"),
    ("train", ["--config", "{tmp}/missing.yaml"], "config file '{tmp}/missing.yaml' does not exist"),
    ("train", ["--output_dir", "{tmp}/o", "--eval_last_n", "500"], "eval_last_n=500 is not allowed: at most the"),
    ("train", ["--output_dir", "{tmp}/o", "--eval_last_n", "0"], "eval_last_n=0 is not allowed: it must lie in 1.."),
    ("train", ["--config", "{tmp}/typo.yaml"], "unknown arguments: --lerning_rate 0.1"),
    ("build", ["build"], "no destination: give --output DIR"),
    ("build", ["build", "--output", "{tmp}/file"], "--output '{tmp}/file' is a file: give a folder"),
    ("build", ["build", "--output", "{tmp}/o", "--num_proc", "0"], "--num_proc 0 is not allowed"),
    ("build", ["build", "--output", "{tmp}/o", "--push_to_hub", "--hub_dataset_id", "x//y"], "--hub_dataset_id"),
    ("build", ["build", "--output", "{tmp}/o", "--corpus_config_name", "a/b"], "corpus_config_name='a/b'"),
    ("build", ["build", "--output", "{tmp}/o", "--train_files", "{tmp}/binary.txt"], "cannot read the base text"),
    ("build", ["build", "--output", "{tmp}/o", "--train_files", "{tmp}/bad.jsonl"], "cannot read the base text"),
    ("build", ["build", "--output", "{tmp}/o", "--num_languages", "101"], "num_languages=101 is not allowed"),
    ("push", ["push", "{tmp}/nothing", "--repo", "me/x"], "'{tmp}/nothing' is not a folder"),
    ("push", ["push", "{tmp}", "--repo", "not a repo"], "--repo 'not a repo' is not a valid Hub repo id"),
    ("align", ["align", "{tmp}/nothing"], "'{tmp}/nothing' is neither a run folder nor a readable Hub model repo"),
    ("stories", ["stories", "--num", "0", "--output", "{tmp}/s.jsonl"], "--num=0 is not allowed"),
    ("stories", ["stories", "--output", "{tmp}"], "--output '{tmp}' is a folder"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--jobs", "0"], "--jobs=0 is not allowed"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--jobs", "-1"], "--jobs=-1 is not allowed"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--scale", "huge"], "--scale 'huge' is not allowed: use"),
    # real languages
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt", "--language", "en={tmp}/fr.txt"],
     "--language en is given twice: give each language once"),
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt"],
     "--language en={tmp}/en.txt: give two or more real languages"),
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt", "--language", "fr={tmp}/missing.txt"],
     "base file '{tmp}/missing.txt' does not exist"),
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt", "--language", "{tmp}/fr.txt"],
     "--language '{tmp}/fr.txt' is not allowed: give NAME=VALUE"),
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt", "--language", "fr={tmp}/fr.txt",
      "--vocab", "anchored", "--tokenizer_name", "gpt2"],
     "--vocab_mode anchored with one shared --tokenizer_name gpt2 would anchor every piece"),
    ("build", ["build", "--output", "{tmp}/o", "--language", "en={tmp}/en.txt", "--language", "fr={tmp}/fr.txt",
      "--clone_fraction", "0.5"], "--clone_fraction 0.5 applies to cloned languages only"),
    ("train", ["--output_dir", "{tmp}/o", "--alignment_pairs", "{tmp}/one_column.tsv"],
     "{tmp}/one_column.tsv:2 is not a pair: give a sentence and its translation separated by a tab"),
    ("train", ["--output_dir", "{tmp}/o", "--alignment_pairs", "{tmp}/none.tsv"], "--alignment_pairs '{tmp}/none"),
    ("align", ["align", "{tmp}", "--pairs", "{tmp}/one_column.tsv"], "{tmp}/one_column.tsv:2 is not a pair"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--languages", "en={tmp}/en.txt"],
     "--languages names 1 languages: the real-language grid takes two"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--languages", "en={tmp}/en.txt,fr={tmp}/missing.txt"],
     "--languages: the text of fr, '{tmp}/missing.txt', does not exist"),
    ("reproduce", ["reproduce", "--output", "{tmp}/g", "--pairs", "{tmp}/one_column.tsv"],
     "--pairs is for real languages (--languages)"),
]  # fmt: skip


@pytest.mark.parametrize(("entry", "argv", "message"), CASES, ids=[" ".join(c[1])[:60] for c in CASES])
def test_bad_input_ends_in_one_line_and_leaves_nothing(entry, argv, message, tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (tmp_path / "bad.jsonl").write_text('{"text": "fine"}\n{"text": broken\n')
    (tmp_path / "typo.yaml").write_text("lerning_rate: 0.1\n")
    (tmp_path / "en.txt").write_text("The fox ran.\n\nThe bird sang.\n")
    (tmp_path / "fr.txt").write_text("Le renard courut.\n\nL'oiseau chantait.\n")
    (tmp_path / "one_column.tsv").write_text("Hello.\tBonjour.\nGoodbye.\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    code = _run(entry, [a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in "\n".join(err)
    prefix = "run_clm_imbalance.py" if entry == "train" else f"hf-clonelang {entry}"
    assert err[-1].startswith(f"{prefix}: error: {message.replace('{tmp}', str(tmp_path))}"), err[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, no leftovers


def test_an_incomplete_newest_checkpoint_is_skipped_with_a_warning(tmp_path, caplog):
    from hf_clonelang.commands.checks import complete_checkpoint

    for step in (10, 20, 30):
        (tmp_path / f"checkpoint-{step}").mkdir()
    for step in (10, 20):  # 30 was killed while being written: no trainer_state.json
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    with caplog.at_level("WARNING"):
        assert complete_checkpoint(tmp_path).endswith("checkpoint-20")
    assert "checkpoint-30" in caplog.text and "not written completely" in caplog.text


def test_a_full_disk_ends_in_one_line_and_leaves_no_half_written_file(tmp_path, capsys, monkeypatch):
    import builtins
    import errno

    real_open = builtins.open

    class FullDisk:
        def __init__(self, f):
            self.f, self.written = f, 0

        def write(self, text):
            self.written += len(text)
            if self.written > 2000:
                raise OSError(errno.ENOSPC, "No space left on device", self.f.name)
            return self.f.write(text)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

    def opening(path, mode="r", *args, **kwargs):
        f = real_open(path, mode, *args, **kwargs)
        return FullDisk(f) if "w" in mode and str(path).endswith(".tmp") else f

    monkeypatch.setattr(builtins, "open", opening)
    code = hf_clonelang(["stories", "--num", "50", "--output", str(tmp_path / "s.jsonl")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("hf-clonelang stories: error: No space left on device"), err
    assert "free some space" in err[-1] and list(tmp_path.iterdir()) == []


def test_a_damaged_newest_checkpoint_is_skipped_and_an_explicit_one_is_named(tmp_path, capsys, caplog):
    import torch

    from hf_clonelang.commands.checks import complete_checkpoint

    for step in (10, 20):
        checkpoint = tmp_path / f"checkpoint-{step}"
        checkpoint.mkdir()
        (checkpoint / "trainer_state.json").write_text(json.dumps({"global_step": step}))
        torch.save({"state": torch.zeros(100)}, checkpoint / "optimizer.pt")
    data = (tmp_path / "checkpoint-20" / "optimizer.pt").read_bytes()
    (tmp_path / "checkpoint-20" / "optimizer.pt").write_bytes(data[: len(data) // 2])  # killed while writing
    with caplog.at_level("WARNING"):
        assert complete_checkpoint(tmp_path).endswith("checkpoint-10")
    assert "checkpoint-20" in caplog.text and "optimizer.pt' is damaged" in caplog.text
    code = _run("train", ["--output_dir", str(tmp_path), "--resume_from_checkpoint", str(tmp_path / "checkpoint-20")])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and f"checkpoint file '{tmp_path / 'checkpoint-20' / 'optimizer.pt'}' is damaged" in last, last
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text("")  # no whole checkpoint left: start again
    assert complete_checkpoint(tmp_path) is None


@pytest.mark.parametrize("store", ["DocumentStore", "BlockStore"])  # the tokenized documents, then their blocks
def test_a_disk_that_fills_during_a_build_ends_in_one_line_and_leaves_nothing(store, tmp_path, capsys, monkeypatch):
    import errno

    from hf_clonelang.data import packing

    def full(self, rows):
        raise OSError(errno.ENOSPC, "No space left on device", str(self._path))

    monkeypatch.setattr(getattr(packing, store), "append", full)
    out = tmp_path / "corpus"
    flags = ["--max_documents", "50", "--vocab_size", "300", "--block_size", "32", "--eval_blocks", "8"]
    code = hf_clonelang(["build", "--output", str(out), *flags])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert code == 2 and last.startswith("hf-clonelang build: error: No space left on device"), last
    assert list(tmp_path.iterdir()) == []  # no corpus folder, no scratch folder beside it


def test_a_disk_that_fills_during_a_checkpoint_leaves_a_resumable_run(tmp_path, capsys, monkeypatch):
    import errno

    import torch

    saves = []
    real_save = torch.save

    def filling(obj, f, *args, **kwargs):
        saves.append(str(f))
        if "checkpoint-4" in str(f) and str(f).endswith("scheduler.pt"):  # the second checkpoint, half-way through
            raise OSError(errno.ENOSPC, "No space left on device", str(f))
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", filling)
    flags = tiny_run_flags(
        "eval_steps",
        "logging_steps",
        "learning_rate",
        n_layer=1,
        n_embd=32,
        max_steps=6,
        save_steps=2,  # checkpoints at steps 2, 4 and 6
        eval_strategy="no",
        output_dir=tmp_path / "run",
        corpus_cache_dir=tmp_path / "cache",
    )
    assert _run("train", flags) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("run_clm_imbalance.py: error: No space left on device"), last
    monkeypatch.setattr(torch, "save", real_save)
    from hf_clonelang.commands.checks import complete_checkpoint

    assert complete_checkpoint(tmp_path / "run").endswith("checkpoint-2")  # the half-written checkpoint-4 is skipped


def test_faults_wrapped_by_a_library_and_network_faults_are_named(tmp_path):
    import errno

    from hf_clonelang.errors import exit_message

    class DatasetGenerationError(Exception):
        pass

    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "shard.arrow"))
        except OSError as disk:
            raise DatasetGenerationError("An error occurred while generating the dataset") from disk
    except DatasetGenerationError as wrapped:
        line, status = exit_message("hf-clonelang build", wrapped)
    assert status == 2 and line.startswith("hf-clonelang build: error: No space left on device"), line
    line, status = exit_message("hf-clonelang build", ConnectionError("Couldn't reach 'me/texts' on the Hub"))
    assert status == 2 and "check the network and the repo or dataset id" in line
    line, status = exit_message("hf-clonelang build", RuntimeError("a bug"))
    assert status == 1 and "HF_CLONELANG_DEBUG=1" in line
