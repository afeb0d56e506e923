"""The reducers the segment model can use between scaling and k-means.

``pca`` (scikit-learn's PCA), ``autoencoder`` (:class:`~segmentation.fit.autoencoder.
AutoencoderReducer`, Keras) and ``none`` (identity: k-means on the scaled features) all
share scikit-learn's transformer interface, so any of them sits in the same ``Pipeline``,
after the learned feature transform (:class:`~segmentation.fit.transforms.FeatureTransform`)
and the scaler.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from segmentation.fit.transforms import FeatureTransform, positive_spread
from segmentation.params import ParameterError, SegmentationParams
from segmentation.scoring.model import DenseLayer, SegmentModel

#: PCA from the eigendecomposition of the features' covariance matrix: exact, and for
#: many customers and few features far cheaper than an SVD of the whole matrix.
PCA_SOLVER = "covariance_eigh"


def n_reduced_dimensions(scaled_train: np.ndarray, n_components: int | float, random_state: int) -> int:
    """How many dimensions the reducers keep.

    A count is taken as it is; a share of variance becomes the number of principal
    components that keep that share, so PCA and the autoencoder compare at one size.
    """
    if isinstance(n_components, int):
        return n_components
    return int(
        PCA(n_components=n_components, svd_solver=PCA_SOLVER, random_state=random_state).fit(scaled_train).n_components_
    )


def components_kept(explained_variance_ratio: np.ndarray, n_components: int | float) -> int:
    """How many of a full PCA's components var n_components keeps: a count as it is, a
    share of variance by scikit-learn's rule (the fewest components whose cumulative
    explained variance exceeds it), so it equals :func:`n_reduced_dimensions`."""
    if isinstance(n_components, int):
        return min(n_components, len(explained_variance_ratio))
    cumulative = np.cumsum(explained_variance_ratio)
    return min(int(np.searchsorted(cumulative, n_components, side="right")) + 1, len(explained_variance_ratio))


def make_reducer(name: str, n_dimensions: int, params: SegmentationParams) -> TransformerMixin:
    """An unfitted reducer keeping ``n_dimensions`` (ignored by ``none``)."""
    if name == "pca":
        return PCA(n_components=n_dimensions, svd_solver=PCA_SOLVER, random_state=params.random_seed)
    if name == "autoencoder":
        from segmentation.fit.autoencoder import AutoencoderReducer  # TensorFlow only when asked for

        return AutoencoderReducer(
            n_components=n_dimensions,
            hidden_layers=params.autoencoder_hidden_layers,
            epochs=params.autoencoder_epochs,
            batch_size=params.autoencoder_batch_size,
            patience=params.autoencoder_patience,
            max_train_samples=params.autoencoder_sample_size,
            random_state=params.random_seed,
        )
    if name == "none":
        return FunctionTransformer(None, feature_names_out="one-to-one")
    raise ValueError(f"unknown reducer {name!r}")


def check_n_dimensions(n_dimensions: int, n_rows: int, n_features: int, params: SegmentationParams) -> None:
    """Refuse more reduced dimensions than the train rows and features allow."""
    if n_dimensions > min(n_rows, n_features):
        raise ParameterError(
            f"var n_components={params.n_components} is more than the {min(n_rows, n_features)} dimensions that "
            f"{n_rows} train customers and {n_features} features allow. "
            "Set it with: dbt build --vars '{n_components: 0.9}'"
        )


def fit_reduction(
    train: np.ndarray, params: SegmentationParams, reducer: str | None = None, log_columns: Sequence[int] = ()
) -> Pipeline:
    """Fit ``FeatureTransform -> StandardScaler -> reducer`` on the train rows; the
    columns at ``log_columns`` are transformed as var feature_transform says (a column
    whose zeros are centred is scaled by its positive values' spread: see
    :func:`~segmentation.fit.transforms.positive_spread`)."""
    transform = FeatureTransform(log_columns, params.feature_transform).fit(train)
    transformed = transform.transform(train)
    scaler = StandardScaler().fit(transformed)
    scaler.scale_ = positive_spread(scaler.scale_, transform.positive_spreads_)
    scaled = scaler.transform(transformed)
    del transformed
    name = reducer or params.reducer
    if name == "none":
        n_dimensions = train.shape[1]
    else:
        n_dimensions = n_reduced_dimensions(scaled, params.n_components, params.random_seed)
    check_n_dimensions(n_dimensions, train.shape[0], train.shape[1], params)
    reducer_step = make_reducer(name, n_dimensions, params).fit(scaled)
    return Pipeline([("transform", transform), ("scale", scaler), ("reduce", reducer_step)])


def model_from_reduction(reduction: Pipeline, features: list[str], reducer: str) -> SegmentModel:
    """The arrays of a fitted ``FeatureTransform -> StandardScaler -> reducer`` pipeline
    (no centroids yet)."""
    scaler = reduction.named_steps["scale"]
    return SegmentModel(
        features=tuple(features),
        scaler_mean=np.asarray(scaler.mean_, dtype=np.float64),
        scaler_scale=np.asarray(scaler.scale_, dtype=np.float64),
        reducer=reducer,
        layers=reducer_layers(reduction.named_steps["reduce"], reducer),
        log_shifts=np.asarray(reduction.named_steps["transform"].log_shifts_, dtype=np.float64),
        zero_values=np.asarray(reduction.named_steps["transform"].zero_values_, dtype=np.float64),
    )


def reducer_layers(step: object, reducer: str) -> tuple[DenseLayer, ...]:
    """The dense layers of a fitted reducer (scikit-learn PCA, the autoencoder, or none)."""
    if reducer == "pca":
        return (DenseLayer(step.components_.T.copy(), -step.mean_ @ step.components_.T),)
    if reducer == "autoencoder":
        last = len(step.encoder_layers_) - 1
        return tuple(
            DenseLayer(kernel, bias, "linear" if position == last else "relu")
            for position, (kernel, bias) in enumerate(step.encoder_layers_)
        )
    return ()
