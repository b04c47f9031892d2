package spec

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// nodeWords says what a YAML node holds in the spec writer's terms: its
// text quoted for a scalar, "a list" or "a mapping" otherwise (attack run
// 35 F5: `type: [numeric]` was reported as got "").
func nodeWords(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	return fmt.Sprintf("%q", v.Value)
}

// valueWords says what a decoded parameter value is, as nodeWords does,
// where %v printed Go's map and slice syntax (map[a:b]).
func valueWords(x any) string {
	if x == nil {
		return "null"
	}
	switch reflect.TypeOf(x).Kind() {
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		// A short list of numbers or words is shown, as written.
		rv := reflect.ValueOf(x)
		if rv.Len() == 0 || rv.Len() > 8 {
			return "a list"
		}
		parts := make([]string, rv.Len())
		for i := range parts {
			e := rv.Index(i)
			for e.Kind() == reflect.Interface && !e.IsNil() {
				e = e.Elem()
			}
			switch e.Kind() {
			case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int64, reflect.Bool:
				parts[i] = fmt.Sprintf("%v", e.Interface())
			case reflect.String:
				parts[i] = fmt.Sprintf("%q", e.Interface())
			default:
				return "a list"
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case reflect.String:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%v", x)
}
