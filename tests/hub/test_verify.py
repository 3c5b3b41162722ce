"""Nothing broken is published: a truncated model, an unfinished run, a truncated Parquet shard are refused with
one line naming the file, before any request to the Hub."""

import json
import shutil

import pytest
from transformers import GPT2Config, GPT2LMHeadModel

from hf_clonelang import ClonedCorpusConfig, ConfigError
from hf_clonelang.data.corpus_folder import save_cloned_corpus
from hf_clonelang.hub.push import push_cloned_corpus, push_run


@pytest.fixture
def run(tmp_path):
    folder = tmp_path / "run"
    GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=16, n_layer=1, n_embd=16, n_head=2)).save_pretrained(folder)
    (folder / "run_info.json").write_text(json.dumps({"num_languages": 2, "data": {}}))
    (folder / "all_results.json").write_text(json.dumps({"eval_L1_loss": 2.0}))
    return folder


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_a_truncated_model_is_not_pushed(run):
    _truncate(run / "model.safetensors")
    with pytest.raises(ConfigError, match=r"model.safetensors does not load .*truncated or corrupt"):
        push_run(run, "me/never-created")


def test_a_sharded_model_with_a_missing_shard_is_not_pushed(run):
    shard = "model-00002-of-00002.safetensors"
    index = {"metadata": {}, "weight_map": {"a": "model.safetensors", "b": shard}}
    (run / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ConfigError, match=f"lacks the model shards {shard}"):
        push_run(run, "me/never-created")


@pytest.mark.parametrize("missing", ["all_results.json", "run_info.json"])
def test_an_unfinished_run_is_not_pushed(run, missing):
    (run / missing).unlink()
    with pytest.raises(ConfigError, match=f"is not a finished run \\({missing} is missing\\)"):
        push_run(run, "me/never-created")


def test_a_truncated_shard_is_not_pushed(tmp_path, small_config):
    folder = tmp_path / "corpus"
    info = save_cloned_corpus(ClonedCorpusConfig(**small_config), folder)
    name = info["config"]["name"]
    shard = next((folder / "data" / name).glob("train-*.parquet"))
    kept = tmp_path / "kept.parquet"
    shutil.copy(shard, kept)
    _truncate(shard)
    with pytest.raises(ConfigError, match=r"train-.*\.parquet does not read as Parquet"):
        push_cloned_corpus(folder, name, "me/never-created")
    shard.write_bytes(kept.read_bytes()[:-1] + b"\0")  # a damaged footer magic
    with pytest.raises(ConfigError, match="does not read as Parquet"):
        push_cloned_corpus(folder, name, "me/never-created")
