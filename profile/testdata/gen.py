# Regenerates the subsets and time_expected.json in this folder from the
# shipped tables (/work/shared/datasets; see its SOURCES.md). pandas is the
# oracle for the time summaries: run with /usr/bin/python3 (pandas 1.5).
import json

import pandas as pd

D = '/work/shared/datasets/'
df = pd.read_csv(D + 'flights_2001h1_1m.csv')
df.iloc[::400][['date']].to_csv('flights_dates.csv', index=False)  # every 400th row
g = pd.read_csv(D + 'gapminder.csv', keep_default_na=False)
g.iloc[:1500][['country', 'continent']].to_csv('gapminder_country.csv', index=False)
c = pd.read_csv(D + 'chicago_ridership.csv')
c.iloc[:800][['date']].to_csv('chicago_dates.csv', index=False)
p = pd.read_csv(D + 'penguins.csv', keep_default_na=False)
p[['species', 'island']].to_csv('penguins_species.csv', index=False)


def summ(s, hours=True):
    t = pd.to_datetime(s)
    # pandas counts Monday as 0; the profile counts Sunday first.
    wd = ((t.dt.dayofweek + 1) % 7).value_counts().reindex(range(7), fill_value=0).tolist()
    out = {"min": s[t.idxmin()], "max": s[t.idxmax()], "parsed": int(len(t)), "weekdays": wd}
    if hours:
        out["hours"] = t.dt.hour.value_counts().reindex(range(24), fill_value=0).tolist()
    return out


fl = pd.read_csv('flights_dates.csv')['date']
ch = pd.read_csv('chicago_dates.csv')['date']
json.dump({"flights_dates.csv": summ(fl), "chicago_dates.csv": summ(ch, False)},
          open('time_expected.json', 'w'), indent=1)
