package server

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

// TestPartialBatchCountsFromData (attack run 27 F6): a batch whose "rows"
// key was damaged was reported lost with 0 vectors ("vectors_lost=0"),
// where its 30 were lost. A column's vectors are counted from its data
// and dimension where its rows cannot be read or disagree with them, and
// said unknown where neither can.
func TestPartialBatchCountsFromData(t *testing.T) {
	data := base64.StdEncoding.EncodeToString(make([]byte, 30*8*8))
	frame := func(cols string) []byte {
		return []byte(`{"model":"m","version":"1","producer":"w1","start":"2026-12-04T10:00:00Z","end":"2026-12-04T11:00:00Z","columns":[` + cols + `]}`)
	}
	for _, tc := range []struct {
		cols string
		want int64
	}{
		{fmt.Sprintf(`{"column":"emb","missing":0,"rows":30,"dimension":8,"data":%q}`, data), 30},
		{fmt.Sprintf(`{"column":"emb","missing":0,"r\u007fws":30,"dimension":8,"data":%q}`, data), 30}, // the key flipped
		{fmt.Sprintf(`{"column":"emb","missing":0,"rows":3,"dimension":8,"data":%q}`, data), 30},       // the count flipped
		{`{"column":"emb","missing":0,"r\u007fws":30,"dimension":8,"data":"@@@"}`, -1},                 // neither readable
		{fmt.Sprintf(`{"column":"a","rows":30,"dimension":8,"data":%q},{"column":"b","rows":2,"dimension":8,"data":"@"}`, data), 32},
	} {
		name, rows, ok := partialBatch(frame(tc.cols))
		if !ok || rows != tc.want || !strings.Contains(name, `producer "w1"`) {
			t.Errorf("%.80s: %q %d %v; want %d vectors", tc.cols, name, rows, ok, tc.want)
		}
	}
	if s := lostCount(-1); !strings.Contains(s, "unknown") {
		t.Errorf("an unknown count reads %q", s)
	}
	d := &vectorDamage{lost: map[string]int64{}}
	d.addLost("b", 5)
	d.addLost("b", -1)
	d.addLost("b", 7)
	if d.lost["b"] != -1 {
		t.Errorf("a known and an unknown count add to %d; want unknown (-1)", d.lost["b"])
	}
}
