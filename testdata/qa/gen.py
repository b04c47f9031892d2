#!/usr/bin/python3
"""Writes the QA fixtures of testdata/qa from the project's shipped tables.

Run from the repository root:
    /usr/bin/python3 testdata/qa/gen.py /work/shared/datasets
Each fixture is a small subset of a shipped table (see README.md), changed
as its name says; the counts the tests expect are printed here from the
rows themselves (pandas), never from normguard.
"""
import os
import sys

import numpy as np
import pandas as pd

SRC = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/datasets'
OUT = os.path.dirname(os.path.abspath(__file__))


def write(df, name):
    df.to_csv(os.path.join(OUT, name), index=False)


def diamonds_text():
    """diamonds: 400 reference rows, 300 current rows of which 3 have depth
    written with a unit ("61.5 mm")."""
    d = pd.read_csv(os.path.join(SRC, 'diamonds.csv'), dtype=str, keep_default_na=False)
    d = d[['carat', 'depth', 'cut']]
    rng = np.random.default_rng(20261204)
    idx = rng.permutation(len(d))
    ref = d.iloc[idx[:400]]
    cur = d.iloc[idx[400:700]].copy()
    bad = rng.choice(len(cur), 3, replace=False)
    cur.iloc[bad, cur.columns.get_loc('depth')] = cur.iloc[bad]['depth'] + ' mm'
    write(ref, 'diamonds_ref.csv')
    write(cur, 'diamonds_depth_units.csv')
    inf = d.iloc[idx[400:700]].copy()
    inf['depth'] = '-inf'
    inf.iloc[:3, inf.columns.get_loc('carat')] = 'inf'
    write(inf, 'diamonds_infinite.csv')
    n = pd.to_numeric(cur['depth'], errors='coerce').isna().sum()
    print('diamonds_depth_units.csv: depth values that are not numbers:', n, 'of', len(cur))


def wine_unpaired():
    """wine: the artifact fitted on a random 120 rows, a candidate on 120
    rows overlapping them, 58 production rows transformed correctly (with
    scikit-learn) in float64 and rounded to float32."""
    from scipy.stats import ks_2samp
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler
    d = pd.read_csv(os.path.join(SRC, 'wine.csv'))
    idx = np.random.default_rng(17).permutation(len(d))
    train = d.iloc[idx[:120]].reset_index(drop=True)
    prod = d.iloc[idx[120:]].reset_index(drop=True)
    cand = d.iloc[idx[40:160]].reset_index(drop=True)
    write(train, 'wine_train.csv')
    write(cand, 'wine_candidate_train.csv')
    s4 = ['alcohol', 'malic_acid', 'ash', 'magnesium']
    out = pd.DataFrame(index=prod.index)
    out[s4] = StandardScaler().fit(train[s4]).transform(prod[s4])
    out['proline'] = StandardScaler().fit(np.log1p(train[['proline']])).transform(np.log1p(prod[['proline']]))[:, 0]
    out['color_intensity'] = RobustScaler().fit(train[['color_intensity']]).transform(prod[['color_intensity']])[:, 0]
    out['hue'] = MinMaxScaler().fit(train[['hue']]).transform(prod[['hue']])[:, 0]
    out.to_csv(os.path.join(OUT, 'wine_features.csv'), index=False, float_format='%.17g')
    write(prod, 'wine_production.csv')
    lost = out.copy()
    lost.loc[::5, 'hue'] = np.nan
    lost.to_csv(os.path.join(OUT, 'wine_features_hue_lost.csv'), index=False, float_format='%.17g')
    print('wine_features_hue_lost.csv: hue missing in', lost['hue'].isna().sum(), 'of', len(lost), 'rows; production hue missing', prod['hue'].isna().sum())
    empty = out.copy()
    empty['hue'] = np.nan
    empty.to_csv(os.path.join(OUT, 'wine_features_hue_empty.csv'), index=False, float_format='%.17g')
    out.astype(np.float32).to_csv(os.path.join(OUT, 'wine_features_float32.csv'), index=False, float_format='%.9g')
    for c in out.columns:
        r = ks_2samp(train[c], prod[c])
        print(f'wine {c}: raw production vs training, scipy ks_2samp D = {r.statistic:.4f}, p = {r.pvalue:.4g}')
    hue = (train['hue'] - train['hue'].min()) / (train['hue'].max() - train['hue'].min())
    vc = hue.round(12).value_counts()
    print('wine hue: training output values repeated:', len(vc[vc > 1]))
    print('wine hue: candidate min/max', cand['hue'].min(), cand['hue'].max(), 'artifact', train['hue'].min(), train['hue'].max())


def penguins_fill_value():
    """penguins: fit on 2007-08, whose sex has missing values the spec's
    imputer fills with "unknown"; 2009 with sex written "unknown" in a
    random 30% of rows, and 2009 with 4 rows of "Male"."""
    d = pd.read_csv(os.path.join(SRC, 'penguins.csv'), dtype=str, keep_default_na=False)
    d = d[['species', 'sex', 'body_mass_g', 'year']]
    train = d[d.year != '2009'].drop(columns='year')
    cur = d[d.year == '2009'].drop(columns='year').reset_index(drop=True)
    write(train, 'penguins_train.csv')
    rng = np.random.default_rng(4)
    unk = cur.copy()
    unk.loc[rng.choice(len(unk), 36, replace=False), 'sex'] = 'unknown'
    write(unk, 'penguins_2009_unknown.csv')
    male = cur.copy()
    male.loc[male.index[male.sex == 'male'][:4], 'sex'] = 'Male'
    write(male, 'penguins_2009_Male.csv')
    print('penguins_train.csv: sex values', sorted(set(train.sex)), 'missing', (train.sex == 'NA').sum(), 'of', len(train))
    print('penguins_2009_unknown.csv: sex "unknown"', (unk.sex == 'unknown').sum(), 'of', len(unk), 'present', (unk.sex != 'NA').sum())
    print('penguins_2009_Male.csv: sex "Male"', (male.sex == 'Male').sum())


def penguins_infrequent_zeroed():
    """penguins_species.yaml's features of the 2009 rows, made by
    scikit-learn, with the infrequent-species column set to 0 in every
    row (an encoder that drops what it does not know)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    train = pd.read_csv(os.path.join(OUT, 'penguins_train.csv'))
    raw = pd.read_csv(os.path.join(SRC, 'penguins.csv'))
    raw = raw[raw.year == 2009][['species', 'sex', 'body_mass_g']].reset_index(drop=True)
    write(raw, 'penguins_2009.csv')
    num = make_pipeline(SimpleImputer(strategy='median'), StandardScaler()).fit(train[['body_mass_g']])
    oh = OneHotEncoder(handle_unknown='infrequent_if_exist', max_categories=2, sparse_output=False).fit(train[['species']])
    out = pd.DataFrame({'body_mass_g': num.transform(raw[['body_mass_g']])[:, 0]})
    out[list(oh.get_feature_names_out())] = oh.transform(raw[['species']])
    print('penguins_species: infrequent categories', oh.infrequent_categories_, 'outputs', list(out.columns))
    print('penguins_species: rows of an infrequent species', int(out['species_infrequent_sklearn'].sum()), 'of', len(out))
    out['species_infrequent_sklearn'] = 0.0
    out.to_csv(os.path.join(OUT, 'penguins_2009_infrequent_zeroed.csv'), index=False, float_format='%.17g')


if __name__ == '__main__':
    diamonds_text()
    wine_unpaired()
    penguins_fill_value()
    penguins_infrequent_zeroed()
