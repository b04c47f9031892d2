package step

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFittedValuesAreChecked decodes fitted steps whose values no fit
// writes and checks that each is refused naming the attribute's JSON path,
// while the values a fit does write (NaN for a feature without values,
// scikit-learn's infinite outer bin edges) are accepted.
func TestFittedValuesAreChecked(t *testing.T) {
	cases := []struct {
		json string
		path string // "" when the step is valid
	}{
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,2],"var_":[1,4],"scale_":[1,2],"n_samples_seen_":[3,3],"feature_names_in_":["a","b"]}}`, ""},
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,"NaN"],"var_":[1,"NaN"],"scale_":[1,"NaN"],"n_samples_seen_":[3,0],"feature_names_in_":["a","b"]}}`, ""},
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,2],"var_":[1,4],"scale_":[1,0],"n_samples_seen_":[3,3],"feature_names_in_":["a","b"]}}`, "fitted.scale_[1]"},
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,2],"var_":[1,4],"scale_":[-1,2],"n_samples_seen_":[3,3],"feature_names_in_":["a","b"]}}`, "fitted.scale_[0]"},
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,2],"var_":[1,4],"scale_":[1],"n_samples_seen_":[3,3],"feature_names_in_":["a","b"]}}`, "fitted.scale_"},
		{`{"step":"standard_scaler","params":{"with_mean":true,"with_std":true,"copy":true},"inputs":["a","b"],"fitted":{"with_mean":true,"with_std":true,"mean_":[1,2],"var_":[1,4],"scale_":[1,2],"n_samples_seen_":[3,3],"feature_names_in_":["a","a"]}}`, "fitted.feature_names_in_[1]"},
		{`{"step":"max_abs_scaler","params":{"copy":true},"inputs":["a"],"fitted":{"n_samples_seen_":3,"max_abs_":[2],"scale_":["Infinity"],"feature_names_in_":["a"]}}`, "fitted.scale_[0]"},
		{`{"step":"robust_scaler","params":{"with_centering":true,"with_scaling":true,"quantile_range":[25,75],"unit_variance":false,"copy":true},"inputs":["a"],"fitted":{"center_":[1],"scale_":[0],"feature_names_in_":["a"]}}`, "fitted.scale_[0]"},
		{`{"step":"min_max_scaler","params":{"feature_range":[0,1],"copy":true,"clip":false},"inputs":["a"],"fitted":{"feature_range":[0,1],"clip":false,"n_samples_seen_":3,"data_min_":[1],"data_max_":[3],"data_range_":[2],"scale_":[0],"min_":[-0.5],"feature_names_in_":["a"]}}`, "fitted.scale_[0]"},
		{`{"step":"min_max_scaler","params":{"feature_range":[0,1],"copy":true,"clip":false},"inputs":["a"],"fitted":{"feature_range":[1,0],"clip":false,"n_samples_seen_":3,"data_min_":[1],"data_max_":[3],"data_range_":[2],"scale_":[0.5],"min_":[-0.5],"feature_names_in_":["a"]}}`, "fitted.feature_range"},
		{`{"step":"power_transformer","params":{"method":"yeo-johnson","standardize":true,"copy":true},"inputs":["a"],"fitted":{"method":"yeo-johnson","standardize":true,"lambdas_":["NaN"],"mean_":[0],"scale_":[1],"feature_names_in_":["a"]}}`, "fitted.lambdas_[0]"},
		{`{"step":"power_transformer","params":{"method":"yeo-johnson","standardize":true,"copy":true},"inputs":["a"],"fitted":{"method":"yeo-johnson","standardize":true,"lambdas_":[0.5],"mean_":[0],"scale_":[0],"feature_names_in_":["a"]}}`, "fitted.scale_[0]"},
		{`{"step":"quantile_transformer","params":{"n_quantiles":3,"output_distribution":"uniform","ignore_implicit_zeros":false,"subsample":100000,"copy":true},"inputs":["a"],"fitted":{"output_distribution":"uniform","n_quantiles_":3,"references_":[0,0.5,1],"quantiles_":[["NaN","NaN","NaN"]],"feature_names_in_":["a"]}}`, ""},
		{`{"step":"quantile_transformer","params":{"n_quantiles":3,"output_distribution":"uniform","ignore_implicit_zeros":false,"subsample":100000,"copy":true},"inputs":["a"],"fitted":{"output_distribution":"uniform","n_quantiles_":3,"references_":[0,1,0.5],"quantiles_":[[1,2,3]],"feature_names_in_":["a"]}}`, "fitted.references_[2]"},
		{`{"step":"quantile_transformer","params":{"n_quantiles":3,"output_distribution":"uniform","ignore_implicit_zeros":false,"subsample":100000,"copy":true},"inputs":["a"],"fitted":{"output_distribution":"uniform","n_quantiles_":3,"references_":[0,0.5,1],"quantiles_":[[1,3,2]],"feature_names_in_":["a"]}}`, "fitted.quantiles_[0][2]"},
		{`{"step":"quantile_transformer","params":{"n_quantiles":3,"output_distribution":"uniform","ignore_implicit_zeros":false,"subsample":100000,"copy":true},"inputs":["a"],"fitted":{"output_distribution":"uniform","n_quantiles_":3,"references_":[0,0.5,2],"quantiles_":[[1,2,3]],"feature_names_in_":["a"]}}`, "fitted.references_"},
		{`{"step":"kbins_discretizer","params":{"n_bins":2,"encode":"ordinal","strategy":"uniform","dtype":null,"subsample":"warn","random_state":null},"inputs":["a"],"fitted":{"encode":"ordinal","float32":false,"bin_edges_":[["-Infinity","Infinity"]],"n_bins_":[1],"feature_names_in_":["a"]}}`, ""},
		{`{"step":"kbins_discretizer","params":{"n_bins":2,"encode":"ordinal","strategy":"uniform","dtype":null,"subsample":"warn","random_state":null},"inputs":["a"],"fitted":{"encode":"ordinal","float32":false,"bin_edges_":[[0,1,1]],"n_bins_":[2],"feature_names_in_":["a"]}}`, "fitted.bin_edges_[0][2]"},
		{`{"step":"binarizer","params":{"threshold":0},"inputs":["a"],"fitted":{"threshold":"NaN","feature_names_in_":["a"]}}`, "fitted.threshold"},
		{`{"step":"simple_imputer","params":{"missing_values":null,"strategy":"mean","fill_value":null,"copy":true,"add_indicator":true,"keep_empty_features":false},"inputs":["a","b"],"fitted":{"statistics_":[1,2],"statistics_str_":null,"indicator_features_":[1,0],"feature_names_in_":["a","b"]}}`, "fitted.indicator_features_[1]"},
	}
	for _, c := range cases {
		var fs FittedStep
		err := json.Unmarshal([]byte(c.json), &fs)
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: refused a valid step: %v", c.json, err)
			}
			continue
		}
		var pe *PathError
		if !errors.As(err, &pe) || pe.Path != c.path {
			t.Errorf("%s: got %v, want a refusal of %s", c.json, err, c.path)
		}
		if err != nil && !strings.Contains(err.Error(), c.path+": ") {
			t.Errorf("error %q does not start with the path", err)
		}
	}
}
