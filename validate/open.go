package validate

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/normguard/normguard/artifact"
	"github.com/normguard/normguard/table"
)

// OpenFor opens the data file at path to be read for the artifact a, as
// table.Open does, with one exception: a .npy file, which holds one vector
// column named after the file's stem (emb.npy holds "emb"), is read as
// the artifact's vector column when the artifact has exactly one, whatever
// the file's name (store_dump.npy is read as "emb"): there is no other
// column it can be meant as. With no or several vector columns (or a nil
// a), the stem names the column.
func OpenFor(path string, a *artifact.Artifact) (table.Reader, error) {
	if a != nil && len(a.Embeddings) == 1 && isNPY(path) {
		return table.OpenNPY(path, table.NPYOptions{Column: a.Embeddings[0].Column})
	}
	return table.Open(path)
}

// isNPY reports whether path names a .npy file (table.FormatOf).
func isNPY(path string) bool {
	f, err := table.FormatOf(path)
	return err == nil && f == table.FormatNPY
}

// MissingVectorColumn returns the error for a data file that lacks the
// artifact's vector column name: it names the artifact's vector columns,
// the file's columns, and how a column gets its name (a .npy file's is
// the file's stem), so that the fix is the name, not the spec (attack
// run 18 F6).
func MissingVectorColumn(path string, a *artifact.Artifact, name string) error {
	var vecs []string
	for _, e := range a.Embeddings {
		vecs = append(vecs, strconv.Quote(e.Column))
	}
	which := "the artifact's vector column"
	if len(vecs) > 1 {
		which = fmt.Sprintf("a vector column of the artifact (%s)", strings.Join(vecs, ", "))
	}
	if isNPY(path) {
		base := filepath.Base(path)
		stem := strings.TrimSuffix(base, filepath.Ext(base))
		return fmt.Errorf("%s has no column %q, %s: a .npy file holds one vector column named after the file, here %q; rename the file %s.npy to read it as %q",
			path, name, which, stem, name, name)
	}
	cols := ""
	if r, err := table.Open(path); err == nil {
		h := r.Header()
		r.Close()
		var q []string
		for i, c := range h {
			if i == 10 {
				q = append(q, fmt.Sprintf("... %d more", len(h)-i))
				break
			}
			q = append(q, strconv.Quote(c))
		}
		cols = fmt.Sprintf(" (its columns: %s)", strings.Join(q, ", "))
	}
	return fmt.Errorf("%s has no column %q, %s%s; write the vectors under the name %q (a JSON Lines key or a Parquet column; a .npy file is named after its column, %s.npy)",
		path, name, which, cols, name, name)
}
