package monitor

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestExportCheck2Duplicates: the same replica's window state given twice
// is refused, naming both exports: two exports naming the same store (a
// service's answers), or with equal content when one names no store (an
// export file given twice, a copy of it, the same export with and
// without its digest); two stores' exports of equal content (replicas fed
// the same rows) merge, as do exports of distinct content.
func TestExportCheck2Duplicates(t *testing.T) {
	a, ex := checkedExport(t)
	copyOf := func(ex *Export, name, store string) *Export {
		c := *ex
		c.Name, c.Store = name, store
		return &c
	}
	var de *DuplicateError
	_, err := MergeExports(a, []*Export{copyOf(ex, "a.json", ""), copyOf(ex, "b.json", "")})
	if !errors.As(err, &de) || !errors.Is(err, ErrDuplicateExport) || de.Exports != [2]string{"a.json", "b.json"} || de.Store != "" ||
		!strings.Contains(err.Error(), "a.json and b.json hold the same window state") || !strings.Contains(err.Error(), "count twice") {
		t.Errorf("equal content: got %v, want a *DuplicateError naming a.json and b.json", err)
	}
	// without its digest (an export from before digests) and with it
	old, err := ReadExport(bytes.NewReader(plainJSON(t, ex)), "old.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MergeExports(a, []*Export{old, ex}); !errors.As(err, &de) || de.Exports != [2]string{"old.json", "x.json"} {
		t.Errorf("with and without its digest: got %v, want a *DuplicateError", err)
	}
	// one names its store, the other not
	if _, err := MergeExports(a, []*Export{copyOf(ex, "a.json", "s1"), copyOf(ex, "b.json", "")}); !errors.As(err, &de) {
		t.Errorf("equal content, one store: got %v, want a *DuplicateError", err)
	}
	// the same store
	_, err = MergeExports(a, []*Export{copyOf(ex, "a.json", "s1"), copyOf(ex, "b.json", "s1")})
	if !errors.As(err, &de) || de.Store != "s1" || !strings.Contains(err.Error(), "a.json and b.json are window state of the same monitoring store (id s1)") {
		t.Errorf("the same store: got %v, want a *DuplicateError naming store s1", err)
	}
	// two stores, equal content: two replicas fed the same rows
	if _, err := MergeExports(a, []*Export{copyOf(ex, "a.json", "s1"), copyOf(ex, "b.json", "s2")}); err != nil {
		t.Errorf("two stores: %v", err)
	}
	// CheckDuplicates alone, and exports without rows are not compared
	empty := &Export{Format: 1, Bins: ex.Bins, Windows: []ExportWindow{}}
	if err := CheckDuplicates([]*Export{empty, empty}); err != nil {
		t.Errorf("empty exports: %v", err)
	}
	if err := CheckDuplicates([]*Export{copyOf(ex, "", ""), copyOf(ex, "", "")}); !errors.As(err, &de) || de.Exports != [2]string{"export 1", "export 2"} {
		t.Errorf("unnamed: got %v", err)
	}
}

// TestExportCheck2StoreRoundTrip: a store and instance named by a service
// are in the export's content (its digest covers them) and read back.
func TestExportCheck2StoreRoundTrip(t *testing.T) {
	_, ex := checkedExport(t)
	m := openTest(t, "", testOptions(newClock(t0)))
	id := m.StoreID()
	if len(id) != 32 || m.StoreID() != id {
		t.Fatalf("store id %q, want 32 hex digits, stable", id)
	}
	ex.Store, ex.Instance = id, "i1"
	b, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ReadExport(bytes.NewReader(b), "s.json")
	if err != nil {
		t.Fatal(err)
	}
	if back.Store != id || back.Instance != "i1" {
		t.Errorf("read back store %q instance %q", back.Store, back.Instance)
	}
	edited := bytes.Replace(b, []byte(`"instance":"i1"`), []byte(`"instance":"i2"`), 1)
	if _, err := ReadExport(bytes.NewReader(edited), "s.json"); !errors.Is(err, ErrInvalidExport) {
		t.Errorf("instance edited without the digest: got %v, want a refusal", err)
	}
}
