"""Segment names and descriptions, from the rules in the seed ``segment_naming_rules``.

A segment's profile is its centroid in scaled units: for each clustering feature, how
many standard deviations its train customers' mean lies from the mean of all train
customers (a z-score). A rule can name a segment whose profile is at least ``min_z_score``
above (``direction`` high) or below (low) the average on the rule's ``feature``; the
strength of the match is that distance. Rules are listed in priority order
(``rule_order``). Names are unique within a model version: each rule names at most one
segment, and the names are chosen together, as the assignment of rules to segments
(Hungarian method) that

1. names as many segments as possible by a matching rule, then
2. uses the rules of highest priority (earliest ``rule_order``), then
3. gives a contested rule to the segment that matches it most strongly;

segments no rule matches take the rules without a feature (fallbacks), earlier
``rule_order`` first, and after those "Segment <id>".

So every name is decided by the data and the seed, and the seed is where marketing edits
names and wording without touching code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

RULE_COLUMNS = ("rule_order", "segment_name", "description", "feature", "direction", "min_z_score")
DIRECTIONS = {"high": 1.0, "low": -1.0}


class NamingRuleError(ValueError):
    """The seed segment_naming_rules has a row the naming cannot use."""


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def check_rules(rules: pd.DataFrame, clustering_features: Sequence[str]) -> pd.DataFrame:
    """The rules sorted by ``rule_order``, after checking every row (a rule's feature must
    be one of ``clustering_features``); a bad row stops the build with the row and the
    fix named."""
    absent = [name for name in RULE_COLUMNS if name not in rules.columns]
    if absent:
        raise NamingRuleError(f"seed segment_naming_rules lacks the columns {absent}; it needs {list(RULE_COLUMNS)}")
    problems = []
    for row in rules.itertuples(index=False):
        where = f"rule {row.rule_order} ({row.segment_name!r})"
        if _blank(row.segment_name) or _blank(row.description):
            problems.append(f"{where}: segment_name and description must be filled")
        if _blank(row.feature):
            continue
        if row.feature not in clustering_features:
            problems.append(f"{where}: feature {row.feature!r} is not a clustering feature {list(clustering_features)}")
        if row.direction not in DIRECTIONS:
            problems.append(f"{where}: direction must be high or low, got {row.direction!r}")
        if _blank(row.min_z_score) or float(row.min_z_score) < 0:
            problems.append(f"{where}: min_z_score must be a number of at least 0, got {row.min_z_score!r}")
    duplicated = rules.loc[rules["segment_name"].duplicated(), "segment_name"].tolist()
    if duplicated:
        problems.append(f"segment names used by more than one rule: {duplicated}")
    if problems:
        raise NamingRuleError(f"seed segment_naming_rules: {'; '.join(problems)}. Fix seeds/segment_naming_rules.csv")
    return rules.sort_values("rule_order", kind="stable").reset_index(drop=True)


#: Score of a rule that does not match a segment: never chosen while any other is possible.
_NO_MATCH = -1e9
#: Score of a match: naming one more segment by a matching rule always beats any
#: choice of priorities, and priority (one step per rule) beats strength (z-scores of
#: centroids, far below 1 / _STRENGTH_WEIGHT).
_MATCH_BONUS = 1e6
_STRENGTH_WEIGHT = 1e-3


def name_segments(
    profiles: np.ndarray,
    features: Sequence[str],
    rules: pd.DataFrame,
    clustering_features: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per segment (row i of ``profiles`` is segment_id i + 1): ``segment_id``,
    ``segment_name``, ``description``, ``naming_rule`` (the rule_order used, null for
    the "Segment <id>" last resort) and ``naming_z_score`` (the profile value on the
    rule's feature, null for a fallback). ``features`` are the columns of ``profiles``;
    ``clustering_features`` every declared clustering feature, which a rule may name
    even when the fit left it out as constant (default: ``features``)."""
    rules = check_rules(rules, features if clustering_features is None else clustering_features)
    n_segments = len(profiles)
    # Score of each (segment, candidate): a matching feature rule scores bonus + priority +
    # weighted strength; a fallback 0 less a tiny penalty by position; the last resort -1.
    scores = np.full((n_segments, len(rules) + n_segments), _NO_MATCH)
    z_scores = np.full((n_segments, len(rules)), np.nan)
    for position, rule in enumerate(rules.itertuples(index=False)):
        if _blank(rule.feature):
            scores[:, position] = 0.0
        elif rule.feature in features:
            z_scores[:, position] = profiles[:, list(features).index(rule.feature)]
            strength = np.nan_to_num(DIRECTIONS[rule.direction] * z_scores[:, position], nan=-np.inf)
            priority = len(rules) - position
            scores[:, position] = np.where(
                strength >= float(rule.min_z_score), _MATCH_BONUS + priority + _STRENGTH_WEIGHT * strength, _NO_MATCH
            )
            continue
        scores[:, position] -= 1e-6 * position
    scores[:, len(rules) :] = -1.0
    # Between equal choices (say two average segments and two fallbacks), the lower
    # segment_id takes the earlier candidate.
    scores += 1e-12 * np.outer(np.arange(n_segments), np.arange(scores.shape[1]))
    segments, candidates = linear_sum_assignment(scores, maximize=True)
    rows = []
    for segment, candidate in zip(segments, candidates, strict=True):
        rule = rules.iloc[candidate] if candidate < len(rules) else None
        rows.append(
            {
                "segment_id": int(segment) + 1,
                "segment_name": rule["segment_name"] if rule is not None else f"Segment {segment + 1}",
                "description": rule["description"]
                if rule is not None
                else "No naming rule matched this segment's profile.",
                "naming_rule": int(rule["rule_order"]) if rule is not None else None,
                "naming_z_score": z_scores[segment, candidate] if rule is not None else np.nan,
            }
        )
    return pd.DataFrame(rows)
