"""SQL scoring on real features: a version fitted on the real
``int_customer_features_engineered`` of the demo data and of the public cc_general file
(built by dbt once per file) and scored twice, with numpy (tests/oracles.py) and with the
rendered SQL in DuckDB: segments, distances, confidence and coordinates agree to 1e-9, and
so do the explanations (runner-up, margin, normalized distance, atypical flag, reasons)."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.fit.calibration import atypical_threshold, segment_feature_medians, segment_radii
from segmentation.fit.reducers import fit_reduction, model_from_reduction
from segmentation.fit.steps import fit_kmeans, usable_feature_matrix
from segmentation.fit.transforms import log_columns
from segmentation.params import SegmentationParams
from segmentation.scoring.explanations import contributions, is_exact, reasons_select
from segmentation.scoring.model import SegmentModel, feature_matrix
from segmentation.scoring.sql import (
    reduced_select,
    score_select,
)
from tests.conftest import CLUSTERING_FEATURES, run_dbt

TOLERANCE = 1e-9
FAST_AUTOENCODER = {"autoencoder_epochs": 8, "autoencoder_hidden_layers": (12, 8)}


def engineered_features(workdir, variables: dict | None = None) -> pd.DataFrame:
    """int_customer_features_engineered built by dbt (it and the models upstream only: no
    seed is upstream of it)."""
    run = run_dbt(workdir, "run", "--select", "+int_customer_features_engineered", variables=variables)
    assert run.returncode == 0, run.output[-4000:]
    return run.in_workspace().query(
        f"select customer_id, split, {', '.join(CLUSTERING_FEATURES)} "
        "from int_customer_features_engineered order by customer_id"
    )


@pytest.fixture(scope="module")
def demo_features(tmp_path_factory) -> pd.DataFrame:
    return engineered_features(tmp_path_factory.mktemp("demo_features"))


@pytest.fixture(scope="module")
def cc_general_features(tmp_path_factory, cc_general_csv) -> pd.DataFrame:
    return engineered_features(tmp_path_factory.mktemp("cc_features"), {"customers_path": str(cc_general_csv)})


#: The models fitted so far, by data set and reducer: each test of this file uses the same ones.
_FITTED: dict[tuple[str, str], SegmentModel] = {}


def model_for(request, data: str, reducer: str) -> tuple[pd.DataFrame, SegmentModel]:
    """The features of ``data`` and the model fitted on them with ``reducer`` (once per file)."""
    features = request.getfixturevalue(data)
    if (data, reducer) not in _FITTED:
        _FITTED[(data, reducer)] = fitted_model(features, reducer)
    return features, _FITTED[(data, reducer)]


def fitted_model(features: pd.DataFrame, reducer: str) -> SegmentModel:
    """Scaler, reducer and 4-means fitted on the train rows, as the build fits them."""
    params = replace(SegmentationParams(), reducer=reducer, **(FAST_AUTOENCODER if reducer == "autoencoder" else {}))
    matrix, is_train, names = usable_feature_matrix(features, CLUSTERING_FEATURES)
    logged = log_columns(names, CLUSTERING_FEATURES)
    model = model_from_reduction(fit_reduction(matrix[is_train], params, log_columns=logged), names, reducer)
    return model.with_centroids(fit_kmeans(model.reduce(matrix[is_train]), 4, 2, params.random_seed))


@pytest.mark.dbt  # its features come from a real dbt run
@pytest.mark.parametrize("reducer", ["pca", "autoencoder", "none"])
@pytest.mark.parametrize("data", ["demo_features", "cc_general_features"])
def test_sql_scoring_equals_numpy(request, data, reducer):
    features, model = model_for(request, data, reducer)
    names = {1: "one", 2: "two", 3: "three", 4: "four"}
    reduced = model.reduce(feature_matrix(features, model.features))
    segment_ids, distances, confidence = model.assign(reduced)

    with duckdb.connect() as connection:
        connection.register("features", features)
        scored = connection.sql(score_select(model, "features", 5, names, passthrough=["split"])).df()
        sql_reduced = connection.sql(reduced_select(model, "features")).df()
    scored = scored.set_index("customer_id").loc[features["customer_id"]]
    sql_reduced = sql_reduced.set_index("customer_id").loc[features["customer_id"]]

    assert len(scored) == len(features)
    assert scored["segment_id"].tolist() == segment_ids.tolist()
    assert scored["segment_name"].tolist() == [names[segment] for segment in segment_ids]
    assert (scored["model_version"] == 5).all()
    assert scored["split"].tolist() == features["split"].tolist()
    np.testing.assert_allclose(scored["distance_to_centroid"], distances, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(scored["confidence"], confidence, rtol=0, atol=TOLERANCE)
    components = [f"component_{position}" for position in range(1, reduced.shape[1] + 1)]
    assert [column for column in sql_reduced.columns if column.startswith("component_")] == components
    np.testing.assert_allclose(sql_reduced[components].to_numpy(), reduced, rtol=0, atol=TOLERANCE)


def calibrated(model: SegmentModel, raw: np.ndarray, is_train: np.ndarray) -> SegmentModel:
    """``model`` with radii and an atypical threshold calibrated on the train rows, as the fit does."""
    reduced = model.reduce(raw[is_train])
    model = replace(model, segment_radii=segment_radii(model, reduced))
    return replace(model, atypical_threshold=atypical_threshold(model, reduced, 0.01))


@pytest.mark.dbt  # its features come from a real dbt run
@pytest.mark.parametrize("reducer", ["pca", "autoencoder", "none"])
@pytest.mark.parametrize("data", ["demo_features", "cc_general_features"])
def test_sql_explanations_equal_numpy(request, data, reducer):
    """Runner-up, margin, normalized distance, the atypical flag and every customer's top
    reasons by SQL equal numpy to 1e-9; for PCA and none, each customer's contributions
    (all of them, not only the top three) sum to its margin."""
    features, model = model_for(request, data, reducer)
    raw = feature_matrix(features, model.features)
    model = calibrated(model, raw, (features["split"] == "train").to_numpy())
    names = {1: "one", 2: "two", 3: "three", 4: "four"}
    reduced = model.reduce(raw)
    ids, distances, _ = model.assign(reduced)
    runner, margin = model.runner_up(reduced, ids)
    profiles = np.array([model.scale(raw)[ids == s].mean(axis=0) for s in range(1, 5)])
    medians = segment_feature_medians(raw, ids, 4)
    expected = contributions(model, profiles, raw, ids, runner)
    with duckdb.connect() as connection:
        connection.register("features", features)
        scored = connection.sql(score_select(model, "features", 5, names)).df()
        connection.register("scored", scored)
        source = (
            "(select scored.segment_id, scored.runner_up_segment_id, features.* from scored "
            "inner join features on scored.customer_id = features.customer_id)"
        )
        reasons = connection.sql(reasons_select(model, profiles, medians, {}, source)).df()
    scored = scored.set_index("customer_id").loc[features["customer_id"]]
    assert scored["runner_up_segment_id"].tolist() == runner.tolist()
    np.testing.assert_allclose(scored["assignment_margin"], margin, rtol=0, atol=TOLERANCE)
    normalized = model.normalized_distance(ids, distances)
    np.testing.assert_allclose(scored["normalized_distance"], normalized, rtol=0, atol=TOLERANCE)
    assert scored["is_atypical"].tolist() == (normalized > model.atypical_threshold).tolist()

    top = np.argsort(-expected, axis=1, kind="stable")[:, :3]
    rows = np.repeat(np.arange(len(features)), 3)
    picked = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy()[rows],
            "reason_rank": np.tile([1, 2, 3], len(features)),
            "feature": np.array(model.features)[top.ravel()],
            "contribution": expected[rows, top.ravel()],
        }
    )
    picked = picked[picked["contribution"] > 0].sort_values(["customer_id", "reason_rank"], ignore_index=True)
    reasons = reasons.sort_values(["customer_id", "reason_rank"], ignore_index=True)
    assert reasons["feature"].tolist() == picked["feature"].tolist()
    assert reasons["reason_rank"].tolist() == picked["reason_rank"].tolist()
    np.testing.assert_allclose(reasons["contribution"], picked["contribution"], rtol=0, atol=TOLERANCE)
    if is_exact(model):
        np.testing.assert_allclose(expected.sum(axis=1), margin, rtol=1e-9, atol=1e-9)
