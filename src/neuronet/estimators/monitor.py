"""scikit-learn's per-iteration bookkeeping and stopping rule, as a ``Trainer`` callback."""

from __future__ import annotations

from ..train import Callback

__all__ = ["Monitor"]


class Monitor(Callback):
    """After each epoch: ``loss_curve_``, ``n_iter_``, ``t_`` and scikit-learn's stopping rule.

    With ``validation = (X, y, sample_weight)`` (early stopping) the score on it decides,
    keeping the best weights in ``est._best_weights``; otherwise the training loss does.
    After more than ``n_iter_no_change`` epochs without an improvement of ``tol``, training
    stops, or, with ``learning_rate="adaptive"``, the step size is divided by 5 (until it
    falls below 1e-6).  ``incremental`` (``partial_fit``) records the loss only.
    """

    def __init__(self, est, validation=None, incremental=False):
        self.est = est
        self.validation = validation
        self.incremental = incremental

    def on_epoch_end(self, trainer, epoch, logs):
        est = self.est
        loss = logs["loss"]
        est.loss_curve_.append(loss)
        est.n_iter_ += 1
        est.t_ += trainer.samples_seen - self._seen
        self._seen = trainer.samples_seen
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}")
        if self.incremental:
            est.loss_ = loss
            return
        if self.validation is not None:
            Xv, yv, swv = self.validation
            score = est._score_raw(trainer.network, Xv, yv, swv)
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}")
            if score < est.best_validation_score_ + est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_weights = trainer.network.get_weights()
        else:
            if loss > est.best_loss_ - est.tol:
                est._no_improvement_count += 1
            else:
                est._no_improvement_count = 0
            est.best_loss_ = min(est.best_loss_, loss)
        est.loss_ = loss
        if est._no_improvement_count > est.n_iter_no_change:
            what = "Validation score" if self.validation is not None else "Training loss"
            if est._adaptive and trainer.optimizer.lr > 1e-6:
                trainer.optimizer.lr /= 5.0
                est._no_improvement_count = 0
                if est.verbose:
                    print(f"Setting learning rate to {trainer.optimizer.lr:f}")
                return
            if est.verbose:
                print(
                    f"{what} did not improve more than tol={est.tol} for {est.n_iter_no_change} consecutive "
                    "epochs. Stopping."
                )
            est._converged = True
            trainer.stop_training = True

    def on_train_begin(self, trainer):
        self._seen = trainer.samples_seen
