package artifact

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/normguard/normguard/profile"
)

// MaxColumnBytes bounds each element of an artifact a reader decodes
// whole that no other bound covers: a profile column (an entry of
// "profile"'s "inputs" or "outputs") and an output field (an entry of
// "outputs"), measured as the bytes of the value in the file, from its
// opening brace to its closing one, before it is decoded. Decoding one
// costs several times its bytes (a damaged 100 MB quantiles array in one
// profile column grew an upload by about five times that), so both
// readers refuse one past the bound: Verify as its decoder reads it (the
// decoder is not given the bytes past the bound), Decode before it
// decodes the column. The largest a fit writes is a categorical column's
// profile: its TopCategories (100) most frequent values, each at most
// MaxStringBytes (64 KiB), one a line, with their counts: about 6.6 MB; a
// numeric column's GridSize quantiles and CDF, HistogramBins bins and
// summary take a few tens of kilobytes, an output field a name and a
// type. fit refuses an artifact past the bound before it is written
// (Save, EncodeChecked).
const MaxColumnBytes = 8 << 20

// MaxDepth bounds how deeply an artifact's arrays and objects nest: an
// artifact fit writes nests about a dozen levels (groups[0].steps[0]
// .fitted.categories_[0] is seven). Both readers refuse, while they scan
// the file and before they decode the value, the array or object that
// opens one level past it, naming its path.
const MaxDepth = 64

// maxColumnBytes and maxDepth are MaxColumnBytes and MaxDepth, lowered
// by tests.
var (
	maxColumnBytes int64 = MaxColumnBytes
	maxDepth             = MaxDepth
)

// embeddingLimit is the most bytes an embedding (an entry of
// "embeddings") may take: its reference sample (at most maxSampleBytes)
// and maxColumnBytes for the rest of its contract (its dimension
// columns' names, its profile's per-dimension arrays and canaries: about
// 0.5 MB at 4,096 dimensions).
func embeddingLimit() int64 { return maxSampleBytes + maxColumnBytes }

// embeddingTooLarge is the refusal of embeddings[i] over embeddingLimit.
func embeddingTooLarge(i int) error {
	return bad(fmt.Sprintf("embeddings[%d]", i), "more than the %d bytes an embedding may hold (artifact.MaxSampleBytes for its sample and artifact.MaxColumnBytes for the rest)", embeddingLimit())
}

// columnTooLarge is the refusal of the profile column or output field at
// path over maxColumnBytes.
func columnTooLarge(path string) error {
	what := "a profile column"
	if path[0] == 'o' { // outputs[i]
		what = "an output field"
	}
	return bad(path, "more than the %d bytes %s may hold (artifact.MaxColumnBytes: a fitted column's profile takes at most about 6.6 MB)", maxColumnBytes, what)
}

// errElementBound is the read error of Verify's decoder asked for bytes
// past the bound of the element it decodes.
var errElementBound = errors.New("element past its bound")

// boundedElement runs decode, which decodes one array element (a profile
// column or an output field) with v's decoder, refusing with an
// *overBound (tooLarge()) one whose value takes more than limit bytes of
// the file. The decoder is not given the bytes past the element's
// bound: an element that needs them is refused as the decoder asks for
// them, before it holds them. The value's exact start (past the
// separator and white space) is only looked up for an element that took
// nearly the bound.
func (v *streamVerifier) boundedElement(limit int64, tooLarge func() error, decode func() error) error {
	before := v.offset()
	if v.sr == nil {
		return decode()
	}
	// The value starts after at most two runs of white space (each at
	// most maxStringBytes, or the scan refuses it) around a comma.
	v.sr.limit = before - v.base + limit + 2*maxStringBytes + 1
	err := decode()
	v.sr.limit = 0
	if errors.Is(err, errElementBound) {
		return &overBound{tooLarge()}
	}
	if err != nil {
		return err
	}
	if end := v.offset(); end-before > limit {
		start, serr := v.skipBytes(before, ", \t\r\n")
		if serr == nil && end-start > limit {
			return &overBound{tooLarge()}
		}
	}
	return nil
}

// checkColumns returns an error naming the first output field, embedding
// or profile column of a whose encoding passes its bound (maxColumnBytes,
// embeddingLimit: what Verify and Decode refuse).
func checkColumns(a *Artifact) error {
	size := func(v reflect.Value, depth int) int64 {
		var n countingWriter
		e := &canonicalEncoder{w: &n}
		e.value(v, depth)
		return int64(n)
	}
	over := func(path string, n int64) error {
		return bad(path, "%d bytes in the artifact, more than the %d a profile column or output field may hold (artifact.MaxColumnBytes)", n, maxColumnBytes)
	}
	for i := range a.Outputs {
		if n := size(reflect.ValueOf(&a.Outputs[i]).Elem(), 2); n > maxColumnBytes {
			return over(fmt.Sprintf("outputs[%d]", i), n)
		}
	}
	for i := range a.Embeddings {
		if n := size(reflect.ValueOf(&a.Embeddings[i]).Elem(), 2); n > embeddingLimit() {
			return bad(fmt.Sprintf("embeddings[%d]", i), "%d bytes in the artifact, more than the %d an embedding may hold (artifact.MaxSampleBytes for its sample and artifact.MaxColumnBytes for the rest)", n, embeddingLimit())
		}
	}
	if a.Profile == nil {
		return nil
	}
	for side, feats := range [][]profile.Feature{a.Profile.Inputs, a.Profile.Outputs} {
		for i := range feats {
			if n := size(reflect.ValueOf(&feats[i]).Elem(), 3); n > maxColumnBytes {
				return over(fmt.Sprintf("profile.%s[%d]", [2]string{"inputs", "outputs"}[side], i), n)
			}
		}
	}
	return nil
}
