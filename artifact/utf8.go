package artifact

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// InvalidText returns the JSON path of the first string of a that is not
// valid UTF-8 text, with the string; "" when every string is. Such a
// string cannot round-trip: JSON holds text, so a reader gets another
// string than the one the digest was taken over, and refuses the file as
// changed after it was written (attack run 27 F7: a Latin-1 CSV fitted,
// exit 0, into an artifact every reader refused). Fit calls it before
// writing.
func InvalidText(a *Artifact) (path, value string) {
	w := textWalker{}
	w.walk(reflect.ValueOf(a), "")
	return w.path, w.value
}

type textWalker struct {
	path, value string
	found       bool
}

func (w *textWalker) walk(v reflect.Value, path string) {
	if w.found || !v.IsValid() {
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			w.walk(v.Elem(), path)
		}
	case reflect.String:
		if s := v.String(); !utf8.ValidString(s) {
			w.path, w.value, w.found = strings.TrimPrefix(path, "."), s, true
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := f.Name
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == "-" {
				continue
			} else if tag != "" {
				name = tag
			}
			w.walk(v.Field(i), path+"."+name)
		}
	case reflect.Slice, reflect.Array:
		if !holdsText(v.Type().Elem()) {
			return // numbers: nothing to check, however many
		}
		for i := range v.Len() {
			w.walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			k := iter.Key()
			if k.Kind() == reflect.String && !utf8.ValidString(k.String()) {
				w.path, w.value, w.found = strings.TrimPrefix(path, "."), k.String(), true
				return
			}
			w.walk(iter.Value(), fmt.Sprintf("%s.%v", path, k))
		}
	}
}

// holdsText tells whether values of type t may hold a string.
func holdsText(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true
}
