"""Shared fixtures: a tiny byte-level BPE trained on embedded stories, small corpus settings, and the local
stand-in Hub (`hub` for one test, `module_hub` for a module; both from `toolkit.local_hub`)."""

import os

import pytest
from toolkit import local_hub

os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def story_texts():
    from hf_clonelang.data.stories import stories

    return [s["text"] for s in stories(200, seed=0)]


@pytest.fixture(scope="session")
def base_tokenizer(story_texts):
    from hf_clonelang import train_byte_level_bpe

    return train_byte_level_bpe(story_texts, vocab_size=300)


@pytest.fixture
def small_config():
    """Keyword arguments for a ClonedCorpusConfig that builds in well under a second."""
    from hf_clonelang import BaseCorpus

    return dict(base=BaseCorpus(max_documents=300), vocab_size=300, block_size=32, eval_blocks=8)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """(DatasetDict, ClonedTokenizer): a two-language corpus built with ratios 0.7/0.3, blocks of 32, 8 held out."""
    from hf_clonelang import BaseCorpus, ClonedCorpusBuilder

    builder = ClonedCorpusBuilder(
        cache_dir=str(tmp_path_factory.mktemp("corpus")),
        base=BaseCorpus(max_documents=300),
        vocab_size=300,
        block_size=32,
        eval_blocks=8,
        ratios=(0.7, 0.3),
    )
    builder.download_and_prepare()
    return builder.as_dataset(), builder.cloned_tokenizer


@pytest.fixture
def hub(tmp_path):
    """A local stand-in Hub for one test (see `toolkit.local_hub`)."""
    with local_hub(tmp_path / "hub") as server:
        yield server


@pytest.fixture(scope="module")
def module_hub(tmp_path_factory):
    """A local stand-in Hub shared by a module's tests, e.g. to push one run and read it back many ways. Its Hub
    requests time out after 2 s (``HF_CLONELANG_HUB_TIMEOUT``), so that a fault that delays an answer ends in
    seconds."""
    with local_hub(tmp_path_factory.mktemp("hub"), HF_CLONELANG_HUB_TIMEOUT="2") as server:
        yield server
