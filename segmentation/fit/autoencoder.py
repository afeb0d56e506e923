"""A Keras dense autoencoder written as a scikit-learn transformer.

:class:`AutoencoderReducer` follows scikit-learn's estimator conventions (parameters in
``__init__``, learned attributes ending in ``_``, ``fit``/``transform``/
``inverse_transform``), so it is ``clone``-able and drops into the same ``Pipeline`` as
``PCA``. TensorFlow is imported only inside :meth:`AutoencoderReducer.fit`; the learned
weights are kept as numpy arrays and ``transform`` runs the encoder in numpy, so a fitted
reducer needs no TensorFlow to score, and its weights can be stored as plain numbers.

Training is repeatable: the global seed, every layer's initializer, the validation slice
and the shuffle of each epoch are all seeded from ``random_state``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted

from segmentation.log import logger


def _import_keras():
    """Import TensorFlow's Keras quietly (no oneDNN and CPU feature notices)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    return keras, tf


def _relu(values: np.ndarray) -> np.ndarray:
    return np.maximum(values, 0.0)


def _forward(values: np.ndarray, layers: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Dense layers in numpy: ReLU on every layer but the last, which is linear."""
    for position, (weights, bias) in enumerate(layers):
        values = values @ weights + bias
        if position < len(layers) - 1:
            values = _relu(values)
    return values


class AutoencoderReducer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Dense encoder-decoder; ``transform`` returns the bottleneck activations.

    Parameters
    ----------
    n_components : int
        Size of the bottleneck (the reduced dimension).
    hidden_layers : tuple of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    epochs : int
        Most passes over the training rows.
    batch_size : int
        Rows per gradient step.
    learning_rate : float
        Adam's learning rate.
    validation_share : float
        Share of the training rows held out for early stopping (0 switches it off).
    patience : int
        Epochs without improvement of the validation loss before training stops; the
        best weights are kept.
    max_train_samples : int or None
        Train on a seeded sample of at most this many rows (None: all rows).
    random_state : int
        Seed of the weights, the validation slice, the sample and the shuffle.
    """

    def __init__(
        self,
        n_components: int = 4,
        hidden_layers: tuple[int, ...] = (16,),
        epochs: int = 60,
        batch_size: int = 512,
        learning_rate: float = 3e-3,
        validation_share: float = 0.1,
        patience: int = 5,
        max_train_samples: int | None = None,
        random_state: int = 0,
    ) -> None:
        self.n_components = n_components
        self.hidden_layers = hidden_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.validation_share = validation_share
        self.patience = patience
        self.max_train_samples = max_train_samples
        self.random_state = random_state

    def _training_rows(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        rng = np.random.default_rng(self.random_state)
        order = rng.permutation(len(values))
        if self.max_train_samples is not None:
            order = order[: self.max_train_samples]
        n_validation = round(self.validation_share * len(order))
        if n_validation < 1 or len(order) - n_validation < 1:
            return values[np.sort(order)], None
        return values[np.sort(order[n_validation:])], values[np.sort(order[:n_validation])]

    def fit(self, X, y=None):  # noqa: N803 - scikit-learn's argument name
        values = check_array(X, dtype=np.float32)
        self.n_features_in_ = values.shape[1]
        if not 1 <= self.n_components <= self.n_features_in_:
            raise ValueError(
                f"n_components={self.n_components} must be between 1 and the {self.n_features_in_} input features"
            )
        keras, tf = _import_keras()
        keras.utils.set_random_seed(self.random_state)
        train, validation = self._training_rows(values)

        widths = [*self.hidden_layers, self.n_components, *reversed(self.hidden_layers), self.n_features_in_]
        inputs = keras.Input(shape=(self.n_features_in_,))
        layer_output = inputs
        for position, width in enumerate(widths):
            is_linear = position in (len(self.hidden_layers), len(widths) - 1)  # bottleneck and output
            layer_output = keras.layers.Dense(
                width,
                activation=None if is_linear else "relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=self.random_state + position),
                bias_initializer="zeros",
            )(layer_output)
        network = keras.Model(inputs, layer_output)
        network.compile(
            optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate),
            loss="mse",
            steps_per_execution=16,  # fewer Python round trips per epoch; same result
        )

        batches = (
            tf.data.Dataset.from_tensor_slices((train, train))
            .shuffle(len(train), seed=self.random_state, reshuffle_each_iteration=True)
            .batch(self.batch_size)
        )
        callbacks = [_EpochProgress(keras, self.epochs)]
        validation_data = None
        if validation is not None:
            validation_data = (validation, validation)
            callbacks.append(
                keras.callbacks.EarlyStopping(monitor="val_loss", patience=self.patience, restore_best_weights=True)
            )
        started = time.perf_counter()
        history = network.fit(
            batches,
            epochs=self.epochs,
            validation_data=validation_data,
            callbacks=callbacks,
            shuffle=False,  # the dataset is shuffled above, with its own seed
            verbose=0,
        )
        dense = [layer for layer in network.layers if isinstance(layer, keras.layers.Dense)]
        weights = [tuple(np.asarray(array, dtype=np.float64) for array in layer.get_weights()) for layer in dense]
        split_at = len(self.hidden_layers) + 1
        self.encoder_layers_ = weights[:split_at]
        self.decoder_layers_ = weights[split_at:]
        self.loss_curve_ = [float(loss) for loss in history.history["loss"]]
        self.validation_loss_curve_ = [float(loss) for loss in history.history.get("val_loss", [])]
        self.n_epochs_ = len(self.loss_curve_)
        self.n_train_samples_ = len(train)
        logger.info(
            f"autoencoder trained: {self.n_epochs_} epochs on {len(train):,} rows "
            f"in {time.perf_counter() - started:.1f} s, final loss {self.loss_curve_[-1]:.4f}"
        )
        keras.backend.clear_session()
        return self

    def transform(self, X):  # noqa: N803
        check_is_fitted(self, "encoder_layers_")
        return _forward(check_array(X, dtype=np.float64), self.encoder_layers_)

    def inverse_transform(self, X):  # noqa: N803
        check_is_fitted(self, "decoder_layers_")
        return _forward(check_array(X, dtype=np.float64), self.decoder_layers_)

    @property
    def _n_features_out(self) -> int:
        return self.n_components


def _EpochProgress(keras, epochs: int):  # noqa: N802 - builds a Keras callback class lazily
    """A Keras callback logging a progress line every tenth of the epochs."""

    class EpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            step = max(1, epochs // 10)
            if (epoch + 1) % step == 0:
                losses = ", ".join(f"{name} {value:.4f}" for name, value in (logs or {}).items())
                logger.info(f"autoencoder epoch {epoch + 1}/{epochs}: {losses}")

    return EpochProgress()
