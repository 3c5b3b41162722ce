"""Fixtures of the probe's tests: a cloned run folder and a labelled task (see `probe_runs`)."""

import pytest
from probe_runs import save_run, write_task


@pytest.fixture(scope="module")
def cloned_run(tmp_path_factory, base_tokenizer):
    from hf_clonelang import ClonedTokenizer

    return save_run(tmp_path_factory.mktemp("run") / "r", ClonedTokenizer(base_tokenizer, num_languages=2))


@pytest.fixture(scope="module")
def task_file(tmp_path_factory):
    return write_task(tmp_path_factory.mktemp("task") / "topics.csv")
