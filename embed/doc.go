// Package embed is the numerical core of normguard's vector columns
// (embeddings): a contract that says what the vectors written to a vector
// store look like, checks of new vectors against it, and embedding drift.
// It uses the standard library (and normguard's stats) only.
//
// # Contract
//
// Fit (or a Fitter fed batch by batch) returns a Contract: dimension,
// dtype, producing model and revision, the store's metric (cosine, dot,
// l2), whether vectors are unit length, canary vectors, and a Profile:
//
//	count, zero_count        vectors fitted, vectors that are all 0
//	norms                    ‖x‖₂ of the non-zero vectors: min, max, mean, std (ddof 0),
//	                         quantiles at NormQuantileProbs (numpy linear), the share
//	                         within unit_tolerance of 1, a histogram on fixed bins
//	mean, std                per dimension (the mean vector; std with ddof 0)
//	components               the k = 10 leading principal directions (unit vectors)
//	                         and the variance along each; total_variance = tr(Σ)
//	float16_share,           shares of the non-zero values exactly representable
//	bfloat16_share           in IEEE binary16 and in bfloat16
//	sample, seed             a seeded uniform sample of 500 vectors
//
// Count, zero_count, norms, mean, std and the exact shares are over every
// fitted vector. The components come from a seeded uniform sample of at
// most 2,000 of the vectors with an even row number (reservoir sampling,
// Vitter's Algorithm R), and component_share, the share of the total
// variance along them, Σ_k Var(v_k·x) / Σ_a Var(x_a), is measured on a
// like sample of the odd rows: the directions overfit the sample they
// were found on (with 50 vectors in 100 dimensions, badly), so the share
// that fresh vectors of the same population keep is measured on vectors
// held out (at least 50, else the share is 0 and model_swapped relies on
// canaries). The components are the leading invariant subspace of the
// even sample's covariance C = (1/n) Σ (xᵢ−x̄)(xᵢ−x̄)ᵀ, found by
// subspace iteration on k+10 columns with a Rayleigh–Ritz step per
// iteration until the sum of the k leading Ritz values moves less than
// 1e-12·tr(C); each direction's largest entry is made positive. The
// stored sample of 500 is a seeded subset of the two samples together:
// enough for the MMD test, the classifier and the dimension share to see
// a shift against it, and small enough that a 768-d contract's sample
// stays under 8 MB of JSON. Everything is accumulated row by row in
// input order, so the contract does not depend on how the rows were
// split into batches, nor on the number of cores.
//
// NaN or ±Inf values at fit are an error naming the row and dimension,
// and so are values too large to compare: a vector whose squared norm
// ‖x‖² is past MaxSquaredNorm = MaxFloat64/4 (‖x‖ above about 6.7e153),
// beyond which the squared distance of two vectors, at most
// 4·max(‖x‖², ‖y‖²), overflows float64. Fit, Drift and DriftFromContract
// refuse such vectors (ErrInvalid), and any statistic that still
// overflows summed over many rows (a spread, a variance, the principal
// directions, the classifier's standardization): no contract and no drift
// verdict rests on a statistic that is not finite.
// The vectors are unit length (unit_length, inferred unless FitOptions.Unit
// says) when every non-zero norm is within unit_tolerance = 0.01 of 1:
// storing a unit vector as float16 or bfloat16 moves its norm by less
// than 2⁻⁸ (0.004), while a vector 1% off unit length already shifts
// every cosine or inner-product score by 1%.
//
// # Verdicts
//
// Check (or a Checker, which merges across batches, shards and service
// windows in memory independent of the row count) returns findings, each
// with a code, a message, a fix and its evidence. n is the number of
// finite non-zero vectors; "exceeds k at rate p" means k > n·p and the
// exact binomial tail P(X ≥ k), X ~ Binomial(n, p), is below Φ(−4) =
// 3.2e-5 (as rare as 4 standard deviations of a normal: clean data
// alarms with probability below 1e-4 per check, also when n·p is far
// below 1, where the normal approximation is not), and a rate never seen
// at fit is taken as the rule-of-three bound 3/N where that is how
// sampling noise enters.
//
//	dimension_mismatch          the dimension differs from the contract's
//	nan_vectors                 any vector holds NaN or ±Inf, or is too large
//	                            to compare (‖x‖² past MaxSquaredNorm) (rows named)
//	zero_vectors                all-zero vectors exceed the fitted zero rate
//	                            (any, when the fit had none)
//	truncated_not_renormalized  unit contract, fewer dimensions d′, most vectors
//	                            off unit length, and the mean squared norm within
//	                            10% of Σ_{a<d′} (meanₐ² + stdₐ²), the energy of the
//	                            contract's first d′ dimensions (below 1)
//	not_normalized              unit contract: vectors off unit length exceed the
//	                            fitted rate and the unit ones are fewer than 5% or
//	                            do not form a spike (below); raw contract, same
//	                            dimension: out-of-range norms (outside the fitted
//	                            [min/1.25, max·1.25]) exceed the rate 2/(N+1), and
//	                            they are 95% or more, or the share that could
//	                            follow the fitted norm distribution (like, below)
//	                            is under a quarter of the share inside the range:
//	                            scaled or normalized another way, as a whole
//	mixed_normalization         unit contract: off-unit vectors exceed the fitted
//	                            rate while 5% or more are unit and form a spike;
//	                            raw contract: unit vectors exceed the fitted rate
//	                            (rule of three) and form a spike but are fewer
//	                            than 95%, or out-of-range norms exceed the rate
//	                            2/(N+1), are fewer than 95%, and like is at least
//	                            a quarter of the share inside the range
//	normalized_unexpectedly     raw contract: unit vectors exceed the fitted rate
//	                            and are 95% or more
//	metric_mismatch             metric dot, unit contract, and vectors off unit
//	                            length: the store's inner product is no longer the
//	                            cosine similarity it was built to rank by
//	precision_loss              90% or more of the non-zero values (at least 100)
//	                            are exact bfloat16 (checked first) or float16
//	                            values while at most 50% were at fit (a float32
//	                            value is exact float16 with probability ~2⁻¹³)
//	model_swapped               a canary's cosine with its stored vector is below
//	                            0.99; or, with the same dimension and at least 50
//	                            vectors, the current variance along the contract's
//	                            k directions has lost its structure:
//	                              q_ref = component_share,  q_cur = Σ var(v·x) / tr(Σ_cur),
//	                              base = k/d (what a random k-dim subspace holds),
//	                              excess = (q_cur − base)/(q_ref − base) < 0.25
//	                            (only when q_ref − base ≥ 0.05 and q_ref was
//	                            measured). The evidence adds
//	                            the mean vector's shift in units of sampling noise,
//	                            √(tr Σ_ref (1/n + 1/N)), and the norms.
//
// A spike: the u norms within the tolerance of 1 stand out of the m other
// norms in the histogram bins around 1 (width w): u > 1.5·r·m +
// 4·√(r·m·(1+r)), r = 2·tol/(w − 2·tol), what a smooth density would put
// within the tolerance (raw norms spread across 1 put some there by
// chance; norms peaked at 1 up to 1.5 times the window's mean density).
// like bounds the share of vectors whose norms could come from the
// contract's: min over the intervals between the fitted 5, 25, 50, 75
// and 95% norm quantiles of count/(n·probability); a mixed store keeps it
// near its contract-like share, a store scaled as a whole near 0. Both
// read the norm histogram (linear inside a bin). A raw contract's norm
// range applies to vectors of its dimension only.
//
// Medians in the evidence are read from the fixed-bin norm histogram
// (within a bin's 7.5% width); counts, shares, means and extremes are
// exact.
//
// On 100-d GloVe vectors a rotated copy gives excess ≈ 0.01, a clean
// split 0.9, and frequent against rare words (a real shift of the
// population, not another model) 0.4–0.5.
//
// # Drift
//
// Drift(ref, cur) and DriftFromContract (the contract's sample as ref,
// its full mean vector for the mean distances) compute, for a seed:
//
//	samples         at most 1,000 vectors per side (DriftOptions.SampleSize), drawn
//	                uniformly without replacement by a partial Fisher–Yates shuffle
//	                (PCG seeded by Seed), kept in input order; all vectors when fewer
//	MMD²            unbiased (Gretton et al. 2012, eq. 3) on the two samples,
//	                  MMD²ᵤ = Σ_{i≠j} k(xᵢ,xⱼ)/(m(m−1)) + Σ_{i≠j} k(yᵢ,yⱼ)/(n(n−1))
//	                          − 2 Σ_{i,j} k(xᵢ,yⱼ)/(mn),
//	                with k(a,b) = exp(−‖a−b‖²/h) and h the median heuristic: the
//	                median (numpy.quantile 0.5) of ‖zᵢ−zⱼ‖² over the distinct pairs
//	                i < j of the pooled sample z (1 if that median is 0). Bandwidth
//	                reports σ = √(h/2), so that k = exp(−‖a−b‖²/(2σ²)).
//	p-value         (1 + #{b : MMD²_b ≥ MMD²}) / (1 + B) over B = 200 permutations
//	                of the pooled labels (permutation b uses PCG stream (Seed, b+1));
//	                Drift is p < Alpha = 0.05. 200 permutations resolve p down to
//	                1/201 ≈ 0.005, ten times finer than Alpha; each costs one pass
//	                over the pairs inside one group. 1,000 vectors per side keep
//	                the pairwise matrix at 16 MB (2 × 5,000 at most: 400 MB)
//	dimension share the share of dimensions whose wasserstein_normed, scipy's
//	                wasserstein_distance(refₐ, curₐ) / numpy.std(refₐ) on the two
//	                samples, exceeds 0.1 (the drift package's default for
//	                wasserstein_normed). Sampling noise alone gives about 1.8/√n
//	                between two samples of n from one normal distribution: at the
//	                default 1,000 per side about 1% of clean dimensions exceed 0.1,
//	                at 200 per side about a third; read the share with the sizes.
//	mean distances  ‖μ_cur − μ_ref‖₂ and 1 − cos(μ_ref, μ_cur) over all vectors
//	                (cosine distance 0 if both means are zero, 1 if one is)
//	domain AUC      each sample split by a seeded shuffle into a training half
//	                (the first ⌈size/2⌉) and a held-out half; every dimension
//	                standardized by the training rows' mean and std (ddof 0; 1 if
//	                0); L2-regularized logistic regression, current = positive,
//	                  min ½‖w‖² + C Σ log(1 + exp(−yᵢ(w·xᵢ + b))),  C = 1,
//	                intercept unpenalized (scikit-learn 1.2 LogisticRegression(C=1)),
//	                solved by Newton–CG to max|∇| ≤ 1e-10·max(1, n); the ROC AUC
//	                of w·x + b on the held-out rows by the Mann–Whitney rank sum
//	                with midranks (= sklearn's roc_auc_score). 0.5 means the two
//	                sets cannot be told apart.
//
// Every number equals a numpy / scipy / scikit-learn computation on the
// same samples within 1e-9 (testdata/reference.py). The pairwise squared
// distances are computed as ‖zᵢ‖² + ‖zⱼ‖² − 2zᵢ·zⱼ (clamped at 0) in
// 64×64 tiles over the cores, each entry by one dot product in a fixed
// order; each permutation costs one pass over the pairs inside one group
// (the other sums follow from the kernel's row sums), so MMD on 2 × 2,000
// vectors needs no per-pair allocation and its result does not depend on
// the number of cores.
package embed
