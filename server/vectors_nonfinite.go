package server

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// JSON has no NaN or infinity, and the vector state holds float64s that
// can be either (a checker's sums overflow on vectors of huge values, a
// norm past the float64 range is +Inf). The snapshot keeps them bit for
// bit beside the JSON: stripNonFinite returns a copy of a value with each
// such float set to 0 and lists where it was and its bits;
// restoreNonFinite puts them back into the value decoded from the JSON.

// nonFiniteAt is one NaN or infinite float64 of a snapshot: the Go field
// names, slice indices and map keys leading to it, and its bits.
type nonFiniteAt struct {
	Path []string `json:"path"`
	Bits string   `json:"bits"` // 16 hex digits
}

// stripNonFinite returns v (a struct value) with every NaN or infinite
// float reachable from it set to 0, copying what it changes (v and what it
// refers to are never written), and where they were.
func stripNonFinite(v any) (any, []nonFiniteAt) {
	var out []nonFiniteAt
	nv, changed := strip(reflect.ValueOf(v), nil, &out)
	if !changed {
		return v, nil
	}
	return nv.Interface(), out
}

func strip(v reflect.Value, path []string, out *[]nonFiniteAt) (reflect.Value, bool) {
	at := func(s string) []string { return append(path[:len(path):len(path)], s) }
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			return v, false
		}
		bits := math.Float64bits(x)
		if v.Kind() == reflect.Float32 {
			bits = uint64(math.Float32bits(float32(x)))
		}
		*out = append(*out, nonFiniteAt{Path: path, Bits: fmt.Sprintf("%016x", bits)})
		return reflect.Zero(v.Type()), true
	case reflect.Pointer:
		if v.IsNil() {
			return v, false
		}
		e, changed := strip(v.Elem(), path, out)
		if !changed {
			return v, false
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(e)
		return p, true
	case reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		e, changed := strip(v.Elem(), path, out)
		if !changed {
			return v, false
		}
		i := reflect.New(v.Type()).Elem()
		i.Set(e)
		return i, true
	case reflect.Struct:
		var cp reflect.Value
		t := v.Type()
		for i := range t.NumField() {
			if !t.Field(i).IsExported() {
				continue
			}
			f, changed := strip(v.Field(i), at(t.Field(i).Name), out)
			if !changed {
				continue
			}
			if !cp.IsValid() {
				cp = reflect.New(t).Elem()
				cp.Set(v)
			}
			cp.Field(i).Set(f)
		}
		if !cp.IsValid() {
			return v, false
		}
		return cp, true
	case reflect.Slice, reflect.Array:
		var cp reflect.Value
		for i := range v.Len() {
			e, changed := strip(v.Index(i), at(strconv.Itoa(i)), out)
			if !changed {
				continue
			}
			if !cp.IsValid() {
				if v.Kind() == reflect.Slice {
					cp = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
					reflect.Copy(cp, v)
				} else {
					cp = reflect.New(v.Type()).Elem()
					cp.Set(v)
				}
			}
			cp.Index(i).Set(e)
		}
		if !cp.IsValid() {
			return v, false
		}
		return cp, true
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String {
			return v, false
		}
		var cp reflect.Value
		keys := v.MapKeys() // in order, so that the list is the same for the same value
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			e, changed := strip(v.MapIndex(k), at(k.String()), out)
			if !changed {
				continue
			}
			if !cp.IsValid() {
				cp = reflect.MakeMapWithSize(v.Type(), v.Len())
				it2 := v.MapRange()
				for it2.Next() {
					cp.SetMapIndex(it2.Key(), it2.Value())
				}
			}
			cp.SetMapIndex(k, e)
		}
		if !cp.IsValid() {
			return v, false
		}
		return cp, true
	}
	return v, false
}

// restoreNonFinite sets each listed float in *ptr (as decoded from the
// JSON stripNonFinite's copy was written to) back to its bits. A path
// that leads nowhere, or to something other than a 0 float, is an error:
// the file does not match itself.
func restoreNonFinite(ptr any, list []nonFiniteAt) error {
	root := reflect.ValueOf(ptr).Elem()
	for _, nf := range list {
		bits, err := strconv.ParseUint(nf.Bits, 16, 64)
		if err != nil || len(nf.Bits) != 16 {
			return fmt.Errorf("non_finite %v: bits %q", nf.Path, nf.Bits)
		}
		if err := setAt(root, nf.Path, bits); err != nil {
			return fmt.Errorf("non_finite %v: %v", nf.Path, err)
		}
	}
	return nil
}

// setAt sets the float at path under v (addressable) to bits.
func setAt(v reflect.Value, path []string, bits uint64) error {
	switch v.Kind() {
	case reflect.Float64:
		if x := math.Float64frombits(bits); len(path) != 0 || v.Float() != 0 || !(math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("not a zero float where the path ends, or %016x is finite", bits)
		}
		v.SetFloat(math.Float64frombits(bits))
		return nil
	case reflect.Float32:
		if x := float64(math.Float32frombits(uint32(bits))); len(path) != 0 || v.Float() != 0 || bits>>32 != 0 || !(math.IsNaN(x) || math.IsInf(x, 0)) {
			return fmt.Errorf("not a zero float32 where the path ends")
		}
		v.Set(reflect.ValueOf(math.Float32frombits(uint32(bits))).Convert(v.Type()))
		return nil
	case reflect.Pointer:
		if v.IsNil() {
			return fmt.Errorf("nil pointer")
		}
		return setAt(v.Elem(), path, bits)
	case reflect.Interface:
		if v.IsNil() {
			return fmt.Errorf("nil value")
		}
		e := reflect.New(v.Elem().Type()).Elem()
		e.Set(v.Elem())
		if err := setAt(e, path, bits); err != nil {
			return err
		}
		v.Set(e)
		return nil
	}
	if len(path) == 0 {
		return fmt.Errorf("the path ends at a %s", v.Kind())
	}
	switch v.Kind() {
	case reflect.Struct:
		f, ok := v.Type().FieldByName(path[0])
		if !ok || !f.IsExported() || len(f.Index) != 1 {
			return fmt.Errorf("no field %q", path[0])
		}
		return setAt(v.Field(f.Index[0]), path[1:], bits)
	case reflect.Slice, reflect.Array:
		i, err := strconv.Atoi(path[0])
		if err != nil || i < 0 || i >= v.Len() {
			return fmt.Errorf("no index %q of %d", path[0], v.Len())
		}
		return setAt(v.Index(i), path[1:], bits)
	case reflect.Map:
		if v.IsNil() || v.Type().Key().Kind() != reflect.String {
			return fmt.Errorf("no map")
		}
		k := reflect.ValueOf(path[0]).Convert(v.Type().Key())
		e := v.MapIndex(k)
		if !e.IsValid() {
			return fmt.Errorf("no key %q", path[0])
		}
		cp := reflect.New(e.Type()).Elem()
		cp.Set(e)
		if err := setAt(cp, path[1:], bits); err != nil {
			return err
		}
		v.SetMapIndex(k, cp)
		return nil
	}
	return fmt.Errorf("cannot index a %s", v.Kind())
}
