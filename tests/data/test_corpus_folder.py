"""Corpus folders: Parquet + tokenizer + card; several configs side by side; load_dataset; atomic builds."""

import json

import numpy as np
import pytest
from datasets import get_dataset_config_names, load_dataset
from huggingface_hub import DatasetCard
from transformers import AutoTokenizer

from hf_clonelang import ClonedCorpusConfig, ConfigError
from hf_clonelang.data.builder import ClonedCorpusBuilder
from hf_clonelang.data.corpus_folder import load_cloned_corpus, save_cloned_corpus


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from hf_clonelang import BaseCorpus

    out = tmp_path_factory.mktemp("corpus") / "corpus"
    small = dict(base=BaseCorpus(max_documents=300), vocab_size=300, block_size=32, eval_blocks=8)
    save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **small), out)
    save_cloned_corpus(ClonedCorpusConfig(num_languages=3, clone_fraction=0.9, **small), out)
    return out


def test_two_configs_load_with_plain_load_dataset(folder):
    assert get_dataset_config_names(str(folder)) == ["L2-r90-10", "L3-r33.3-33.3-33.3-c0.9"]
    first = load_dataset(str(folder), "L2-r90-10")
    second = load_dataset(str(folder), "L3-r33.3-33.3-33.3-c0.9")
    assert set(first) == {"train", "validation_L1", "validation_L2", "test_L1", "test_L2"}
    assert set(second) == {"train"} | {f"{s}_L{k}" for s in ("validation", "test") for k in (1, 2, 3)}
    assert set(second["train"]["language"]) == {1, 2, 3}
    assert first["validation_L2"]["block_id"] == first["validation_L1"]["block_id"]
    assert load_dataset(str(folder))["train"].num_rows == first["train"].num_rows  # the first config is default


def test_card_metadata_and_text(folder):
    card = DatasetCard.load(folder / "README.md")
    configs = {c["config_name"]: c for c in card.data.configs}
    assert set(configs) == {"L2-r90-10", "L3-r33.3-33.3-33.3-c0.9"}
    assert configs["L2-r90-10"].get("default") is True
    splits = {f["split"] for f in configs["L3-r33.3-33.3-33.3-c0.9"]["data_files"]}
    assert "validation_L3" in splits and "test_L3" in splits
    text = card.text
    assert "L1 90% / L2 10%" in text and "arXiv:2404.07982" in text
    assert f'load_dataset("{folder}", "L2-r90-10")' in text
    # exactly which ids every language shares: padding, and for the c0.9 config its anchors
    assert "| shared ids | only padding, `<pad>` (id 1); every other special token, end-of-document included" in text
    assert "plus 30 anchor ids (chosen random)" in text  # 10% of the 299 cloneable ids
    info = json.loads((folder / "data" / "L2-r90-10" / "info.json").read_text())
    assert info["summary"]["train"]["L2"]["blocks"] > 0 and info["config"]["ratios"] == [0.9, 0.1]


def test_tokenizer_per_config_and_standalone_languages(folder):
    dsd, tok = load_cloned_corpus(folder, "L3-r33.3-33.3-33.3-c0.9")
    assert tok.num_languages == 3 and len(tok.anchor_ids) > 0
    row = dsd["validation_L3"][0]["input_ids"]
    text = tok.decode(row)
    assert tok.decode(dsd["validation_L1"][0]["input_ids"]) == text
    plain = AutoTokenizer.from_pretrained(folder / "tokenizer" / "L3-r33.3-33.3-33.3-c0.9", subfolder="tokenizers/L3")
    assert plain.decode(row) == text
    sentence = "The little fox found a red kite."
    assert plain(sentence)["input_ids"] == tok(sentence, language=3)["input_ids"]


def test_existing_config_needs_overwrite(folder, small_config):
    before = (folder / "data" / "L2-r90-10" / "info.json").read_text()
    with pytest.raises(ConfigError, match="config 'L2-r90-10' already exists .*--overwrite"):
        save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **small_config), folder)
    assert (folder / "data" / "L2-r90-10" / "info.json").read_text() == before


def test_overwrite_replaces_one_config_and_keeps_the_others(tmp_path, small_config):
    out = tmp_path / "c"
    save_cloned_corpus(ClonedCorpusConfig(ratios=(0.5, 0.5), **small_config), out)
    save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **small_config), out)
    save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **{**small_config, "seed": 3}), out, overwrite=True)
    assert get_dataset_config_names(str(out)) == ["L2-r50-50", "L2-r90-10"]
    assert json.loads((out / "data" / "L2-r90-10" / "info.json").read_text())["config"]["seed"] == 3
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "tokenizer"]  # no temporary leftovers


class Interrupted(KeyboardInterrupt):
    pass


def _interrupt_midway(self, **kwargs):
    gen = ClonedCorpusBuilder._real_generate_tables(self, **kwargs)
    yield next(gen)
    raise Interrupted


@pytest.fixture
def interrupting(monkeypatch):
    monkeypatch.setattr(
        ClonedCorpusBuilder, "_real_generate_tables", ClonedCorpusBuilder._generate_tables, raising=False
    )
    monkeypatch.setattr(ClonedCorpusBuilder, "_generate_tables", _interrupt_midway)


def test_interrupted_build_of_a_new_folder_leaves_nothing(tmp_path, small_config, interrupting):
    with pytest.raises(Interrupted):
        save_cloned_corpus(ClonedCorpusConfig(**small_config), tmp_path / "new")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_build_keeps_existing_configs_intact(tmp_path, small_config, monkeypatch):
    out = tmp_path / "c"
    save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **small_config), out)
    card = (out / "README.md").read_text()
    monkeypatch.setattr(
        ClonedCorpusBuilder, "_real_generate_tables", ClonedCorpusBuilder._generate_tables, raising=False
    )
    monkeypatch.setattr(ClonedCorpusBuilder, "_generate_tables", _interrupt_midway)
    with pytest.raises(Interrupted):
        save_cloned_corpus(ClonedCorpusConfig(ratios=(0.5, 0.5), **small_config), out)
    with pytest.raises(Interrupted):  # rebuilding an existing config fails too: the old one survives
        save_cloned_corpus(ClonedCorpusConfig(ratios=(0.9, 0.1), **small_config), out, overwrite=True)
    assert sorted(p.name for p in (out / "data").iterdir()) == ["L2-r90-10"]
    assert (out / "README.md").read_text() == card
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "tokenizer"]
    assert np.array(load_dataset(str(out), "L2-r90-10")["train"]["language"]).mean() < 1.2


def test_info_names_local_base_files_without_their_path(tmp_path, small_config, base_tokenizer):
    from hf_clonelang import BaseCorpus

    text = tmp_path / "private" / "books.txt"
    text.parent.mkdir()
    text.write_text("\n\n".join(f"The fox {i} ran to the river and found a red kite." for i in range(400)))
    config = ClonedCorpusConfig(**{**small_config, "base": BaseCorpus.from_spec([str(text)])})
    out = tmp_path / "corpus"
    info = save_cloned_corpus(config, out)
    assert info["config"]["base"]["files"] == ["books.txt"]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix == ".json":  # what a push uploads as is (its card is written for the repo)
            assert str(tmp_path) not in path.read_text(), path
    from hf_clonelang.data.corpus_folder import built_config_info

    # the retry-the-push check still recognises the build: it finds this config's info, as written (JSON)
    assert built_config_info(out, config) == json.loads(json.dumps(info))
    other = ClonedCorpusConfig(**{**small_config, "base": config.base, "vocab_size": 301})  # same name, other settings
    assert other.name == config.name and built_config_info(out, other) is None
    folder = tmp_path / "private" / "texts"  # a local dataset folder, and a tokenizer saved in a local folder
    folder.mkdir()
    (folder / "train.jsonl").write_text("".join(f'{{"text": "The fox {i} found a red kite."}}\n' for i in range(400)))
    base_tokenizer.save_pretrained(tmp_path / "private" / "tok")
    config = ClonedCorpusConfig(
        **{**small_config, "base": BaseCorpus.from_spec(str(folder)), "tokenizer": str(tmp_path / "private" / "tok")}
    )
    info = save_cloned_corpus(config, tmp_path / "corpus2")
    assert info["config"]["base"]["source"] == "texts" and info["config"]["tokenizer"] == "tok"
    assert str(tmp_path) not in json.dumps(info)
