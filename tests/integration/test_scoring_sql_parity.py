"""SQL scoring on real features: a version fitted on the real
``int_customer_features_engineered`` of the demo data and of the public cc_general file
(built by dbt once per file) and scored twice, with numpy (tests/oracles.py) and with the
rendered SQL in DuckDB: segments, distances, confidence and coordinates agree to 1e-9."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd
import pytest

from segmentation.fit.reducers import fit_reduction, model_from_reduction
from segmentation.fit.steps import fit_kmeans, usable_feature_matrix
from segmentation.fit.transforms import log_columns
from segmentation.params import SegmentationParams
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
    features = request.getfixturevalue(data)
    model = fitted_model(features, reducer)
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
