"""Regenerates the sample data from data sets that scikit-learn ships (no download needed).

    /usr/bin/python3 python-scripts/data/make_data.py

wine_data.csv: the UCI wine data with its real column names, plus `cultivar` (the class, 0-2).
    The seed regresses on a continuous column; `proline` ranges 278-1680, close to the seed's 0-1500.
diabetes.csv: the diabetes data in its original units (age in years, sex 1/2, bmi, blood pressure,
    six serum measurements) and `progression`, the disease progression a year later.
"""
from pathlib import Path

from sklearn.datasets import load_diabetes, load_wine

HERE = Path(__file__).resolve().parent


def main() -> None:
    wine = load_wine(as_frame=True)
    frame = wine.data.copy()
    frame["cultivar"] = wine.target
    frame.to_csv(HERE / "wine_data.csv", index=False)

    diabetes = load_diabetes(as_frame=True, scaled=False)
    frame = diabetes.data.copy()
    frame["progression"] = diabetes.target
    frame.to_csv(HERE / "diabetes.csv", index=False)


if __name__ == "__main__":
    main()
