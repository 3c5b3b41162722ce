"""Pushing to the Hub: a run folder to a model repo and one config of a cloned corpus to a dataset repo, each in one
commit; and the timeout of every Hub request, which command entry points set once per process.

Library functions here set nothing process-wide: a program that pushes calls `apply_timeout_from_env` once at
start (the ``hf-clonelang`` CLI and ``run_clm_imbalance.py`` do), or configures `huggingface_hub` as it likes.
Every failure of a push raises `HubError` with one line naming the cause; running the same push again retries it.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import random
import re
import time
from pathlib import Path
from typing import Any

from ..common import CorpusFiles, RunFiles
from ..errors import ConfigError, HubError, one_line
from .cards import order_infos, read_infos, render_dataset_card, render_model_card
from .verify import verify_corpus_config, verify_probe, verify_run

logger = logging.getLogger(__name__)

TIMEOUT_ENV = "HF_CLONELANG_HUB_TIMEOUT"
DEFAULT_TIMEOUT = 60.0
"""Seconds a Hub request may wait for the server (connect, read, write, pool) before it fails."""
RUN_IGNORE = (RunFiles.CHECKPOINTS, RunFiles.TRAINING_ARGS, RunFiles.CARD)
"""Top-level entries of a run folder that stay local (a card written for the repo replaces the local one)."""
CORPUS_PUSH_TRIES = 6
"""How often a corpus push reads the repo again when another commit landed between its read and its commit."""


# ---------------------------------------------------------------------- timeout
def timeout_from_env() -> float:
    """The Hub request timeout in seconds: ``$HF_CLONELANG_HUB_TIMEOUT``, default 60."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:
        raise ConfigError(f"{TIMEOUT_ENV}={text!r} is not allowed: it must be a number of seconds > 0")
    return seconds


def apply_timeout_from_env() -> float:
    """Give every `huggingface_hub` request of this process the timeout of `timeout_from_env` (its clients have
    none by default, so a stalled server would hang a push forever); returns the seconds.

    Uses the supported hook, `huggingface_hub.set_client_factory` (and its async twin): the clients are the library's
    default ones, with a timeout. For entry points: call once at start, before any Hub request.
    """
    from huggingface_hub import set_async_client_factory, set_client_factory

    seconds = timeout_from_env()
    try:  # the library's own clients; only the factories' setters are exported
        from huggingface_hub.utils._http import default_async_client_factory, default_client_factory
    except ImportError:  # a huggingface_hub that moved them: keep its clients as they are
        logger.warning("huggingface_hub has no default_client_factory: Hub requests keep the library's timeout")
        return seconds

    def client() -> Any:
        made = default_client_factory()
        made.timeout = seconds  # the client's own setting: every request without an explicit timeout
        return made

    def async_client() -> Any:
        made = default_async_client_factory()
        made.timeout = seconds
        return made

    set_client_factory(client)
    set_async_client_factory(async_client)
    return seconds


# ---------------------------------------------------------------------- runs
def run_files(run_dir: str | Path, ignore: tuple[str, ...] = RUN_IGNORE) -> list[Path]:
    """Files of a run folder that go to the Hub (checkpoints, the pickled arguments and the local card stay)."""
    run = Path(run_dir)
    return [
        p
        for p in sorted(run.rglob("*"))
        if p.is_file() and not any(fnmatch.fnmatch(p.relative_to(run).parts[0], pat) for pat in ignore)
    ]


def push_run(
    run_dir: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
    path_in_repo: str = "",
    commit_message: str | None = None,
    finished: bool = True,
) -> str:
    """Push a finished run folder to a Hub model repo in one commit: model, `ClonedTokenizer` with the
    standalone per-language tokenizers, metrics, alignment, plots, and a card written for that repo.

    The folder is verified first (`verify_run`; ``finished=False`` skips the finished-run files, for a model saved
    from Python) and only read. Any failure (HTTP error, timeout, dropped connection, a repo you cannot write)
    raises `HubError` with one line naming the cause; running the same push again retries it.
    """
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi

    run = Path(run_dir)
    verify_run(run, finished=finished)
    prefix = f"{path_in_repo.strip('/')}/" if path_in_repo else ""
    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, exist_ok=True, private=private)
        repo = url.repo_id
        operations: list[Any] = [
            CommitOperationAdd(prefix + p.relative_to(run).as_posix(), str(p)) for p in run_files(run)
        ]
        if not prefix:
            operations.append(CommitOperationAdd(RunFiles.CARD, render_model_card(run, repo).encode()))
            # checkpoint pushes upload Trainer's pickled arguments (they may hold a token): the final push drops them
            remote = set(api.list_repo_files(repo, revision=revision))
            if RunFiles.TRAINING_ARGS in remote:
                operations.append(CommitOperationDelete(RunFiles.TRAINING_ARGS))
        commit = api.create_commit(
            repo, operations, revision=revision, commit_message=commit_message or f"Upload run {run.name}"
        )
    except ConfigError:
        raise
    except Exception as err:  # network and HTTP errors of every kind: one line with the cause
        raise HubError(f"pushing run {run} to model repo {repo_id!r} failed: {one_line(err)}") from err
    return commit.commit_url


def push_probe(
    run_dir: str | Path,
    probe_dir: str | Path,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
) -> str:
    """Add a probe's results to a Hub model repo in one commit: ``probe.json``, ``probe.png`` and the card of the
    run (``run_dir``: the folder or Hub snapshot the model was read from) with the probe's eval results.

    The results are verified first (`verify_probe`); any failure raises `HubError` with one line naming the cause,
    and running the same push again retries it."""
    from huggingface_hub import CommitOperationAdd, HfApi

    probe_folder = Path(probe_dir)
    probe = verify_probe(probe_folder)
    api = HfApi(token=token)
    try:
        repo = api.create_repo(repo_id, exist_ok=True, private=private).repo_id
        operations = [
            CommitOperationAdd(RunFiles.PROBE, str(probe_folder / RunFiles.PROBE)),
            CommitOperationAdd(RunFiles.PROBE_PLOT, str(probe_folder / RunFiles.PROBE_PLOT)),
            CommitOperationAdd(RunFiles.CARD, render_model_card(run_dir, repo, probe=probe).encode()),
        ]
        commit = api.create_commit(repo, operations, revision=revision, commit_message="Add downstream probe results")
    except ConfigError:
        raise
    except Exception as err:  # network and HTTP errors of every kind: one line with the cause
        raise HubError(f"pushing the probe results to model repo {repo_id!r} failed: {one_line(err)}") from err
    return commit.commit_url


# ---------------------------------------------------------------------- cloned corpora
class _RepoMoved(Exception):
    """The branch head moved between reading the repo and committing to it."""


def push_cloned_corpus(
    folder: str | os.PathLike,
    config_name: str,
    repo_id: str,
    token: str | None = None,
    private: bool | None = None,
    revision: str | None = None,
) -> str:
    """Push one config of a local corpus folder to a Hub dataset repo, beside the configs already there.

    One commit adds the config's Parquet shards, its tokenizer and a card listing every config of the repo (read
    back from their ``info.json``), and deletes files of an earlier push of the same config that the new one no
    longer has. The commit names the revision it read as its parent, so a push of another config that lands in
    between is never dropped from the card: the Hub refuses the commit (412/409), and the push reads the repo
    again and retries (`CORPUS_PUSH_TRIES` times). Returns the commit URL. Failures raise `HubError` and leave the
    local folder untouched.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    local = {info["config"]["name"]: info for info in read_infos(folder)}
    if config_name not in local:
        raise ConfigError(f"config {config_name!r} is not in {folder}: it holds {', '.join(local) or 'no config'}")
    verify_corpus_config(folder, local[config_name])
    api = HfApi(token=token)
    what = f"pushing {config_name!r} to dataset repo {repo_id!r} failed"
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
        for attempt in range(1, CORPUS_PUSH_TRIES + 1):
            try:
                return _commit_config(api, folder, local[config_name], repo_id, revision)
            except _RepoMoved:
                if attempt < CORPUS_PUSH_TRIES:  # wait a random while, so concurrent pushes do not meet again
                    time.sleep(random.uniform(0.1, 0.5) * 2**attempt)
    except Exception as err:  # network and HTTP errors of every kind: one line with the cause
        raise HubError(f"{what}: {one_line(err)}") from err
    raise HubError(f"{what}: the repo changed under every one of {CORPUS_PUSH_TRIES} tries; push again")


def _commit_config(api: Any, folder: Path, info: dict[str, Any], repo_id: str, revision: str | None) -> str:
    """One try: read the repo at its current head, commit on top of exactly that head."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete, hf_hub_download
    from huggingface_hub.errors import HfHubHTTPError

    data, tokenizer, info_name = CorpusFiles.DATA_DIR, CorpusFiles.TOKENIZER_DIR, CorpusFiles.INFO
    name = info["config"]["name"]
    head = api.repo_info(repo_id, repo_type="dataset", revision=revision).sha
    remote_files = api.list_repo_files(repo_id, repo_type="dataset", revision=head or revision)
    infos = {name: info}
    for path in remote_files:
        m = re.fullmatch(rf"{data}/([^/]+)/{info_name}", path)
        if m and m.group(1) != name:
            got = hf_hub_download(repo_id, path, repo_type="dataset", revision=head or revision, token=api.token)
            infos[m.group(1)] = json.loads(Path(got).read_text())
    card = render_dataset_card(order_infos(list(infos.values())), location=repo_id, is_repo=True)
    prefixes = (f"{data}/{name}/", f"{tokenizer}/{name}/")
    adds = [
        CommitOperationAdd(path.relative_to(folder).as_posix(), str(path))
        for prefix in prefixes
        for path in sorted((folder / prefix).rglob("*"))
        if path.is_file()
    ]
    fresh = {op.path_in_repo for op in adds}
    deletes = [CommitOperationDelete(p) for p in remote_files if p.startswith(prefixes) and p not in fresh]
    try:
        commit = api.create_commit(
            repo_id,
            [*deletes, *adds, CommitOperationAdd(CorpusFiles.CARD, card.encode())],
            repo_type="dataset",
            revision=revision,
            parent_commit=head,
            commit_message=f"Add cloned-language config {name}",
        )
    except HfHubHTTPError as err:
        if head is not None and err.response is not None and err.response.status_code in (409, 412):
            raise _RepoMoved from err
        raise
    return commit.commit_url
