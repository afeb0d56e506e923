"""The Keras autoencoder as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from segmentation.fit.autoencoder import AutoencoderReducer

# The tests train TensorFlow models (the shared fixture among them).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def low_rank_data() -> np.ndarray:
    """600 rows of 8 features that really live in 2 dimensions, plus a little noise."""
    rng = np.random.default_rng(0)
    latent = rng.normal(size=(600, 2))
    return latent @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(600, 8))


@pytest.fixture(scope="module")
def fitted(low_rank_data) -> AutoencoderReducer:
    return AutoencoderReducer(n_components=2, hidden_layers=(8,), epochs=40, batch_size=64, random_state=5).fit(
        low_rank_data
    )


def test_shapes_and_feature_names(fitted, low_rank_data):
    reduced = fitted.transform(low_rank_data)
    assert reduced.shape == (600, 2)
    assert fitted.inverse_transform(reduced).shape == (600, 8)
    assert list(fitted.get_feature_names_out()) == ["autoencoderreducer0", "autoencoderreducer1"]
    assert fitted.n_features_in_ == 8
    assert [w.shape for w, _ in fitted.encoder_layers_] == [(8, 8), (8, 2)]
    assert [w.shape for w, _ in fitted.decoder_layers_] == [(2, 8), (8, 8)]


def test_learns_a_useful_compression(fitted, low_rank_data):
    rebuilt = fitted.inverse_transform(fitted.transform(low_rank_data))
    r_squared = 1 - ((low_rank_data - rebuilt) ** 2).sum() / ((low_rank_data - low_rank_data.mean(0)) ** 2).sum()
    assert r_squared > 0.8
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert 1 <= fitted.n_epochs_ <= 40
    assert len(fitted.validation_loss_curve_) == fitted.n_epochs_


def test_same_seed_same_weights_other_seed_other_weights(fitted, low_rank_data):
    again = clone(fitted).fit(low_rank_data)
    np.testing.assert_array_equal(again.transform(low_rank_data), fitted.transform(low_rank_data))
    other = clone(fitted).set_params(random_state=6).fit(low_rank_data)
    assert not np.allclose(other.transform(low_rank_data), fitted.transform(low_rank_data))


def test_clone_keeps_parameters_not_weights(fitted):
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not hasattr(copy, "encoder_layers_")


def test_drops_into_a_pipeline_like_pca(low_rank_data):
    pipeline = Pipeline(
        [("scale", StandardScaler()), ("reduce", AutoencoderReducer(n_components=3, epochs=5, random_state=1))]
    )
    assert pipeline.fit_transform(low_rank_data).shape == (600, 3)


def test_sample_and_validation_slice_sizes(low_rank_data):
    reducer = AutoencoderReducer(n_components=2, epochs=2, max_train_samples=200, validation_share=0.25)
    reducer.fit(low_rank_data)
    assert reducer.n_train_samples_ == 150


def test_transform_before_fit_and_bad_sizes_are_refused(low_rank_data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AutoencoderReducer().transform(low_rank_data)
    with pytest.raises(ValueError, match="n_components=9 must be between 1 and the 8 input features"):
        AutoencoderReducer(n_components=9).fit(low_rank_data)
