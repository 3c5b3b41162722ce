"""Base text: the embedded stories, text / JSONL files, dataset folders, and refused sources."""

import gzip
import json

import pytest

from hf_clonelang import BaseCorpus, ConfigError


def test_embedded_corpus_is_capped_and_seeded():
    a = list(BaseCorpus(max_documents=5).texts())
    assert len(a) == 5 and a == list(BaseCorpus(max_documents=5).texts())
    assert a != list(BaseCorpus(max_documents=5, seed=1).texts())


def test_text_files_by_paragraph_line_and_document(tmp_path):
    path = tmp_path / "book.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("First para\nstill first.\n\nSecond para.\n\n\n\nThird.\n")
    by_para = BaseCorpus.from_spec([str(path)])
    assert by_para.source == "files"
    assert [t.strip() for t in by_para.texts()] == ["First para\nstill first.", "Second para.", "Third."]
    assert len(list(BaseCorpus.from_spec([str(path)], sample_by="line").texts())) == 4
    assert len(list(BaseCorpus.from_spec([str(path)], sample_by="document").texts())) == 1


def test_jsonl_files_and_text_column(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(json.dumps({"body": f"doc {i}", "id": i}) for i in range(4)))
    corpus = BaseCorpus.from_spec([str(path)], text_column="body", max_documents=3)
    corpus.validate()
    assert list(corpus.texts()) == ["doc 0", "doc 1", "doc 2"]
    with pytest.raises(ConfigError, match="text column 'text' not found .*available columns are body, id"):
        BaseCorpus.from_spec([str(path)]).validate()


def test_local_dataset_folder_through_load_dataset(tmp_path):
    import datasets

    datasets.Dataset.from_dict({"story": ["one", "two", ""]}).to_parquet(str(tmp_path / "train.parquet"))
    corpus = BaseCorpus.from_spec(str(tmp_path), text_column="story")
    corpus.validate()
    assert list(corpus.texts()) == ["one", "two"]  # empty documents are skipped


def test_bad_sources(tmp_path):
    with pytest.raises(ConfigError, match="base file 'missing.txt' does not exist"):
        BaseCorpus.from_spec(["missing.txt"])
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.jsonl").write_text('{"text": "y"}')
    with pytest.raises(ConfigError, match="mix formats"):
        BaseCorpus.from_spec([str(tmp_path / "a.txt"), str(tmp_path / "b.jsonl")]).validate()
    with pytest.raises(ConfigError, match="sample_by='words' is not allowed"):
        BaseCorpus(sample_by="words")
