"""The segment model: scale -> reducer -> k-means on the train split, numbering rule."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.engines import engine_for
from segmentation.fit.reducers import fit_reduction
from segmentation.fit.segment_ids import segment_numbering
from segmentation.fit.steps import selected_n_segments
from segmentation.fit.transforms import log_columns
from segmentation.params import ParameterError, SegmentationParams
from segmentation.scoring.model import SEGMENT_SCHEMA, SegmentationError, component_columns
from tests.conftest import CLUSTERING_FEATURES, blob_features, fit_and_score


def segment(frame: pd.DataFrame, params: SegmentationParams):
    """Fit a first version and score every customer, as the dbt models chain them."""
    segments, reduced, model, _ = fit_and_score(frame, params)
    return segments, reduced, model


def test_reduction_is_scale_then_the_chosen_reducer():
    frame, _ = blob_features(n_rows=300)
    for reducer, n_layers in (("pca", 1), ("none", 0)):
        _, reduced, model = segment(frame, SegmentationParams(reducer=reducer, n_components=3))
        assert len(model.layers) == n_layers
        expected = 3 if reducer == "pca" else 18
        assert component_columns(reduced) == [f"component_{i}" for i in range(1, expected + 1)]
        assert reduced["customer_id"].tolist() == frame["customer_id"].tolist()


def test_pca_layer_is_scikit_learn_pca_fitted_on_train():
    frame, _ = blob_features(n_rows=600)
    params = SegmentationParams(n_components=0.5)
    _, reduced, model = segment(frame, params)
    train = frame.loc[frame["split"] == "train", list(CLUSTERING_FEATURES)].to_numpy()
    logged = log_columns(list(CLUSTERING_FEATURES), CLUSTERING_FEATURES)
    reduction = fit_reduction(train, params, log_columns=logged)
    expected = reduction.transform(frame[list(CLUSTERING_FEATURES)].to_numpy())
    np.testing.assert_allclose(reduced[component_columns(reduced)].to_numpy(), expected, atol=1e-9)
    np.testing.assert_allclose(model.scaler_mean, model.transform(train).mean(axis=0))
    pca = reduction.named_steps["reduce"]
    kept = pca.explained_variance_ratio_.sum()
    assert kept >= 0.5 > kept - pca.explained_variance_ratio_[-1]
    assert model.layers[0].kernel.shape == (18, pca.n_components_)


@pytest.mark.slow  # a whole fit of 1,200 customers (elbow k = 1..10)
def test_segments_recover_known_groups_and_are_numbered_by_size():
    frame, truth = blob_features()
    result, _, _ = segment(frame, SegmentationParams(n_segments=3, random_seed=3))
    assert list(result.columns) == SEGMENT_SCHEMA.names
    assert result["customer_id"].tolist() == frame["customer_id"].tolist()
    assert result["split"].tolist() == frame["split"].tolist()
    assert adjusted_rand_score(truth, result["segment_id"]) == pytest.approx(1.0)
    # Blob 0 is the largest (50%), then blob 1 (30%), then blob 2 (20%).
    assert result.groupby(truth)["segment_id"].first().tolist() == [1, 2, 3]
    assert (result["distance_to_centroid"] >= 0).all()
    assert result["model_version"].eq(1).all()
    assert result.groupby("segment_id")["segment_name"].nunique().eq(1).all()
    assert result["segment_name"].nunique() == 3


def test_distance_is_to_the_assigned_centroid_and_confidence_to_the_runner_up():
    frame, _ = blob_features(n_rows=300)
    table, reduced, model = segment(frame, SegmentationParams(n_segments=3, random_seed=0))
    values = reduced[component_columns(reduced)].to_numpy()
    distances = np.sqrt(((values[:, None, :] - model.centroids[None]) ** 2).sum(axis=2))
    ordered = np.sort(distances, axis=1)
    np.testing.assert_allclose(table["distance_to_centroid"], ordered[:, 0])
    np.testing.assert_allclose(table["confidence"], 1 - ordered[:, 0] / ordered[:, 1])
    assert table["segment_id"].tolist() == (distances.argmin(axis=1) + 1).tolist()


def test_the_model_is_fitted_on_the_train_split_only():
    frame, _ = blob_features(n_rows=300)
    _, _, model = segment(frame, SegmentationParams())
    shifted = frame.copy()
    shifted.loc[shifted["split"] == "test", list(CLUSTERING_FEATURES)] += 100.0
    _, _, shifted_model = segment(shifted, SegmentationParams())
    np.testing.assert_array_equal(model.scaler_mean, shifted_model.scaler_mean)
    np.testing.assert_array_equal(model.centroids, shifted_model.centroids)


@pytest.mark.slow  # two whole fits
def test_same_seed_gives_identical_tables():
    frame, _ = blob_features()
    params = SegmentationParams(n_segments=3, random_seed=11)
    assert segment(frame, params)[0].equals(segment(frame, params)[0])


def test_selected_k_is_read_from_the_elbow_table():
    elbow = pd.DataFrame({"k": [1, 2, 3], "is_selected": [False, True, False]})
    assert selected_n_segments(elbow) == 2
    with pytest.raises(SegmentationError, match="exactly one selected k, found 0"):
        selected_n_segments(elbow.assign(is_selected=False))


def test_numbering_ignores_kmeans_label_order():
    sizes_by_label = np.repeat([0, 1, 2], [5, 10, 3])
    centroids = np.array([[0.0, 1.0], [5.0, 5.0], [-3.0, 2.0]])
    assert segment_numbering(sizes_by_label, centroids).tolist() == [2, 1, 3]
    # The same clusters under permuted labels get the same segment per cluster.
    permutation = np.array([2, 0, 1])  # old label -> new label
    permuted = segment_numbering(permutation[sizes_by_label], centroids[np.argsort(permutation)])
    assert permuted[permutation].tolist() == [2, 1, 3]


def test_numbering_breaks_size_ties_by_centroid():
    labels = np.repeat([0, 1], [4, 4])
    assert segment_numbering(labels, np.array([[2.0, 0.0], [1.0, 9.0]])).tolist() == [2, 1]


def test_missing_feature_values_stop_with_the_column_named():
    frame, _ = blob_features(n_rows=100)
    frame.loc[3, "balance"] = np.nan
    with pytest.raises(SegmentationError, match=r"missing or infinite values \{'balance': 1\}"):
        segment(frame, SegmentationParams())


def test_the_feature_summary_counts_missing_and_infinite_values_in_its_one_scan():
    """The fit's one pass over every customer (sizes, ranges, fingerprint) also counts the
    values it must refuse, as the separate count does."""
    frame, _ = blob_features(n_rows=100)
    frame.loc[3, "balance"] = np.nan
    frame.loc[[4, 5], "credit_limit"] = np.inf
    engine = engine_for(frame)
    summary = engine.summary(CLUSTERING_FEATURES)
    assert summary.not_finite == engine.not_finite_counts(CLUSTERING_FEATURES)
    assert {name: n for name, n in summary.not_finite.items() if n} == {"balance": 1, "credit_limit": 2}
    assert summary.train_customer_count + summary.test_customer_count == 100


def test_absent_feature_column_is_named():
    frame, _ = blob_features(n_rows=100)
    with pytest.raises(SegmentationError, match="lacks the clustering features \\['prc_full_payment'\\]"):
        segment(frame.drop(columns="prc_full_payment"), SegmentationParams())


def test_too_few_train_customers_for_k_gives_the_counts():
    frame, _ = blob_features(n_rows=100)
    frame["split"] = "test"
    frame.loc[:1, "split"] = "train"
    with pytest.raises(SegmentationError, match=r"only 2 customers in the train split, fewer than n_segments=3"):
        segment(frame, SegmentationParams(n_segments=3))


def test_too_many_components_is_a_parameter_error():
    frame, _ = blob_features(n_rows=100)
    with pytest.raises(ParameterError, match="var n_components=50 is more than the 18 dimensions"):
        segment(frame, SegmentationParams(n_components=50))


def test_the_duckdb_engine_reads_a_relation_through_arrow():
    connection = duckdb.connect()
    relation = connection.sql("select 'C1' as customer_id, 'train' as split, 1.5 as x, 2 as y")
    engine = engine_for(relation, connection)
    table = engine.arrow()
    assert isinstance(table, pa.Table)
    assert table.column_names == engine.columns() == ["customer_id", "split", "x", "y"]
    assert table.to_pylist() == [{"customer_id": "C1", "split": "train", "x": 1.5, "y": 2}]


def test_the_duckdb_engine_reads_in_the_order_asked():
    connection = duckdb.connect()
    relation = connection.sql("select * from (values ('C3', 3), ('C1', 1), ('C2', 2)) as t(customer_id, n)")
    assert engine_for(relation, connection).arrow(order_by="customer_id")["n"].to_pylist() == [1, 2, 3]


def test_a_duckdb_relation_needs_its_connection():
    relation = duckdb.connect().sql("select 1 as customer_id")
    with pytest.raises(ValueError, match="needs the connection it belongs to"):
        engine_for(relation)
