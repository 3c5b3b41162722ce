"""Pushing corpora to a Hub served by a real HTTP server on 127.0.0.1, loading them back, and push failures.

Clients run in subprocesses: HF_ENDPOINT and friends must be set before any HF library is imported.
"""

import json

import pytest
import yaml
from toolkit import run_cli, run_snippet, tiny_corpus_flags

CORPUS = tiny_corpus_flags(max_documents=300)  # a corpus to build and push, not to train on: fewer stories


def _build(hub, *args, returncode=0):
    """``hf-clonelang build ARGS`` as a client of ``hub``."""
    return run_cli("build", *args, env=hub.client_env, returncode=returncode)


def _card_meta(hub, repo):
    return yaml.safe_load(hub.read(repo, "README.md").decode().split("---")[1])


def _card_configs(hub, repo):
    return {c["config_name"]: c for c in _card_meta(hub, repo)["configs"]}


def test_push_two_configs_and_load_each_with_load_dataset(hub, tmp_path):
    first = _build(hub, "--ratios", "0.9,0.1", "--push_to_hub", "--hub_dataset_id", "tester/clones", *CORPUS)
    assert "pushed L2-r90-10" in first.stdout
    _build(
        hub,
        "--num-languages",
        "3",
        "--output",
        str(tmp_path / "local"),
        "--push_to_hub",
        "--hub_dataset_id",
        "tester/clones",
        *CORPUS,
    )
    configs = _card_configs(hub, "tester/clones")
    assert set(configs) == {"L2-r90-10", "L3-r33.3-33.3-33.3"}
    assert configs["L2-r90-10"]["default"] is True
    assert "data/L3-r33.3-33.3-33.3/validation_L3-00000-of-00001.parquet" in hub.files("tester/clones")

    loaded = run_snippet(
        """
        import json
        from datasets import load_dataset
        from hf_clonelang.data.corpus_folder import load_cloned_corpus
        out = {}
        for name in ("L2-r90-10", "L3-r33.3-33.3-33.3"):
            dsd = load_dataset("tester/clones", name)
            out[name] = {split: ds.num_rows for split, ds in dsd.items()}
            out[name + "/languages"] = sorted(set(dsd["train"]["language"]))
        dsd, tok = load_cloned_corpus("tester/clones", "L3-r33.3-33.3-33.3")
        out["decoded_equal"] = tok.decode(dsd["validation_L3"][0]["input_ids"]) == tok.decode(
            dsd["validation_L1"][0]["input_ids"])
        print(json.dumps(out))
    """,
        env=hub.client_env,
    )
    assert loaded["L2-r90-10/languages"] == [1, 2] and loaded["L3-r33.3-33.3-33.3/languages"] == [1, 2, 3]
    assert set(loaded["L3-r33.3-33.3-33.3"]) == {"train"} | {
        f"{s}_L{k}" for s in ("validation", "test") for k in (1, 2, 3)
    }
    assert loaded["L2-r90-10"]["validation_L2"] == 8 and loaded["decoded_equal"]
    local = json.loads((tmp_path / "local" / "data" / "L3-r33.3-33.3-33.3" / "info.json").read_text())
    assert loaded["L3-r33.3-33.3-33.3"]["train"] == sum(v["blocks"] for v in local["summary"]["train"].values())


def test_concurrent_pushes_of_two_configs_keep_both_in_the_card(hub, tmp_path):
    folder = tmp_path / "local"
    for extra in ((), ("--num-languages", "3")):
        _build(hub, *extra, "--output", folder, *CORPUS)
    names = ("L2-r50-50", "L3-r33.3-33.3-33.3")
    # both commits wait on the server, so the second is made on the same parent as the first: it must be refused
    hub.fault(r"^POST /api/datasets/tester/race/commit/", status=None, delay=1.5, times=2)
    pushed = run_snippet(
        f"""
        import json, threading
        from hf_clonelang.hub.push import push_cloned_corpus
        out = {{}}
        def push(name):
            try:
                out[name] = push_cloned_corpus({str(folder)!r}, name, "tester/race")
            except Exception as err:
                out[name] = repr(err)
        threads = [threading.Thread(target=push, args=(name,)) for name in {names!r}]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(out))
        """,
        env=hub.client_env,
    )
    assert all("/commit/" in url for url in pushed.values()), pushed
    files = set(hub.files("tester/race"))
    for name in names:
        assert {f"data/{name}/train-00000-of-00001.parquet", f"data/{name}/info.json"} <= files
        assert f"tokenizer/{name}/cloned_tokenizer.json" in files
    meta = _card_meta(hub, "tester/race")
    assert {c["config_name"] for c in meta["configs"]} == set(names)
    assert {d["config_name"] for d in meta["dataset_info"]} == set(names)
    commits = [r for r in hub.state.requests if r.startswith("POST /api/datasets/tester/race/commit/")]
    assert len(commits) == 3  # the two racing commits and the retry of the refused one


def test_card_metadata_names_features_rows_and_old_info_files(hub, tmp_path):
    from huggingface_hub import DatasetCard

    from hf_clonelang.hub.cards import render_dataset_card

    folder = tmp_path / "local"
    _build(hub, "--ratios", "0.9,0.1", "--output", folder, *CORPUS)
    info = json.loads((folder / "data" / "L2-r90-10" / "info.json").read_text())
    card = DatasetCard.load(folder / "README.md")
    assert card.data.license == "apache-2.0" and card.data.language == ["en"]
    assert {"hf-clonelang", "cloned-languages", "language-imbalance"} <= set(card.data.tags)
    (entry,) = card.data.dataset_info
    assert entry["config_name"] == "L2-r90-10"
    assert {f["name"] for f in entry["features"]} == {"input_ids", "language", "block_id"}
    rows = {s["name"]: s["num_examples"] for s in entry["splits"]}
    assert rows["validation_L2"] == 8 and rows["train"] == sum(v["blocks"] for v in info["summary"]["train"].values())

    # an info.json from before `features`, `splits` and `share_special_tokens`
    old = {k: v for k, v in info.items() if k not in ("features", "splits")}
    old["config"] = {k: v for k, v in info["config"].items() if k != "share_special_tokens"} | {
        "clone_specials": False
    }
    old["tokenizer"] = {
        k: v for k, v in info["tokenizer"].items() if k not in ("share_special_tokens", "shared_ids_description")
    }
    old_card = DatasetCard(render_dataset_card([old], location="me/old", is_repo=True))
    assert "| shared ids | special tokens shared |" in old_card.text
    (old_entry,) = old_card.data.dataset_info
    assert {s["name"]: s["num_examples"] for s in old_entry["splits"]} == rows and "features" not in old_entry


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 403}, {"drop": True}])
def test_failed_push_keeps_the_local_folder_and_can_be_retried(hub, tmp_path, fault):
    out = tmp_path / "local"
    hub.fault(r"^POST /api/datasets/tester/clones/commit/", **fault)
    failed = _build(hub, "--output", out, "--push_to_hub", "--hub_dataset_id", "tester/clones", *CORPUS, returncode=2)
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("hf-clonelang build: error: pushing 'L2-r50-50' to dataset repo 'tester/clones' failed: ")
    assert "Traceback" not in failed.stderr
    built = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "data/L2-r50-50/train-00000-of-00001.parquet" in built and "README.md" in built
    assert not any(f.startswith("data/") for f in hub.files("tester/clones"))  # nothing half-committed

    hub.clear_faults()
    # the same command again
    retried = _build(hub, "--output", out, "--push_to_hub", "--hub_dataset_id", "tester/clones", *CORPUS)
    assert "already built" in retried.stdout and "pushed L2-r50-50" in retried.stdout
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == built
    assert "data/L2-r50-50/train-00000-of-00001.parquet" in hub.files("tester/clones")


def test_repushing_a_config_replaces_its_files(hub, tmp_path):
    _build(hub, "--output", tmp_path / "a", "--push_to_hub", "--hub_dataset_id", "tester/c", *CORPUS)
    before = set(hub.files("tester/c"))
    stale = (
        hub.state.repo_dir("datasets", "tester/c") / "files" / "data" / "L2-r50-50" / "train-00001-of-00002.parquet"
    )
    stale.write_bytes(b"left over from an earlier push")
    _build(
        hub,
        "--output",
        str(tmp_path / "a"),
        "--overwrite",
        "--corpus_seed",
        "1",
        "--push_to_hub",
        "--hub_dataset_id",
        "tester/c",
        *CORPUS,
    )
    assert set(hub.files("tester/c")) == before  # the stale shard is gone


@pytest.mark.slow  # a dataset repo read by load_dataset, then a build
def test_base_text_from_a_hub_dataset_by_name(hub, tmp_path):
    run_snippet(
        """
        import json
        from datasets import Dataset
        stories = [f"Story number {i}: the fox and the kite went to the river." for i in range(400)]
        Dataset.from_dict({"story": stories, "n": list(range(400))}).push_to_hub("tester/texts", split="train")
        print(json.dumps({}))
    """,
        env=hub.client_env,
    )
    out = tmp_path / "from_hub"
    corpus = tiny_corpus_flags("max_documents")  # the base text is the dataset's
    _build(hub, "--dataset_name", "tester/texts", "--text-column", "story", "--output", out, *corpus)
    info = json.loads((out / "data" / "L2-r50-50" / "info.json").read_text())
    assert info["config"]["base"]["source"] == "tester/texts"
    assert sum(v["blocks"] for v in info["summary"]["train"].values()) > 100
    wrong = _build(hub, "--dataset_name", "tester/texts", "--output", tmp_path / "x", *corpus, returncode=2)
    assert "text column 'text' not found" in wrong.stderr
    assert "available columns are n, story" in wrong.stderr and not (tmp_path / "x").exists()


def test_a_cloned_tokenizer_pushes_and_loads_back_from_the_hub(hub):
    loaded = run_snippet(
        """
        import json
        from transformers import AutoTokenizer
        from hf_clonelang import BaseCorpus, ClonedTokenizer, train_byte_level_bpe

        base = train_byte_level_bpe(BaseCorpus(max_documents=100).texts(), 300)
        tok = ClonedTokenizer(base, 3)
        commit = tok.push_to_hub("tester/cloned-tok")
        again = ClonedTokenizer.from_pretrained("tester/cloned-tok")
        plain = AutoTokenizer.from_pretrained("tester/cloned-tok", subfolder="tokenizers/L3")
        text = "Lily found a red kite."
        print(json.dumps({
            "commit": bool(commit.oid), "same": again.to_dict() == tok.to_dict(),
            "ids": again(text, language=3)["input_ids"] == tok(text, language=3)["input_ids"],
            "plain": plain(text)["input_ids"] == tok(text, language=3)["input_ids"],
        }))
        """,
        env=hub.client_env,
    )
    assert loaded == {"commit": True, "same": True, "ids": True, "plain": True}
    assert {"cloned_tokenizer.json", "tokenizer.json", "tokenizers/L3/tokenizer.json"} <= set(
        hub.files("tester/cloned-tok", rtype="models")
    )


def test_a_real_language_config_pushes_and_loads_back_with_its_joint_tokenizer(hub, tmp_path):
    from real_texts import write_texts

    en, fr, _ = write_texts(tmp_path)
    languages = ("--language", f"en={en}", "--language", f"fr={fr}", "--vocab", "anchored")
    corpus = tiny_corpus_flags("max_documents")  # the base texts are the languages' own
    pushed = _build(hub, *languages, *corpus, "--push_to_hub", "--hub_dataset_id", "tester/enfr")
    assert "pushed en-fr-anchored-all" in pushed.stdout
    meta = _card_meta(hub, "tester/enfr")
    assert meta["language"] == ["en", "fr"] and meta["pretty_name"] == "Real-language corpus"
    loaded = run_snippet(
        """
        import json
        from hf_clonelang.data.corpus_folder import load_cloned_corpus
        dsd, tok = load_cloned_corpus("tester/enfr", "en-fr-anchored-all")
        row = dsd["validation_L2"][0]["input_ids"]
        print(json.dumps({"kind": type(tok).__name__, "names": tok.names, "mode": tok.mode,
                          "owners": sorted(set(tok.language_of(row).tolist())), "splits": sorted(dsd)}))
    """,
        env=hub.client_env,
    )
    assert loaded["kind"] == "JointTokenizer" and loaded["names"] == ["en", "fr"] and loaded["mode"] == "anchored"
    assert set(loaded["owners"]) <= {0, 2} and 2 in loaded["owners"] and "test_L2" in loaded["splits"]  # SHARED = 0
