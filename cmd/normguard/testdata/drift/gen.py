# Regenerates this folder's files: run with /usr/bin/python3 (pandas 1.5,
# scipy 1.10, Debian 12) from this folder.
#
# gapminder_*.csv: subsets of the shipped gapminder.csv (Debian r-cran-dslabs
# 0.7.4; see the project's dataset SOURCES.md).
# quickstart_time_expected.json: scipy's chi-square test and Jensen-Shannon
# distance on the hour-of-day and day-of-week counts of the quickstart's
# embedded flights (quickstart/flights_2001h1_sample.csv.gz): January and
# February against June, and against June's morning flights (hours 0-11).
import json

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency

g = pd.read_csv('/work/shared/datasets/gapminder.csv', keep_default_na=False)
cols = ['country', 'continent', 'life_expectancy', 'fertility']
first = sorted(g.country.unique())[:120]
g[(g.year >= 1960) & (g.year < 1970) & g.country.isin(first)][cols].to_csv('gapminder_1960s.csv', index=False)
g[(g.year >= 2000) & (g.year < 2010)][cols].to_csv('gapminder_2000s.csv', index=False)

f = pd.read_csv('../../../../quickstart/flights_2001h1_sample.csv.gz')
t = pd.to_datetime(f.date, format='%Y-%m-%d %H:%M')
train = t[(t.dt.month == 1) | (t.dt.month == 2)]
june = t[t.dt.month == 6]
morning = june[june.dt.hour < 12]


def part(ref, cur, n):
    r = np.bincount(ref, minlength=n)
    c = np.bincount(cur, minlength=n)
    keep = (r + c) > 0
    table = np.array([r[keep], c[keep]])
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    return {"statistic": chi2, "p_value": p, "jensenshannon": jensenshannon(r / r.sum(), c / c.sum(), base=2)}


def parts(ref, cur):
    wd = lambda s: ((s.dt.dayofweek + 1) % 7).to_numpy()  # Sunday first
    return {"hour_of_day": part(ref.dt.hour.to_numpy(), cur.dt.hour.to_numpy(), 24),
            "day_of_week": part(wd(ref), wd(cur), 7)}


json.dump({"june": parts(train, june), "june_morning": parts(train, morning)},
          open('quickstart_time_expected.json', 'w'), indent=1)
