"""Scratch folders: a killed process's are removed by the next one, a live process's are kept."""

import os
import socket
import subprocess
import sys

from hf_clonelang.scratch import OWNER, remove_stale, scratch_dir


def test_a_dead_owners_folder_goes_and_a_live_ones_stays(tmp_path):
    live = scratch_dir(".clonelang-build-", tmp_path)  # ours: this process is alive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / ".clonelang-build-old"
    gone.mkdir()
    (gone / OWNER).write_text(f"{socket.gethostname()} {dead.stdout.strip()}\n")
    elsewhere = tmp_path / ".clonelang-build-other-host"
    elsewhere.mkdir()
    (elsewhere / OWNER).write_text(f"not-{socket.gethostname()} 1\n")
    assert remove_stale(tmp_path, ".clonelang-build-") == [gone]
    assert live.is_dir() and elsewhere.is_dir() and not gone.exists()
    assert (live / OWNER).read_text().split() == [socket.gethostname(), str(os.getpid())]
