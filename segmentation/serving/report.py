"""The segmentation report: one self-contained HTML file from the warehouse's marts.

Every figure and number is read from the DuckDB warehouse (opened read-only), so the
report always matches the tables. Figures are drawn with matplotlib, saved as PNG files
beside the HTML (for slides) and inlined in it as base64 images: the file has no script,
no stylesheet and no image to fetch, so it works offline and can be mailed as it is.

    python -m segmentation.serving.report [--database W.duckdb] [--out W_report]   (default: DBT_DUCKDB_PATH)
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render to files
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from segmentation.serving.publish.area import BuildArea, warehouse_path

#: Customers drawn (seeded sample) on the scatter of the first two components.
SCATTER_SAMPLE = 5_000
#: Attributes whose per-segment distributions are drawn.
DISTRIBUTION_ATTRIBUTES = (
    "balance",
    "monthly_purchases",
    "monthly_cash_advance",
    "credit_utilisation",
    "prc_full_payment",
)
#: Units of the main attributes, for axis labels and traits.
UNITS = {
    "balance": "$",
    "credit_limit": "$",
    "purchases": "$ over the tenure",
    "oneoff_purchases": "$ over the tenure",
    "installments_purchases": "$ over the tenure",
    "cash_advance": "$ over the tenure",
    "payments": "$ over the tenure",
    "minimum_payments": "$ over the tenure",
    "monthly_purchases": "$ a month",
    "monthly_cash_advance": "$ a month",
    "credit_utilisation": "share of the limit",
    "purchases_frequency": "share of months",
    "cash_advance_frequency": "share of months",
    "prc_full_payment": "share of months paid in full",
    "tenure": "months",
}
PALETTE = plt.get_cmap("tab10").colors
STYLE = """
body{font-family:DejaVu Sans,Arial,sans-serif;margin:0 auto;max-width:1200px;padding:24px;color:#222}
h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:40px}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto}
.cards{display:flex;flex-wrap:wrap;gap:16px}
.card{flex:1 1 300px;border:1px solid #ccc;border-left:8px solid var(--colour);border-radius:6px;padding:12px}
.card h3{margin:0 0 6px 0}.muted{color:#666;font-size:14px}
"""


def segment_colour(segment_id: int) -> str:
    """The colour of a segment, the same in every figure and card."""
    red, green, blue = PALETTE[(int(segment_id) - 1) % len(PALETTE)]
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


@dataclass
class Report:
    """Sections of HTML and the PNG figures written so far."""

    out_dir: Path
    sections: list[str] = field(default_factory=list)
    figures: list[Path] = field(default_factory=list)

    def figure(self, fig: plt.Figure, name: str, alt: str) -> str:
        """Save ``fig`` as figures/<name>.png and return an inline <img> of it."""
        path = self.out_dir / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.figures.append(path)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}">'

    def section(self, anchor: str, title: str, body: str) -> None:
        self.sections.append(f'<section id="{anchor}"><h2>{html.escape(title)}</h2>{body}</section>')


def table_html(frame: pd.DataFrame, formats: dict[str, str] | None = None) -> str:
    """A plain HTML table; numbers formatted with thousands separators."""
    formats = formats or {}

    def cell(column: str, value: object) -> str:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if column in formats:
            return formats[column].format(value)
        if isinstance(value, int | np.integer):
            return f"{value:,}"
        if isinstance(value, float | np.floating):
            return f"{value:,.3f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell(column, value)}</td>" for column, value in row.items()) + "</tr>"
        for _, row in frame.iterrows()
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def has_table(connection: duckdb.DuckDBPyConnection, name: str) -> bool:
    query = "select count(*) from information_schema.tables where table_name = ?"
    return connection.execute(query, [name]).fetchone()[0] > 0


def header_section(report: Report, connection: duckdb.DuckDBPyConnection, segments: pd.DataFrame) -> None:
    version = int(segments["model_version"].iloc[0])
    model = connection.execute(
        "select fitted_at, reducer, n_segments, n_dimensions, train_customer_count, test_customer_count, parameters"
        " from segmentation_models where model_version = ?",
        [version],
    ).df()
    source_rows = connection.execute("select count(*) from stg_customers").fetchone()[0]
    rejected = connection.execute("select count(*) from rejected_customers").fetchone()[0]
    clean = int(segments["customer_count"].sum())
    reasons = connection.execute(
        "select rejection_kind as reason, rejected_row_count as rows from rpt_rejection_reasons order by 2 desc, 1"
    ).df()
    parameters = json.loads(model.loc[0, "parameters"])
    facts = pd.DataFrame(
        {
            "": [
                "model version",
                "fitted at (UTC)",
                "reducer",
                "segments",
                "reduced dimensions",
                "source rows",
                "clean customers",
                "rejected rows",
                "train / test customers",
            ],
            "value": [
                f"{version}",
                str(model.loc[0, "fitted_at"])[:19],
                model.loc[0, "reducer"],
                f"{int(model.loc[0, 'n_segments'])}",
                f"{int(model.loc[0, 'n_dimensions'])}",
                f"{source_rows:,}",
                f"{clean:,}",
                f"{rejected:,}",
                f"{int(model.loc[0, 'train_customer_count']):,} / {int(model.loc[0, 'test_customer_count']):,}",
            ],
        }
    )
    parameter_table = pd.DataFrame({"parameter": list(parameters), "value": [str(v) for v in parameters.values()]})
    body = (
        f'<div id="facts">{table_html(facts)}</div>'
        f"<h3>Parameters</h3>{table_html(parameter_table)}"
        "<h3>Rejected rows by reason</h3>"
        + (f'<div id="rejections">{table_html(reasons)}</div>' if len(reasons) else "<p>No row was rejected.</p>")
    )
    report.section("summary", "Model and data", body)


def elbow_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    elbow = connection.execute("select * from segment_elbow order by k").df()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    left.plot(elbow["k"], elbow["inertia"], marker="o", color="#333")
    for flag, colour, label in (("is_knee", "#d62728", "knee (Kneedle)"), ("is_selected", "#1f77b4", "k in use")):
        marked = elbow.loc[elbow[flag]]
        found = ", ".join(map(str, marked["k"])) or "none"
        left.scatter(
            marked["k"],
            marked["inertia"],
            s=180,
            facecolors="none",
            edgecolors=colour,
            linewidths=2,
            label=f"{label}: k = {found}",
        )
    left.set(title="Elbow curve", xlabel="number of segments k", ylabel="inertia (sum of squared distances)")
    left.legend()
    right.plot(elbow["k"], elbow["silhouette"], marker="o", color="#2ca02c")
    right.set(title="Silhouette by k", xlabel="number of segments k", ylabel="mean silhouette (-1 to 1)")
    for axis in (left, right):
        axis.set_xticks(elbow["k"])
        axis.grid(alpha=0.3)
    image = report.figure(fig, "elbow", "Elbow curve and silhouette by k")
    selected = int(elbow.loc[elbow["is_selected"], "k"].iloc[0])
    knee = elbow.loc[elbow["is_knee"], "k"]
    knees = ", ".join(map(str, knee)) or "none"
    text = f"<p>k in use: <b id='selected-k'>{selected}</b>; knee of the inertia curve: {knees}.</p>"
    report.section("elbow", "Choosing the number of segments", image + text)


def reducer_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    if not has_table(connection, "reducer_comparison"):
        report.section("reducers", "Reducer comparison", "<p>Not built (var compare_reducers false).</p>")
        return
    comparison = connection.execute(
        "select reducer, n_dimensions, test_reconstruction_r2, test_silhouette, test_davies_bouldin, fit_seconds,"
        " is_selected_reducer from reducer_comparison order by reducer"
    ).df()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for axis, column, label in zip(
        axes,
        ("test_reconstruction_r2", "test_silhouette", "test_davies_bouldin"),
        ("reconstruction R² (higher is better)", "silhouette (higher is better)", "Davies-Bouldin (lower is better)"),
        strict=True,
    ):
        colours = ["#1f77b4" if selected else "#aaa" for selected in comparison["is_selected_reducer"]]
        axis.bar(comparison["reducer"], comparison[column], color=colours)
        axis.set(title=label, xlabel="reducer", ylabel=column.replace("_", " "))
    fig.suptitle("Reducers on the test split (the one in use in blue)")
    image = report.figure(fig, "reducers", "Reducer comparison")
    report.section("reducers", "Reducer comparison: PCA, autoencoder or none", image + table_html(comparison))


def scatter_section(
    report: Report, connection: duckdb.DuckDBPyConnection, segments: pd.DataFrame, seed: int, sample_size: int
) -> None:
    total = connection.execute("select count(*) from customer_features_reduced").fetchone()[0]
    columns = [row[0] for row in connection.execute("describe customer_features_reduced").fetchall()]
    second = "component_2" if "component_2" in columns else "component_1"
    points = connection.execute(
        f"select r.component_1, r.{second}, s.segment_id from customer_features_reduced as r"
        " inner join customer_segments as s using (customer_id)"
        f" order by hash(r.customer_id || ':{int(seed)}') limit {int(sample_size)}"
    ).df()
    version = int(segments["model_version"].iloc[0])
    centroids = np.array(
        connection.execute("select centroids from segmentation_models where model_version = ?", [version]).fetchone()[0]
    )
    fig, axis = plt.subplots(figsize=(9, 6.5))
    for segment in segments.itertuples():
        members = points.loc[points["segment_id"] == segment.segment_id]
        axis.scatter(
            members["component_1"],
            members[second],
            s=6,
            alpha=0.45,
            color=segment_colour(segment.segment_id),
            label=f"{segment.segment_id} {segment.segment_name}",
        )
        centre = centroids[segment.segment_id - 1]
        axis.scatter(
            centre[0],
            centre[1] if len(centre) > 1 else centre[0],
            marker="X",
            s=260,
            color=segment_colour(segment.segment_id),
            edgecolors="black",
            linewidths=1.5,
        )
    axis.set(
        title=f"Customers on the first two components ({len(points):,} of {total:,}; X = centroid)",
        xlabel="component 1 (standard units)",
        ylabel=f"{second.replace('_', ' ')} (standard units)",
    )
    axis.legend(markerscale=3)
    axis.grid(alpha=0.3)
    report.section("scatter", "Customers in the reduced space", report.figure(fig, "scatter", "Customers by segment"))


def segments_section(report: Report, segments: pd.DataFrame) -> None:
    fig, axis = plt.subplots(figsize=(9, 0.6 + 0.55 * len(segments)))
    labels = [f"{row.segment_id} {row.segment_name}" for row in segments.itertuples()]
    bars = axis.barh(labels, segments["customer_count"], color=[segment_colour(s) for s in segments["segment_id"]])
    counts = zip(segments["customer_count"], segments["customer_share"], strict=True)
    axis.bar_label(bars, labels=[f"{n:,} ({share:.1%})" for n, share in counts])
    axis.invert_yaxis()
    axis.set_xlim(0, segments["customer_count"].max() * 1.3)  # room for the labels
    axis.set(title="Segment sizes", xlabel="customers", ylabel="segment")
    sizes = report.figure(fig, "segment_sizes", "Segment sizes")

    z_columns = [column for column in segments.columns if column.startswith("z_")]
    z = segments[z_columns].to_numpy(dtype=float)
    fig, axis = plt.subplots(figsize=(12, 1.2 + 0.6 * len(segments)))
    limit = max(1.0, float(np.nanmax(np.abs(z))))
    image = axis.imshow(z, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    axis.set_xticks(
        range(len(z_columns)), [column[2:].replace("_", " ") for column in z_columns], rotation=45, ha="right"
    )
    axis.set_yticks(range(len(segments)), labels)
    for (row, column), value in np.ndenumerate(z):
        axis.text(column, row, f"{value:+.1f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, label="z-score: standard deviations from the average customer")
    axis.set_title("Segment profiles (mean of each attribute as a z-score)")
    heatmap = report.figure(fig, "profile_heatmap", "Segment profile heatmap")
    report.section("segments", "Segment sizes and profiles", sizes + heatmap)


def distributions_section(report: Report, connection: duckdb.DuckDBPyConnection, segments: pd.DataFrame) -> None:
    quantiles = connection.execute("select * from rpt_segment_distributions where segment_id > 0").df()
    fig, axes = plt.subplots(1, len(DISTRIBUTION_ATTRIBUTES), figsize=(15, 4.2))
    for axis, attribute in zip(axes, DISTRIBUTION_ATTRIBUTES, strict=True):
        rows = quantiles.loc[quantiles["attribute"] == attribute].set_index("segment_id").loc[segments["segment_id"]]
        stats = [
            {"whislo": r.p05, "q1": r.p25, "med": r.p50, "q3": r.p75, "whishi": r.p95, "label": str(segment_id)}
            for segment_id, r in rows.iterrows()
        ]
        boxes = axis.bxp(stats, showfliers=False, patch_artist=True)
        for patch, segment_id in zip(boxes["boxes"], rows.index, strict=True):
            patch.set_facecolor(segment_colour(segment_id))
        axis.set(title=attribute.replace("_", " "), xlabel="segment", ylabel=UNITS.get(attribute, ""))
    fig.suptitle("Distributions per segment (box: quartiles, whiskers: 5th to 95th percentile)")
    report.section(
        "distributions",
        "Distributions of the main attributes",
        report.figure(fig, "distributions", "Attribute distributions per segment"),
    )


def traits(row: pd.Series, count: int = 3) -> list[str]:
    """The attributes that set a segment apart most, in plain words."""
    z = {column[2:]: row[column] for column in row.index if column.startswith("z_") and pd.notna(row[column])}
    strongest = sorted(z, key=lambda name: -abs(z[name]))[:count]
    words = []
    for name in strongest:
        size = "much " if abs(z[name]) >= 1 else ""
        direction = "higher" if z[name] > 0 else "lower"
        words.append(
            f"{size}{direction} {name.replace('_', ' ')} than average: {row['avg_' + name]:,.2f} "
            f"{UNITS.get(name, '')} ({z[name]:+.1f} sd)"
        )
    return words


def cards_section(report: Report, segments: pd.DataFrame) -> None:
    cards = []
    for _, row in segments.iterrows():
        items = "".join(f"<li>{html.escape(trait)}</li>" for trait in traits(row))
        cards.append(
            f'<div class="card" id="segment-{int(row["segment_id"])}" '
            f'style="--colour:{segment_colour(row["segment_id"])}">'
            f"<h3>{int(row['segment_id'])}. {html.escape(row['segment_name'])}</h3>"
            f"<p>{html.escape(row['segment_description'])}</p>"
            f'<p><b class="size">{int(row["customer_count"]):,}</b> customers ({row["customer_share"]:.1%})</p>'
            f"<ul>{items}</ul>"
            f'<p class="campaign">Campaign: <b>{html.escape(row["campaign"])}</b> - {html.escape(row["offer"])} '
            f"(by {html.escape(row['channel'])})</p></div>"
        )
    report.section("cards", "The segments", f'<div class="cards">{"".join(cards)}</div>')


def exploration_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    correlations = connection.execute("select * from rpt_feature_correlations").df()
    matrix = correlations.pivot(index="feature_a", columns="feature_b", values="correlation")
    order = list(
        connection.execute(
            "select feature from rpt_feature_summary where feature_set = 'clustering feature' order by feature"
        ).df()["feature"]
    )
    matrix = matrix.loc[order, order]
    fig, axis = plt.subplots(figsize=(11, 9))
    image = axis.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    axis.set_xticks(range(len(order)), [name.replace("_", " ") for name in order], rotation=60, ha="right")
    axis.set_yticks(range(len(order)), [name.replace("_", " ") for name in order])
    fig.colorbar(image, label="Pearson correlation")
    axis.set_title("Correlation of the clustering features")
    heatmap = report.figure(fig, "correlations", "Feature correlation heatmap")
    summary = connection.execute(
        "select feature_set, feature, value_count, null_count, min_value, median_value, mean_value, max_value,"
        " skewness, zero_share from rpt_feature_summary order by feature_set desc, feature"
    ).df()
    body = heatmap + f'<h3>Feature summary</h3><div id="feature-summary">{table_html(summary)}</div>'
    report.section("exploration", "Exploring the features", body)


def transitions_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    transitions = connection.execute(
        "select from_model_version, from_segment_id, from_segment_name, to_model_version, to_segment_id,"
        " to_segment_name, customer_count from segment_transitions order by from_segment_id, to_segment_id"
    ).df()
    if transitions.empty:
        report.section(
            "transitions",
            "Changes since the previous model version",
            "<p>Only one model version is stored: no transitions yet.</p>",
        )
        return
    kept = transitions.loc[transitions["from_segment_id"] == transitions["to_segment_id"], "customer_count"].sum()
    total = transitions["customer_count"].sum()
    older, newer = int(transitions["from_model_version"].iloc[0]), int(transitions["to_model_version"].iloc[0])
    text = (
        f"<p>Between model versions {older} and {newer}, <b id='kept-share'>{kept / total:.1%}</b> "
        f"of {total:,} customers kept their segment.</p>"
    )
    report.section("transitions", "Changes since the previous model version", text + table_html(transitions))


#: Example customers per segment whose reasons the report shows.
EXAMPLES_PER_SEGMENT = 2


def reasons_section(report: Report, connection: duckdb.DuckDBPyConnection, segments: pd.DataFrame) -> None:
    """A few customers per segment (the most typical: the largest assignment margin
    among the non-atypical), with their margin, runner-up and top reasons."""
    if not has_table(connection, "customer_segment_reasons"):
        report.section("reasons", "Why this segment", "<p>customer_segment_reasons is not built.</p>")
        return
    # The examples first, then their reasons: customer_segment_reasons is a view, and a
    # query for a few customers computes only theirs.
    chosen = connection.execute(
        "with ranked as (select customer_id, segment_id, segment_name, runner_up_segment_id, assignment_margin,"
        " row_number() over (partition by segment_id order by assignment_margin desc, customer_id) as example"
        " from dim_customers where not coalesce(is_atypical, false) and runner_up_segment_id is not null)"
        " select ranked.*, runner_up.segment_name as runner_up_name from ranked"
        " inner join dim_segments as runner_up on runner_up.segment_id = ranked.runner_up_segment_id"
        f" where example <= {EXAMPLES_PER_SEGMENT}"
    ).df()
    ids = chosen["customer_id"].tolist()
    reasons = connection.execute(
        "select customer_id, reason_rank, reason from customer_segment_reasons"
        f" where customer_id in ({', '.join('?' for _ in ids) or 'null'})",
        ids,
    ).df()
    examples = chosen.merge(reasons, on="customer_id").sort_values(["segment_id", "example", "reason_rank"])
    if examples.empty:
        report.section("reasons", "Why this segment", "<p>One segment only: no runner-up to explain against.</p>")
        return
    items = []
    for (customer, segment_id), rows in examples.groupby(["customer_id", "segment_id"], sort=False):
        first = rows.iloc[0]
        reasons = "".join(f"<li>{html.escape(reason)}</li>" for reason in rows["reason"])
        items.append(
            f'<div class="card" style="--colour:{segment_colour(segment_id)}"><h3>{html.escape(customer)}</h3>'
            f"<p>{html.escape(first['segment_name'])} rather than {html.escape(first['runner_up_name'])} "
            f"(margin {first['assignment_margin']:.2f})</p><ol>{reasons}</ol></div>"
        )
    text = (
        "<p>For each customer: the runner-up segment, the margin (squared distance to the runner-up's centroid "
        "minus to its own) and the features that pull it most towards its own segment, with the segment "
        "medians. Shown: the most clear-cut customers of each segment.</p>"
    )
    report.section("reasons", "Why this segment", text + f'<div class="cards">{"".join(items)}</div>')


def atypical_section(report: Report, segments: pd.DataFrame) -> None:
    if "atypical_customer_count" not in segments:
        return
    table = segments[["segment_id", "segment_name", "customer_count", "atypical_customer_count", "atypical_share"]]
    total = int(segments["atypical_customer_count"].sum())
    text = (
        f"<p><b id='atypical-count'>{total:,}</b> customers fit no segment well (farther from their centroid, "
        "relative to the segment's radius, than all but var contamination of the train customers). "
        "The campaign audience leaves them out unless var atypical_customers is include.</p>"
    )
    report.section("atypical", "Atypical customers", text + table_html(table, {"atypical_share": "{:.1%}"}))


def drift_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    if not has_table(connection, "feature_drift"):
        report.section("drift", "Drift since the fit", "<p>feature_drift is not built.</p>")
        return
    drift = connection.execute("select feature, psi, js_distance, is_drifted from feature_drift order by psi desc").df()
    if drift.empty:
        report.section("drift", "Drift since the fit", "<p>The version in use has no drift reference (refit).</p>")
        return
    moved = drift.loc[drift["is_drifted"], "feature"].tolist()
    verdict = (
        f"<p><b>Refit recommended</b>: {html.escape(', '.join(moved))} moved since the fit.</p>"
        if moved
        else "<p>No clustering feature moved beyond the PSI threshold: the model version still fits.</p>"
    )
    fig, axis = plt.subplots(figsize=(8, 0.3 * len(drift) + 1))
    ordered = drift.iloc[::-1]
    axis.barh(ordered["feature"], ordered["psi"], color=["#d62728" if d else "#1f77b4" for d in ordered["is_drifted"]])
    axis.set_xlabel("population stability index (PSI) against the version's train split")
    image = report.figure(fig, "drift", "PSI per clustering feature")
    report.section(
        "drift", "Drift since the fit", verdict + image + f'<div id="feature-drift">{table_html(drift)}</div>'
    )


def moves_section(report: Report, connection: duckdb.DuckDBPyConnection) -> None:
    if not has_table(connection, "customer_segment_moves") or not has_table(connection, "publish_log"):
        return
    # The published build this file is: the last row of its publish log.
    last = connection.execute("select build_id from publish_log order by published_at desc limit 1").fetchone()
    moves = connection.execute(
        "select from_segment_name, to_segment_name, count(*) as customers from customer_segment_moves"
        " where build_id = ? group by all order by customers desc",
        [last[0] if last else ""],
    ).df()
    text = (
        "<p>No customer changed segment in the last build.</p>"
        if moves.empty
        else f"<p><b id='moved-count'>{int(moves['customers'].sum()):,}</b> customers changed segment in the last "
        "build (customer_segment_moves has every build).</p>"
    )
    report.section("moves", "Moves since the previous build", text + ("" if moves.empty else table_html(moves)))


def build_report(database: Path, out_dir: Path, seed: int = 42, sample_size: int = SCATTER_SAMPLE) -> Path:
    """Write ``out_dir/segmentation_report.html`` and ``out_dir/figures/*.png``."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report(out_dir)
    with duckdb.connect(str(database), read_only=True) as connection:
        segments = connection.execute("select * from dim_segments order by segment_id").df()
        if segments.empty:
            raise SystemExit(f"{database} has no segments: build the warehouse first (make run).")
        header_section(report, connection, segments)
        elbow_section(report, connection)
        reducer_section(report, connection)
        scatter_section(report, connection, segments, seed, sample_size)
        segments_section(report, segments)
        distributions_section(report, connection, segments)
        cards_section(report, segments)
        reasons_section(report, connection, segments)
        atypical_section(report, segments)
        drift_section(report, connection)
        moves_section(report, connection)
        exploration_section(report, connection)
        transitions_section(report, connection)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Customer segmentation report</title><style>{STYLE}</style></head><body>"
        "<h1>Customer segmentation report</h1>"
        f'<p class="muted">From {html.escape(str(database))}; every figure is computed from its tables.</p>'
        + "".join(report.sections)
        + "</body></html>"
    )
    path = out_dir / "segmentation_report.html"
    path.write_text(page, encoding="utf-8")
    print(
        f"report written: {path} ({len(report.figures)} figures in {out_dir / 'figures'}, "
        f"{time.perf_counter() - started:.1f} s)"
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", type=Path, default=None, help="published DuckDB file (default: $DBT_DUCKDB_PATH or warehouse/)"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="folder to write to (default: <warehouse>_report beside the warehouse)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the scatter plot's sample")
    parser.add_argument("--sample-size", type=int, default=SCATTER_SAMPLE, help="customers on the scatter plot")
    arguments = parser.parse_args(argv)
    area = BuildArea.of_published(arguments.database or warehouse_path())
    build_report(area.published, arguments.out or area.default_report, arguments.seed, arguments.sample_size)


if __name__ == "__main__":
    main()
