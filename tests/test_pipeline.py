"""The segment model: scale -> PCA -> k-means on the train split, numbering rule."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation.params import ParameterError, SegmentationParams
from segmentation.pipeline import (
    SEGMENT_SCHEMA,
    SegmentationError,
    component_columns,
    reduce_customers,
    segment_customers,
    segment_numbering,
    selected_n_segments,
)
from segmentation.relations import relation_to_arrow, relation_to_frame
from tests.conftest import blob_features


def segment(frame: pd.DataFrame, params: SegmentationParams):
    """reduce_customers then segment_customers, as the dbt models chain them."""
    reduced, reduction = reduce_customers(frame, params)
    table, kmeans = segment_customers(reduced.to_pandas(), params.n_segments, params.random_seed)
    return table, reduced.to_pandas(), reduction, kmeans


def test_reduction_is_scale_then_the_chosen_reducer():
    frame, _ = blob_features(n_rows=300)
    for reducer, step in (("pca", "PCA"), ("none", "FunctionTransformer")):
        reduced, reduction = reduce_customers(frame, SegmentationParams(reducer=reducer, n_components=3))
        assert [name for name, _ in reduction.steps] == ["scale", "reduce"]
        assert type(reduction.named_steps["reduce"]).__name__ == step
        expected = 3 if reducer == "pca" else 18
        assert component_columns(reduced.to_pandas()) == [f"component_{i}" for i in range(1, expected + 1)]
        assert reduced.column("customer_id").to_pylist() == frame["customer_id"].tolist()


def test_share_of_variance_sets_the_number_of_components():
    frame, _ = blob_features(n_rows=600)
    _, reduction = reduce_customers(frame, SegmentationParams(n_components=0.5))
    pca = reduction.named_steps["reduce"]
    kept = pca.explained_variance_ratio_.sum()
    assert kept >= 0.5 > kept - pca.explained_variance_ratio_[-1]


def test_segments_recover_known_groups_and_are_numbered_by_size():
    frame, truth = blob_features()
    table, _, reduction, _ = segment(frame, SegmentationParams(n_segments=3, random_seed=3))
    assert table.schema == SEGMENT_SCHEMA
    result = table.to_pandas()
    assert result["customer_id"].tolist() == frame["customer_id"].tolist()
    assert result["split"].tolist() == frame["split"].tolist()
    assert adjusted_rand_score(truth, result["segment_id"]) == pytest.approx(1.0)
    # Blob 0 is the largest (50%), then blob 1 (30%), then blob 2 (20%).
    assert result.groupby(truth)["segment_id"].first().tolist() == [1, 2, 3]
    assert (result["distance_to_centroid"] >= 0).all()
    # The model was fitted on the train split only.
    assert reduction.named_steps["scale"].n_samples_seen_ == (frame["split"] == "train").sum()


def test_distance_is_to_the_assigned_centroid():
    frame, _ = blob_features(n_rows=300)
    table, reduced, _, kmeans = segment(frame, SegmentationParams(n_segments=3, random_seed=0))
    distances = kmeans.transform(reduced[component_columns(reduced)].to_numpy())
    np.testing.assert_allclose(table.column("distance_to_centroid").to_numpy(), distances.min(axis=1))


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
    frame.loc[3, "log_balance"] = np.nan
    with pytest.raises(SegmentationError, match=r"missing or infinite values \{'log_balance': 1\}"):
        reduce_customers(frame, SegmentationParams())


def test_absent_feature_column_is_named():
    frame, _ = blob_features(n_rows=100)
    with pytest.raises(SegmentationError, match="lacks the clustering features \\['prc_full_payment'\\]"):
        reduce_customers(frame.drop(columns="prc_full_payment"), SegmentationParams())


def test_too_few_train_customers_for_k_gives_the_counts():
    frame, _ = blob_features(n_rows=100)
    frame["split"] = "test"
    frame.loc[:1, "split"] = "train"
    reduced = reduce_customers(frame.assign(split="train"), SegmentationParams())[0].to_pandas()
    reduced["split"] = frame["split"].to_numpy()
    with pytest.raises(SegmentationError, match=r"only 2 customers in the train split, fewer than n_segments=3"):
        segment_customers(reduced, 3, 0)


def test_too_many_components_is_a_parameter_error():
    frame, _ = blob_features(n_rows=100)
    with pytest.raises(ParameterError, match="var n_components=50 is more than the 18 dimensions"):
        reduce_customers(frame, SegmentationParams(n_components=50))


def test_relations_read_a_duckdb_relation_through_arrow():
    connection = duckdb.connect()
    relation = connection.sql("select 'C1' as customer_id, 'train' as split, 1.5 as x, 2 as y")
    table = relation_to_arrow(relation, columns=["customer_id", "split", "x"])
    assert isinstance(table, pa.Table)
    assert table.column_names == ["customer_id", "split", "x"]
    frame = relation_to_frame(relation)
    assert frame.to_dict("records") == [{"customer_id": "C1", "split": "train", "x": 1.5, "y": 2}]


def test_relations_read_in_the_order_asked():
    relation = duckdb.connect().sql("select * from (values ('C3', 3), ('C1', 1), ('C2', 2)) as t(customer_id, n)")
    assert relation_to_frame(relation, order_by="customer_id")["n"].tolist() == [1, 2, 3]
