"""The Semantic Layer: `mf validate-configs` and the `mf query` calls of
docs/semantic_layer.md, on a real build of the demo data, give the marts' own numbers."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import DbtRun, MetricFlow, build_ok

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[DbtRun, MetricFlow]:
    """A demo build without the reducer comparison (the semantic layer reads only the marts)."""
    workdir = tmp_path_factory.mktemp("semantic")
    run = build_ok(workdir, {"compare_reducers": False})
    return run, MetricFlow(run.database, workdir)


def sorted_frame(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by).reset_index(drop=True)


def test_mf_validate_configs_passes_against_the_warehouse(built):
    _, mf = built
    result = mf.run("validate-configs")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "ERRORS: 0" in output and not any(
        "ERRORS: " in line and "ERRORS: 0" not in line for line in output.splitlines()
    ), output[-4000:]
    # every check ran: the semantics and the warehouse (dimensions, entities, measures, metrics)
    assert output.count("Successfully validated") >= 5, output[-4000:]


def test_customers_by_segment_name_are_the_marts_counts_shares_and_balances(built):
    run, mf = built
    got = mf.query(
        "customers,share_of_customers,average_balance,median_balance,average_credit_utilisation",
        "segment__segment_name",
    )
    expected = run.query(
        """
        select
            customers.segment_name as segment__segment_name,
            count(*) as customers,
            any_value(segments.customer_share) as share_of_customers,
            avg(customers.balance) as average_balance,
            median(customers.balance) as median_balance,
            avg(customers.credit_utilisation) as average_credit_utilisation
        from dim_customers as customers
        inner join dim_segments as segments on customers.segment_id = segments.segment_id
        group by customers.segment_name
        """
    )
    got, expected = sorted_frame(got, ["segment__segment_name"]), sorted_frame(expected, ["segment__segment_name"])
    assert list(got["segment__segment_name"]) == list(expected["segment__segment_name"])
    assert got["customers"].tolist() == expected["customers"].tolist()
    assert got["customers"].sum() == run.scalar("select count(*) from dim_customers")
    for column in ("share_of_customers", "average_balance", "median_balance", "average_credit_utilisation"):
        pd.testing.assert_series_equal(got[column], expected[column], check_names=False, rtol=1e-9)
    assert got["share_of_customers"].sum() == pytest.approx(1.0)


def test_audience_by_campaign_and_channel_is_fct_campaign_audience(built):
    run, mf = built
    got = mf.query("campaign_audience", "audience__campaign,audience__channel")
    expected = run.query(
        """
        select campaign as audience__campaign, channel as audience__channel, count(*) as campaign_audience
        from fct_campaign_audience
        group by campaign, channel
        """
    )
    keys = ["audience__campaign", "audience__channel"]
    pd.testing.assert_frame_equal(sorted_frame(got, keys), sorted_frame(expected, keys), check_dtype=False)


def test_per_month_amounts_by_split_and_tenure_on_the_build_date(built):
    run, mf = built
    got = mf.query(
        "customers,average_monthly_purchases,average_monthly_cash_advance",
        "customer__split,customer__tenure,metric_time__day",
    )
    expected = run.query(
        """
        select
            split as customer__split,
            tenure as customer__tenure,
            count(*) as customers,
            avg(monthly_purchases) as average_monthly_purchases,
            avg(monthly_cash_advance) as average_monthly_cash_advance
        from dim_customers
        group by split, tenure
        """
    )
    # the marts are one build's snapshot: every row is on the build's date
    assert got["metric_time__day"].nunique() == 1
    # the semantic layer's views are published with the marts; mf reads the published build
    build_date = run.scalar("select min(build_date) from sem_customers")
    assert pd.Timestamp(got["metric_time__day"].iloc[0]).date() == build_date
    keys = ["customer__split", "customer__tenure"]
    got = sorted_frame(got.drop(columns="metric_time__day"), keys)
    pd.testing.assert_frame_equal(got, sorted_frame(expected, keys), check_dtype=False, rtol=1e-9)


def test_rejected_rows_by_reason_and_model_version_segments(built):
    """The demo data has no rejected row: rejected_rows by reason is as empty as
    rpt_rejection_reasons; customers by model version and segment id covers every customer."""
    run, mf = built
    assert run.scalar("select count(*) from rpt_rejection_reasons") == 0
    result = mf.run("query", "--metrics", "rejected_rows", "--group-by", "rejection__reason")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "empty result" in result.stdout
    got = mf.query("customers,segments_count", "segment__model_version,segment")
    expected = run.query(
        """
        select model_version as segment__model_version, segment_id as segment, count(*) as customers
        from dim_customers group by model_version, segment_id
        """
    )
    keys = ["segment__model_version", "segment"]
    assert (got["segments_count"] == 1).all()
    pd.testing.assert_frame_equal(
        sorted_frame(got[[*keys, "customers"]], keys), sorted_frame(expected, keys), check_dtype=False
    )
