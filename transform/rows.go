package transform

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/normguard/normguard/internal/errtext"
	"github.com/normguard/normguard/table"
)

// RowsBatch builds a batch holding the transformer's input columns from
// rows given as maps, the shape JSON objects decode to. Numeric inputs take
// numbers (float64, int, json.Number, or a numeric string) or nil for a
// missing value; categorical inputs take strings (numbers are formatted as
// text) or nil. Columns the artifact does not read are ignored; an input
// column absent from a row is an error.
func (t *Transformer) RowsBatch(rows []map[string]any) (*table.Batch, error) {
	b := &table.Batch{Rows: len(rows), Cols: make([]table.Column, len(t.inputs))}
	dims := t.art.VectorInputs()
	for j, f := range t.inputs {
		c := table.Column{Name: f.Name, Kind: f.Kind}
		c.Resize(len(rows))
		for i, row := range rows {
			v, ok := row[f.Name]
			if !ok {
				var err error
				if v, ok, err = vectorValue(dims, row, f.Name); err != nil {
					return nil, fmt.Errorf("row %d: %v", i+1, err)
				}
			}
			if !ok {
				return nil, fmt.Errorf("row %d: missing column %q (send null for a missing value)", i+1, f.Name)
			}
			if f.Kind == table.Numeric {
				x, err := toFloat(v)
				if err != nil {
					return nil, fmt.Errorf("row %d: column %q: %v", i+1, f.Name, err)
				}
				c.Num[i] = x
				continue
			}
			s, present, err := toText(v)
			if err != nil {
				return nil, fmt.Errorf("row %d: column %q: %v", i+1, f.Name, err)
			}
			if present {
				c.Str[i] = s
			} else {
				c.SetNull(i)
			}
		}
		b.Cols[j] = c
	}
	return b, nil
}

// Rows transforms rows given as maps (see RowsBatch) and returns the
// output batch.
func (t *Transformer) Rows(rows []map[string]any) (*table.Batch, error) {
	in, err := t.RowsBatch(rows)
	if err != nil {
		return nil, err
	}
	out := t.NewOutput()
	if err := t.Batch(in, out, ""); err != nil {
		return nil, err
	}
	return out, nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case nil:
		return math.NaN(), nil
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case json.Number:
		return strconv.ParseFloat(string(x), 64)
	case string:
		// As the file readers read a numeric cell (table.ParseNumber).
		f, ok := table.ParseNumber([]byte(x))
		if !ok {
			return 0, fmt.Errorf("cannot parse %s as a number", errtext.Quote(x))
		}
		return f, nil
	default:
		return 0, fmt.Errorf("expected a number or null, got %T", v)
	}
}

func toText(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case json.Number:
		return string(x), true, nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true, nil
	case int:
		return strconv.Itoa(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	default:
		return "", false, fmt.Errorf("expected a string or null, got %T", v)
	}
}
