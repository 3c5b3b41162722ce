"""The run folder's helpers: the whole run's training loss from its logs, the default repo name."""

import pytest

from hf_clonelang.training.run_folder import hub_repo, logged_train_loss


def test_the_whole_runs_training_loss_weights_each_log_by_its_steps():
    history = [
        {"eval_L1_loss": 7.0, "step": 0},
        {"loss": 2.0, "step": 10},
        {"eval_L1_loss": 1.5, "step": 10},
        {"loss": 1.0, "step": 30},  # a resumed run's logs continue the checkpoint's
        {"loss": 4.0, "step": 35},
    ]
    assert logged_train_loss(history) == pytest.approx((2.0 * 10 + 1.0 * 20 + 4.0 * 5) / 35)
    # resumed at step 12 (a checkpoint between logs): the first log after it covers steps 13..30 only
    assert logged_train_loss(history, resumed_at=12) == pytest.approx((2.0 * 10 + 1.0 * 18 + 4.0 * 5) / 33)
    assert logged_train_loss([{"eval_L1_loss": 1.0, "step": 0}]) is None


def test_the_default_repo_is_the_output_folders_name(tmp_path):
    class Args:
        hub_model_id = None
        output_dir = str(tmp_path / "runs" / "90-10")

    assert hub_repo(Args()) == "90-10"
    Args.hub_model_id = "me/model"
    assert hub_repo(Args()) == "me/model"
