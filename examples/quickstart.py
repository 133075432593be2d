"""Quickstart: train a scikit-learn classifier on the bundled wine dataset and track it with mltrail.

Run it with ``python examples/quickstart.py``. It records into ``sqlite:///mltrail.db`` (artifacts
under ``./mltrail-artifacts``) in the working directory unless ``MLTRAIL_TRACKING_URI`` says
otherwise, then reads the run back and prints what was stored.

What gets logged: hyper-parameters, a loss and accuracy curve per epoch (metric history), tags, the
training data as a dataset input, a text classification report and a confusion-matrix figure.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # no display needed; the figure is only saved

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_wine
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    accuracy_score,
    classification_report,
    f1_score,
    log_loss,
)
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import mltrail
import mltrail.data

EXPERIMENT = "quickstart-wine"
ALPHA = 1e-3
EPOCHS = 40
LEARNING_RATE = "optimal"
TEST_SIZE = 0.25
SEED = 7


def train_and_log() -> str:
    """Train, log everything to a new run and return its id."""
    wine = load_wine(as_frame=True)
    frame = wine.frame
    features = frame.drop(columns="target")
    x_train, x_test, y_train, y_test = train_test_split(
        features,
        frame["target"],
        test_size=TEST_SIZE,
        random_state=SEED,
        stratify=frame["target"],
    )
    scaler = StandardScaler().fit(x_train)
    xs_train, xs_test = scaler.transform(x_train), scaler.transform(x_test)
    classes = np.unique(frame["target"])

    mltrail.set_experiment(EXPERIMENT)
    with mltrail.start_run(
        run_name="sgd-logistic",
        description="SGD logistic regression on the wine dataset",
    ) as run:
        run_id: str = run.info.run_id
        mltrail.log_params(
            {
                "alpha": ALPHA,
                "epochs": EPOCHS,
                "learning_rate": LEARNING_RATE,
                "test_size": TEST_SIZE,
                "seed": SEED,
            }
        )
        mltrail.set_tags({"model_family": "linear", "dataset": "sklearn.load_wine"})
        dataset = mltrail.data.from_pandas(
            frame, source="sklearn.datasets.load_wine", name="wine", targets="target"
        )
        mltrail.log_input(dataset, context="training")

        model = SGDClassifier(
            loss="log_loss",
            alpha=ALPHA,
            learning_rate=LEARNING_RATE,
            random_state=SEED,
        )
        for epoch in range(EPOCHS):
            model.partial_fit(xs_train, y_train, classes=classes)
            mltrail.log_metrics(
                {
                    "train_loss": log_loss(y_train, model.predict_proba(xs_train), labels=classes),
                    "val_loss": log_loss(y_test, model.predict_proba(xs_test), labels=classes),
                    "val_accuracy": accuracy_score(y_test, model.predict(xs_test)),
                },
                step=epoch,
            )

        predictions = model.predict(xs_test)
        mltrail.log_metrics(
            {
                "test_accuracy": accuracy_score(y_test, predictions),
                "test_f1_macro": f1_score(y_test, predictions, average="macro"),
            }
        )
        report = classification_report(y_test, predictions, target_names=list(wine.target_names))
        mltrail.log_text(report, "reports/classification_report.txt")

        fig, ax = plt.subplots(figsize=(4.5, 4))
        ConfusionMatrixDisplay.from_predictions(
            y_test, predictions, display_labels=list(wine.target_names), ax=ax, colorbar=False
        )
        ax.set_title("Wine: confusion matrix (test set)")
        fig.tight_layout()
        mltrail.log_figure(fig, "figures/confusion_matrix.png")
        plt.close(fig)
    return run_id


def show(run_id: str) -> None:
    """Read the run back from the store and print what was recorded."""
    client = mltrail.TrackingClient()
    run = client.get_run(run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    print(f"Recorded run {run_id} ({run.info.run_name}), status {run.info.status}")
    print(f"  experiment: {experiment.name} (id {experiment.experiment_id})")
    print(f"  tracking URI: {mltrail.get_tracking_uri()}")
    print("  params:")
    for key, value in sorted(run.data.params.items()):
        print(f"    {key} = {value}")
    print("  latest metrics:")
    for metric in sorted(run.data.latest_metrics, key=lambda m: m.key):
        history = client.get_metric_history(run_id, metric.key)
        print(f"    {metric.key} = {metric.value:.4f} (step {metric.step}, {len(history)} points)")
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    print(f"  tags: {', '.join(f'{k}={v}' for k, v in sorted(tags.items()))}")
    for dataset_input in run.inputs.dataset_inputs:
        context = {t.key: t.value for t in dataset_input.tags}.get("mlflow.data.context", "-")
        print(
            f"  dataset input: {dataset_input.dataset.name} "
            f"(digest {dataset_input.dataset.digest}, context {context})"
        )
    print("  artifacts:")
    files: list[tuple[str, int | None]] = []
    pending = [""]
    while pending:
        for info in client.list_artifacts(run_id, pending.pop() or None):
            if info.is_dir:
                pending.append(info.path)
            else:
                files.append((info.path, info.file_size))
    for path, size in sorted(files):
        print(f"    {path} ({size} bytes)")
    print(f"  artifact location: {run.info.artifact_uri}")
    print("Look at it again with:")
    print(f"  mltrail runs describe {run_id}")
    print(f"  mltrail runs list --experiment-id {experiment.experiment_id}")
    print(f"  mltrail server   (then open http://127.0.0.1:5000/#/experiments/{experiment.experiment_id})")
    client.close()


if __name__ == "__main__":
    show(train_and_log())
