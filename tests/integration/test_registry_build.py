"""End to end: the model registry across real dbt builds into one DuckDB file."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import build_ok, run_dbt

pytestmark = pytest.mark.dbt

FAST = {"compare_reducers": False}


def segments(run) -> pd.DataFrame:
    return run.query("select * from customer_segments order by customer_id")


def test_registry_survives_rebuilds_and_refit_false_reproduces_every_segment(tmp_path):
    first = build_ok(tmp_path, FAST)
    first_segments = segments(first)
    assert first_segments["model_version"].eq(1).all()

    # A full refresh rebuilds every table but the registry.
    second = run_dbt(tmp_path, "build", "--full-refresh", variables=FAST)
    assert second.returncode == 0, second.output[-4000:]
    versions = second.query("select model_version, ids_matched_to_version from segmentation_models order by 1")
    assert versions["model_version"].tolist() == [1, 2]
    assert versions["ids_matched_to_version"].tolist()[1] == 1
    second_segments = segments(second)
    pd.testing.assert_frame_equal(
        first_segments.drop(columns="model_version"), second_segments.drop(columns="model_version"), check_exact=True
    )
    transitions = second.query("select * from segment_transitions")
    assert transitions["customer_count"].sum() == len(second_segments)
    assert (transitions["from_segment_id"] == transitions["to_segment_id"]).all()
    compiled = run_dbt(tmp_path, "compile", "--select", "segment_drift_between_versions", variables=FAST)
    assert compiled.returncode == 0, compiled.output[-3000:]
    drift_sql = next((tmp_path / "target" / "compiled").rglob("segment_drift_between_versions.sql")).read_text()
    drift = second.query(drift_sql)
    assert len(drift) == 3 and (drift["kept_share"] == 1.0).all()

    # Scoring with the latest stored version fits nothing and reproduces every segment.
    scored = build_ok(tmp_path, {**FAST, "refit": False})
    assert "refit false: nothing fitted; customers are scored with stored model version 2" in scored.output
    assert scored.scalar("select count(*) from segmentation_models") == 2
    pd.testing.assert_frame_equal(second_segments, segments(scored), check_exact=True)
    metrics = scored.query("select model_version, refit, test_generalisation_ari from segmentation_metrics")
    assert metrics.loc[0, "model_version"] == 2 and not metrics.loc[0, "refit"]
    assert pd.isna(metrics.loc[0, "test_generalisation_ari"])

    # ... and with a version named by var, that version's own build.
    named = build_ok(tmp_path, {**FAST, "refit": False, "model_version": 1})
    pd.testing.assert_frame_equal(first_segments, segments(named), check_exact=True)
    assert named.scalar("select max(model_version) from segment_elbow") == 1
    in_use = named.query("select distinct model_version from segment_definitions where is_in_use")
    assert in_use["model_version"].tolist() == [1]


def test_names_and_centroids_describe_the_segments(tmp_path):
    run = build_ok(tmp_path, FAST)
    definitions = run.query("select * from segment_definitions order by segment_id")
    assert definitions["segment_name"].is_unique
    print("segment names on the demo data:", definitions[["segment_id", "segment_name"]].to_dict("records"))
    sizes = run.query("select segment_name, count(*) as n from customer_segments group by 1")
    assert set(sizes["segment_name"]) == set(definitions["segment_name"])
    dim = run.query("select segment_id, segment_name, segment_description from dim_segments order by 1")
    assert dim["segment_name"].tolist() == definitions["segment_name"].tolist()
    centroids = run.query("select * from segment_centroids")
    assert len(centroids) == 3 * 18
    # A segment's real-unit centroid is the mean of its train customers' features in the
    # space the model clusters: for a log-transformed feature exp(mean(ln(x + shift))) - shift,
    # for a share (clustered as it is) the plain mean.
    shift = run.scalar("select log_shifts[list_position(features, 'balance')] from segmentation_models")
    assert shift > 0
    for feature, centroid in (
        ("balance", f"exp(avg(ln(f.balance + {shift!r}))) - {shift!r}"),
        ("prc_full_payment", "avg(f.prc_full_payment)"),
    ):
        check = run.query(
            f"""
            select c.segment_id, {centroid} as centroid
            from customer_segments as c
            inner join int_customer_features_engineered as f using (customer_id)
            where c.split = 'train'
            group by 1 order by 1
            """
        )
        stored = centroids.loc[centroids["feature"] == feature].sort_values("segment_id")
        assert stored["centroid_real"].to_numpy() == pytest.approx(check["centroid"].to_numpy()), feature


def test_refit_false_on_an_empty_registry_stops_and_says_how_to_fit(tmp_path):
    run = run_dbt(tmp_path, "build", variables={**FAST, "refit": False})
    assert run.returncode != 0
    assert "no model version is stored in segmentation_models yet" in run.output
    assert "Run a refitting build first: dbt build (var refit is true by default)." in run.output


def test_public_data_set_keeps_segment_ids_when_refitted_with_another_seed(tmp_path, cc_general_csv):
    source = {"customers_path": str(cc_general_csv), **FAST}
    first = segments(build_ok(tmp_path, {**source, "random_seed": 42}))
    second_run = build_ok(tmp_path, {**source, "random_seed": 7})
    second = segments(second_run)
    same = (first["segment_id"] == second["segment_id"]).mean()
    names = second_run.query("select segment_id, segment_name, count(*) as n from customer_segments group by all")
    print(f"cc_general.csv, seeds 42 then 7: {same:.2%} of customers keep their segment_id; {names.to_dict('records')}")
    assert same >= 0.95
    assert second_run.scalar("select ids_matched_to_version from segmentation_models where model_version = 2") == 1
