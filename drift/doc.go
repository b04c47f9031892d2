// Package drift holds the two-sample statistics normguard uses to detect
// drift between a reference and a current sample of a feature, each
// numerically identical to its scipy 1.10 / numpy 1.24 counterpart
// (statistics to about 1e-13 relative, p-values to about 1e-9).
//
// Numeric samples are []float64; NaN values (missing) are dropped before
// every statistic, ±Inf take part as numbers. A sample that is empty after
// dropping NaN gives a *SampleError wrapping ErrEmpty; nothing panics on
// user data.
//
// Methods (the names `normguard drift --method` takes), with their default
// thresholds:
//
//	name                kind      default      function (scipy counterpart)
//	ks                  test      p < 0.05     KS (stats.ks_2samp, method auto)
//	cramer_von_mises    test      p < 0.05     CramerVonMises (stats.cramervonmises_2samp)
//	anderson            test      p < 0.05     AndersonKSamp (stats.anderson_ksamp, midrank; p capped to [0.001, 0.25])
//	mann_whitney        test      p < 0.05     MannWhitneyU (stats.mannwhitneyu, two-sided)
//	t_test              test      p < 0.05     TTestWelch (stats.ttest_ind, equal_var=False)
//	chisquare           test      p < 0.05     Chi2Contingency (stats.chi2_contingency)
//	wasserstein         distance  > 0.1·σ_ref  Wasserstein (stats.wasserstein_distance)
//	energy              distance  > 0.1·σ_ref  Energy (stats.energy_distance)
//	wasserstein_normed  distance  > 0.1        WassersteinNormed (W1 / σ_ref)
//	psi                 distance  > 0.2        PSI (population stability index)
//	jensenshannon       distance  > 0.1        JensenShannon (spatial.distance.jensenshannon, base 2)
//	hellinger           distance  > 0.1        Hellinger
//	kl_div              distance  > 0.1        KLDivergence (KL(current ‖ reference), nats)
//	l_infinity          distance  > 0.1        LInfinity (max |p_i - q_i|)
//
// σ_ref is the population standard deviation (ddof = 0) of the reference:
// wasserstein and energy are in the feature's units, so their default
// threshold is 0.1 reference standard deviations (the same cut-off as
// wasserstein_normed); an explicit threshold is scaled the same way. A
// psi of 0.2 is the customary "significant shift" level; 0.1 for the
// bounded distances (jensenshannon, hellinger, l_infinity) flags a
// tenth of the probability mass moved.
//
// On numeric samples the binned methods (psi, jensenshannon, hellinger,
// kl_div, l_infinity, chisquare) count both samples in bins whose edges
// are the reference deciles with infinite ends (QuantileEdges, Histogram,
// numpy.histogram's [e_i, e_i+1) bins); psi and kl_div replace empty-bin
// proportions by 1e-4; chisquare leaves out bins empty in both samples.
// On categorical samples they compare category counts
// (CompareCategories), which also lists the categories new in the current
// sample.
//
// Text columns are judged by what they hold (profile.TextKind, the same
// rule at fit and on a reference data set, so that Compare and
// CompareProfile agree on the same data): a time column by the hour of
// the day and the day of the week of its values, an identifier column not
// at all (skipped, out of the drift share), any other by its top
// categories and "other", as the profile keeps them (see text.go).
//
// Against a stored profile (CompareProfile) the current data is first
// summarized against the profile (Summary: counts at up to about
// SummaryPoints points, moments, category counts; fixed size, merged
// exactly), and every statistic is read from the summary, so a monitor's
// window, replicas' windows merged and a Beam job give the numbers of the
// local command. The reference CDF is exact at the grid points and within
// the profile's largest CDF gap between them; ks lands within that gap,
// plus what it could reach inside one cell of the summary, of the exact
// two-sample statistic; each feature reports it as StatisticErrorBound.
package drift
