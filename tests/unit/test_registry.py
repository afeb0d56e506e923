"""The model registry in-process: stored arrays, stable ids, names, transitions."""

from __future__ import annotations

import logging

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segmentation.engines import engine_for
from segmentation.fit.naming import NamingRuleError, name_segments
from segmentation.fit.procedure import update_registry
from segmentation.fit.reducers import fit_reduction
from segmentation.fit.segment_ids import PreviousSegments, match_to_previous
from segmentation.fit.transforms import log_columns
from segmentation.params import ParameterError, SegmentationParams
from segmentation.scoring.model import SegmentationError, real_units
from segmentation.scoring.registry import (
    REGISTRY_SCHEMA,
    load_model,
    read_registry,
    reducer_in_use,
    stored_per_feature,
    version_in_use,
)
from segmentation.scoring.transitions import segment_transitions
from tests.conftest import CLUSTERING_FEATURES, blob_features, fit_and_score, naming_rules

FEATURES = list(CLUSTERING_FEATURES)


def through_duckdb(registry: pd.DataFrame) -> pd.DataFrame:
    """The registry written to a DuckDB table and read back, as the dbt models do."""
    stored = pa.Table.from_pylist(registry.to_dict("records"), schema=REGISTRY_SCHEMA)
    connection = duckdb.connect()
    connection.register("stored", stored)
    connection.sql("create table segmentation_models as select * from stored")
    return read_registry(engine_for(connection.table("segmentation_models"), connection).arrow())


def test_a_stored_version_reproduces_its_labels_exactly():
    features, _ = blob_features(n_rows=900)
    segments, _, _, registry = fit_and_score(features, SegmentationParams(random_seed=5))
    stored = through_duckdb(registry)
    rescored, _, model, unchanged = fit_and_score(features, SegmentationParams(refit=False), stored)
    assert len(unchanged) == 1  # nothing fitted, nothing appended
    pd.testing.assert_frame_equal(segments, rescored, check_exact=True)
    assert model.features == tuple(FEATURES)


@pytest.mark.slow  # trains the autoencoder
def test_stored_autoencoder_layers_are_the_fitted_encoder():
    features, _ = blob_features(n_rows=400)
    params = SegmentationParams(reducer="autoencoder", n_components=3, autoencoder_epochs=5)
    _, reduced, model, registry = fit_and_score(features, params)
    # The fit reads its train rows in customer_id order (the autoencoder depends on it).
    train = features.loc[features["split"] == "train"].sort_values("customer_id")
    reduction = fit_reduction(
        train[FEATURES].to_numpy(), params, log_columns=log_columns(FEATURES, CLUSTERING_FEATURES)
    )
    expected = reduction.transform(features[FEATURES].to_numpy())
    np.testing.assert_allclose(reduced.filter(like="component_").to_numpy(), expected, rtol=1e-6, atol=1e-9)
    assert [layer.activation for layer in model.layers] == ["relu", "linear"]
    assert [len(layer["kernel"]) for layer in registry.loc[0, "reducer_layers"]] == [18, 16]


@pytest.mark.slow  # two whole fits of 1,200 customers
def test_a_refit_with_another_seed_keeps_the_segment_ids():
    """Another seed permutes k-means' labels and moves the split; the matching to the
    previous version's centroids gives each group its old id back."""
    features, truth = blob_features(n_rows=1200, sizes=(0.34, 0.33, 0.33))
    first, _, _, registry = fit_and_score(features, SegmentationParams(random_seed=1))
    reshuffled = features.assign(split=np.where(np.arange(len(features)) % 5 == 2, "test", "train"))
    second, _, _, registry = fit_and_score(reshuffled, SegmentationParams(random_seed=2), registry)
    assert (first["segment_id"] == second["segment_id"]).all()
    assert registry["ids_matched_to_version"].tolist()[1] == 1
    assert pd.isna(registry["ids_matched_to_version"].tolist()[0])
    assert registry["model_version"].tolist() == [1, 2]
    # The same groups, whatever the id: the segments match the planted blobs.
    assert first.groupby(truth)["segment_id"].nunique().eq(1).all()


def test_permuted_centroids_are_matched_back_to_their_ids():
    features, _ = blob_features(n_rows=600)
    _, _, model, registry = fit_and_score(features, SegmentationParams())
    segments = sorted(registry.loc[0, "segments"], key=lambda segment: segment["segment_id"])
    real = np.array([segment["centroid_real"] for segment in segments])
    scaled = np.array([segment["centroid_scaled"] for segment in segments])
    previous = PreviousSegments(1, model.features, np.array([1, 2, 3], dtype=np.int32), real)
    permutation = np.array([2, 0, 1])  # new label i is the old segment permutation[i] + 1
    ids = match_to_previous(scaled[permutation], model, previous)
    assert ids.tolist() == (permutation + 1).tolist()


@pytest.mark.slow  # two whole fits
def test_a_different_k_is_numbered_by_size_and_says_so(caplog):
    features, _ = blob_features(n_rows=600)
    _, _, _, registry = fit_and_score(features, SegmentationParams(n_segments=3))
    with caplog.at_level(logging.WARNING):
        segments, _, _, registry = fit_and_score(features, SegmentationParams(n_segments=2), registry)
    assert "previous model version 1 has 3 segments and this one 2; numbering by size" in caplog.text
    assert pd.isna(registry["ids_matched_to_version"].tolist()[1])
    sizes = segments.loc[segments["split"] == "train", "segment_id"].value_counts()
    assert sizes.index.tolist() == [1, 2]  # largest first


@pytest.mark.slow  # three whole fits
def test_registry_row_describes_the_fit():
    features, _ = blob_features(n_rows=600)
    params = SegmentationParams(random_seed=9, n_components=2)
    _, _, _, registry = fit_and_score(features, params)
    row = registry.iloc[0]
    assert row["n_segments"] == 3 and row["reducer"] == "pca" and row["n_dimensions"] == 2
    assert row["train_customer_count"] == (features["split"] == "train").sum()
    assert '"random_seed": 9' in row["parameters"]
    assert [point["k"] for point in row["elbow"]] == list(range(1, 11))
    assert sum(point["is_selected"] for point in row["elbow"]) == 1
    assert len(row["segments"]) == 3 and len(row["centroids"]) == 3
    assert sum(segment["train_customer_count"] for segment in row["segments"]) == row["train_customer_count"]
    # Centroids in real units are the scaled centroids mapped back through the scaler.
    for segment in row["segments"]:
        np.testing.assert_allclose(
            np.array(segment["centroid_real"]),
            real_units(
                np.array(segment["centroid_scaled"]) * np.array(row["scaler_scale"]) + np.array(row["scaler_mean"]),
                stored_per_feature(row["log_shifts"]),
            ),
        )
    # Same training rows, same fingerprint; other rows, another.
    _, _, _, again = fit_and_score(features, params)
    assert again.loc[0, "train_fingerprint"] == row["train_fingerprint"]
    changed = features.copy()
    changed.loc[1, "balance"] += 1.0
    _, _, _, other = fit_and_score(changed, params)
    assert other.loc[0, "train_fingerprint"] != row["train_fingerprint"]


def test_refit_false_without_a_stored_version_stops_and_says_how_to_fit():
    features, _ = blob_features(n_rows=100)
    empty = read_registry(REGISTRY_SCHEMA.empty_table())
    with pytest.raises(SegmentationError, match=r"no model version is stored in segmentation_models yet\. Run a refit"):
        update_registry(engine_for(features), SegmentationParams(refit=False), empty, naming_rules(), FEATURES)


def test_an_unknown_model_version_lists_the_stored_ones():
    features, _ = blob_features(n_rows=300)
    _, _, _, registry = fit_and_score(features, SegmentationParams())
    with pytest.raises(SegmentationError, match=r"var model_version=4 is not in segmentation_models; stored .*\[1\]"):
        version_in_use(registry, 4)
    assert version_in_use(registry, 1) == 1 and version_in_use(registry, None) == 1
    assert load_model(registry, 1).n_segments == 3


def test_the_reducer_in_use_is_that_of_the_version_in_use():
    versions = pd.DataFrame({"model_version": [1, 2, 3], "reducer": ["pca", "autoencoder", "none"]})
    assert reducer_in_use(versions, SegmentationParams(reducer="pca")) == "none"  # the latest
    assert reducer_in_use(versions, SegmentationParams(refit=False, model_version=2)) == "autoencoder"
    # dbt build --empty: no version is visible, the var's reducer is reported
    assert reducer_in_use(versions.head(0), SegmentationParams(reducer="autoencoder")) == "autoencoder"
    with pytest.raises(SegmentationError, match=r"var model_version=7 is not in segmentation_models"):
        reducer_in_use(versions, SegmentationParams(refit=False, model_version=7))


def test_model_version_needs_refit_false():
    with pytest.raises(ParameterError, match="model_version=2 only applies with refit: false"):
        SegmentationParams.from_config({"refit": "true", "model_version": "2"})
    params = SegmentationParams.from_config({"refit": "False", "model_version": "2"})
    assert params.refit is False and params.model_version == 2
    assert SegmentationParams.from_config({"model_version": ""}).model_version is None
    with pytest.raises(ParameterError, match="var refit must be true or false, got 'maybe'"):
        SegmentationParams.from_config({"refit": "maybe"})


@pytest.mark.slow  # two whole fits
def test_transitions_count_every_customer_once():
    features, _ = blob_features(n_rows=900)
    _, _, _, registry = fit_and_score(features, SegmentationParams(random_seed=1))
    assert segment_transitions(engine_for(features), registry).num_rows == 0  # one version: nothing to compare
    _, _, _, registry = fit_and_score(features, SegmentationParams(random_seed=2, n_segments=2), registry)
    transitions = segment_transitions(engine_for(features), registry).to_pandas()
    assert transitions["customer_count"].sum() == len(features)
    assert set(transitions["from_model_version"]) == {1} and set(transitions["to_model_version"]) == {2}
    shares = transitions.groupby("from_segment_id")["share_of_from_segment"].sum()
    np.testing.assert_allclose(shares, 1.0)
    assert transitions["to_segment_name"].notna().all()


# --- names ----------------------------------------------------------------------------


def profile(**z_scores: float) -> np.ndarray:
    values = np.zeros(len(FEATURES))
    for name, value in z_scores.items():
        values[FEATURES.index(name)] = value
    return values


def test_each_segment_gets_the_highest_priority_rule_it_matches():
    profiles = np.vstack(
        [
            profile(cash_advance_frequency=1.0, purchases_frequency=-1.5),
            profile(balance=-1.0),
            profile(purchases_frequency=0.9, purchases_installments_frequency=1.4),
        ]
    )
    names = name_segments(profiles, FEATURES, naming_rules())
    assert names["segment_name"].tolist() == ["Cash-advance revolvers", "Low-balance customers", "Frequent purchasers"]
    assert names["segment_id"].tolist() == [1, 2, 3]
    assert names["naming_z_score"].tolist() == [1.0, -1.0, 0.9]


def test_a_contested_rule_goes_to_the_stronger_match_and_names_stay_unique():
    profiles = np.vstack([profile(prc_full_payment=0.7), profile(prc_full_payment=1.2), profile(), profile()])
    names = name_segments(profiles, FEATURES, naming_rules())
    assert names["segment_name"].tolist() == [
        "Everyday customers",
        "Full-paying transactors",
        "Mixed-behaviour customers",
        "Segment 4",
    ]
    assert names["segment_name"].is_unique
    assert names["naming_rule"].tolist()[:3] == [9, 2, 10] and pd.isna(names["naming_rule"].tolist()[3])


def test_naming_names_as_many_segments_by_rules_as_possible():
    # Segment 1 matches cash advance and low purchases; segment 2 only low purchases: the
    # priority rule would give segment 1 cash advance anyway, and segment 2 low activity.
    profiles = np.vstack(
        [profile(cash_advance_frequency=0.6, purchases_frequency=-2.0), profile(purchases_frequency=-0.8)]
    )
    names = name_segments(profiles, FEATURES, naming_rules())
    assert names["segment_name"].tolist() == ["Cash-advance revolvers", "Low-activity customers"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"feature": "log_income"}, "rule 1 ('Cash-advance revolvers'): feature 'log_income' is not a clustering"),
        ({"direction": "up"}, "direction must be high or low, got 'up'"),
        ({"min_z_score": -1.0}, "min_z_score must be a number of at least 0, got -1.0"),
        ({"segment_name": "Frequent purchasers"}, "segment names used by more than one rule: ['Frequent purchasers']"),
    ],
)
def test_a_bad_naming_rule_is_named_with_the_fix(change, message):
    rules = naming_rules()
    for column, value in change.items():
        rules.loc[0, column] = value
    with pytest.raises(NamingRuleError) as error:
        name_segments(np.zeros((2, len(FEATURES))), FEATURES, rules)
    assert message in str(error.value)
    assert "Fix seeds/segment_naming_rules.csv" in str(error.value)
