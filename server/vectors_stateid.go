package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
)

// A vector state's files carry its identity: a random id written in the
// marker, the snapshot and the journal's header. Another server's journal
// (or snapshot) copied beside a state's marker was taken as its own, its
// vectors reported as this server's and this one's lost unreported: two
// first-run servers' files held the same start number and generation
// (attack run 36 F1). A snapshot or journal of another id is refused at
// start naming the file, as the monitor store refuses another store's
// files; --state-recover leaves it out and counts the marker's vectors.

// stateID is the state's id; "" until one is read or made.
func (vw *vectorWindows) stateID() string {
	if id := vw.id.Load(); id != nil {
		return *id
	}
	return ""
}

// setStateID sets the state's id; "" leaves it unset.
func (vw *vectorWindows) setStateID(id string) {
	if id != "" {
		vw.id.Store(&id)
	}
}

// ensureStateID makes a random id for a state whose files hold none (a
// first start, or files written before they held one).
func (vw *vectorWindows) ensureStateID() {
	if vw.stateID() != "" {
		return
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	vw.setStateID(hex.EncodeToString(b[:]))
}

// claimStateID checks the id a file (what: "the snapshot X", "its journal
// X") holds against the state's: "" when they agree, or either is not
// known (the file's id is then the state's); otherwise what is wrong.
func (vw *vectorWindows) claimStateID(id, what string) string {
	cur := vw.stateID()
	if id == "" || cur == "" {
		vw.setStateID(id)
		return ""
	}
	if id == cur {
		return ""
	}
	return fmt.Sprintf("%s belongs to another vector state: it holds the state id %s, where this state's marker %s and files hold %s "+
		"(a file copied from another server's state folder); it was not read, so none of its vectors are taken as this state's. "+
		"Put this state's own file back", what, id, vw.markerPathBase(), cur)
}

// markerPathBase is the marker's file name.
func (vw *vectorWindows) markerPathBase() string {
	return filepath.Base(vw.markerPath())
}
