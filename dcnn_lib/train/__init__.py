"""Training: one loop (:func:`fit`) for every chapter, and what it is made of.

    history = dl.train.fit(model, train_loader, 10, val_loader=test_loader, checkpoint="run.pt")
    dl.train.evaluate(model, test_loader)          # {"loss": ..., "acc": ...}
    logits, targets = dl.train.predict(model, test_loader)

``fit`` picks the device (CUDA > MPS > CPU), uses mixed precision and channels-last memory on
CUDA, shows a ``tqdm.auto`` progress bar, records a :class:`History` (loss, accuracy, learning
rate and seconds per epoch) and, given ``checkpoint=path``, saves everything needed to resume
after every epoch; a resumed run ends with the same weights as an uninterrupted one. What one
batch does is a *step* (:mod:`~dcnn_lib.train.steps`): :class:`SupervisedStep` for classifiers
and dense models (the default), :class:`dcnn_lib.detection.DetectionStep` for detectors.

Auxiliary classifiers: a model that returns a tuple ``(logits, aux_1, aux_2, ...)`` in training
mode (GoogLeNet, Inception v3) is trained on ``loss(logits) + aux_weight · Σ loss(aux_i)``; its
accuracy is that of ``logits``. In evaluation mode such models return the logits alone.

The modules: :mod:`~dcnn_lib.train.history`, :mod:`~dcnn_lib.train.checkpoint`,
:mod:`~dcnn_lib.train.optim`, :mod:`~dcnn_lib.train.steps`, :mod:`~dcnn_lib.train.evaluation`,
:mod:`~dcnn_lib.train.stopping`, :mod:`~dcnn_lib.train.distributed`, :mod:`~dcnn_lib.train.loop`.
"""
from ..metrics import confusion_matrix  # the one confusion matrix, re-exported for dl.train users
from .checkpoint import load_checkpoint, save_atomic
from .evaluation import evaluate, predict
from .history import COLUMNS, History
from .loop import fit
from .optim import make_optimizer, make_schedule
from .steps import StepContext, StepOutput, SupervisedStep, cross_entropy, split_outputs
from .stopping import EarlyStopping, StopTraining

__all__ = ["COLUMNS", "EarlyStopping", "History", "StepContext", "StepOutput", "StopTraining", "SupervisedStep",
           "confusion_matrix", "cross_entropy", "evaluate", "fit", "load_checkpoint", "make_optimizer",
           "make_schedule", "predict", "save_atomic", "split_outputs"]
