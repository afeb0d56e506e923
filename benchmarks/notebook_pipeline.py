"""The notebook pipeline the warehouse is benchmarked against: plain pandas + scikit-learn.

This is what an analyst would write instead of the warehouse, on the same customers
file: read it whole into pandas, impute, scale, PCA, an elbow curve over the whole train
split, k-means, a quality score on the test split, a segment for every customer, written
to Parquet. Deliberately no code from the project (no validation, no features, no marts,
no tests), so it is the fair "just do it in a notebook" baseline; ``make bench`` runs it
beside the real ``dbt build`` on the same file (see docs/benchmarks.md).

    python benchmarks/notebook_pipeline.py --customers customers.parquet --out segments.parquet
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", required=True, help="customers file (.parquet or .csv)")
    parser.add_argument("--out", required=True, help="where to write customer_id, segment (Parquet)")
    parser.add_argument("--n-segments", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()

    df = pd.read_parquet(args.customers) if args.customers.endswith(".parquet") else pd.read_csv(args.customers)
    ids = df.pop("CUST_ID")
    df = df.fillna(df.median())
    x_train, x_test, ids_train, ids_test = train_test_split(df, ids, test_size=0.2, random_state=args.seed)

    scaler = StandardScaler().fit(x_train)
    pca = PCA(n_components=0.9, random_state=args.seed).fit(scaler.transform(x_train))
    z_train = pca.transform(scaler.transform(x_train))
    z_test = pca.transform(scaler.transform(x_test))

    inertias = [KMeans(n_clusters=k, random_state=args.seed).fit(z_train).inertia_ for k in range(1, 11)]
    kmeans = KMeans(n_clusters=args.n_segments, random_state=args.seed).fit(z_train)
    test_labels = kmeans.predict(z_test)
    score = silhouette_score(z_test, test_labels, sample_size=10_000, random_state=args.seed)

    segments = pd.DataFrame(
        {
            "customer_id": pd.concat([ids_train, ids_test]),
            "segment": np.concatenate([kmeans.labels_, test_labels]) + 1,
        }
    )
    segments.to_parquet(args.out, index=False)
    print(
        f"notebook pipeline: {len(df):,} customers, {pca.n_components_} components, "
        f"inertia k=1..10 {[round(value) for value in inertias]}, test silhouette {score:.3f}, "
        f"{time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
