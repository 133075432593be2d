"""Fixtures of the model-format tests: bundled sklearn data and fitted estimators."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, pd.Series]:
    """The iris features (a DataFrame with named float columns) and labels."""
    features, labels = load_iris(return_X_y=True, as_frame=True)
    return features, labels


@pytest.fixture(scope="session")
def logreg(iris: tuple[pd.DataFrame, pd.Series]) -> LogisticRegression:
    """A fitted logistic regression whose types skops trusts by default."""
    features, labels = iris
    return LogisticRegression(max_iter=500).fit(features, labels)
