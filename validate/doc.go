// Package validate finds schema and data anomalies of a data set against
// an artifact's inputs and training profile, in the manner of TensorFlow
// Data Validation: columns that are missing or unexpected, values of the
// wrong type, and missing, out-of-range, unseen-category, constant or empty
// columns.
//
// Every anomaly follows from counts a reader can check: the training side
// comes from the artifact's profile, the current side from the data. The
// rules, per column the artifact reads:
//
//	missing_column      the column is not in the data (error)
//	unexpected_column   a data column the artifact does not read, reported
//	                    when the spec's remainder is passthrough (the
//	                    training data had no such column) or when its name
//	                    is close to a missing column's (a renamed header);
//	                    past MaxListed such columns, the renamed headers
//	                    keep one each and the others make one anomaly
//	                    with Count and the first MaxListed names (Columns)
//	type_change         numeric: any present cell that is not a number
//	                    (the transform cannot read the file; error); time:
//	                    the share of values that no longer parse with the
//	                    training layout, by the rate rule
//	missing_rate_change missing cells / rows, by the rate rule
//	out_of_range        present values outside the training [min, max]:
//	                    p = P(K >= k) when training and current values are
//	                    exchangeable (ExceedanceP), training share 0
//	unseen_categories   present values outside the training categories,
//	                    only where those are known completely (the
//	                    profile's category list has no "other" count, or an
//	                    encoder's fitted categories less an imputer's fill
//	                    value the raw data never held), never for identifier
//	                    columns; the training share is the leave-one-out
//	                    rate of unseen values (categories seen once /
//	                    values, Good–Turing), by the rate rule; any
//	                    unseen value when the column's encoder has
//	                    handle_unknown: error (the transform fails; error)
//	other_categories    where the training categories are not known
//	                    completely: present values outside the profile's
//	                    settled top categories (SettledSet: clearly above
//	                    its cut) vs the training share outside them, by
//	                    the rate rule (it cannot say whether they are new)
//	constant_column     several values at training, one now among m >= 5
//	                    present values (MinConstantValues), when the chance of m equal draws
//	                    from the training distribution, bounded by
//	                    pmax^(m-1) (AllEqualP), is below Alpha
//	empty_column        every value missing now, present at training, when
//	                    (training missing rate)^rows < Alpha (error)
//
// The rate rule asks for a test and an effect size, as drift's method auto
// does, so that a million rows do not flag a harmless difference and ten
// rows do not flag noise: a share differs when Fisher's exact test on the
// 2×2 table of counts (training vs current) gives p < Alpha (0.05) AND
// Cohen's h = |2 asin √p1 − 2 asin √p2| >= MinEffect (0.2, a "small"
// effect; 0% → 1% is 0.20, 24% → 8% is 0.45, 40% → 45% is 0.10). For
// out_of_range the exceedance test replaces Fisher's, with the same floor
// on h. Each anomaly carries its counts, p-value and effect size.
//
// An empty data set, a column the profile does not describe, or an
// artifact without a profile is an error, never a clean report.
package validate
