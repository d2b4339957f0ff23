"""Writes messy.csv from the iris data (deterministic: fixed seed, no inputs but iris.csv).

Run from the crate root: python3 examples/data/make_messy.py /work/shared/data/iris.csv
"""
import csv
import random
import sys

SPECIES = ["setosa", "versicolor", "virginica"]
# Where the flowers were "collected" (invented, loosely tied to species, with noise).
SITES = {0: ["Gaspe, QC", "Gaspe, QC", "Quebec City"], 1: ["Quebec City", "Montreal", "Gaspe, QC"],
         2: ["Montreal", "Montreal", "Quebec City"]}
COLLECTORS = ["Anderson", "Fisher", "Marie-Victorin"]


def main(path):
    rng = random.Random(20240607)
    with open(path) as f:
        rows = list(csv.reader(f))[1:]
    out = []
    for r in rows:
        sl, sw, pl, pw, target = r
        t = int(target)
        out.append([sl, sw, pl, pw, rng.choice(SITES[t]), rng.choice(COLLECTORS), SPECIES[t]])
    # Missing cells: ~4% of the numeric cells, a few text cells, in several spellings.
    for r in out:
        for j in range(4):
            if rng.random() < 0.04:
                r[j] = rng.choice(["", "NA", "NaN"])
        if rng.random() < 0.05:
            r[4] = ""
        if rng.random() < 0.03:
            r[5] = "NA"
    # Stray spaces around a few numbers.
    for r in rng.sample(out, 8):
        j = rng.randrange(4)
        if r[j] not in ("", "NA", "NaN"):
            r[j] = " " + r[j] + " "
    # One outlier: a sepal length typed without its decimal point (5.8 -> 58).
    out[110][0] = "58"
    # Six exact duplicate rows (data entered twice), inserted after their originals.
    for i in sorted(rng.sample(range(len(out)), 6), reverse=True):
        out.insert(i + 1, list(out[i]))
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "site", "collector", "species"])
    w.writerows(out)


if __name__ == "__main__":
    main(sys.argv[1])
