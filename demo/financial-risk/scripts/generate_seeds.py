#!/usr/bin/env python3
"""Generate the financial-risk seed CSVs.

Deterministic (fixed random seed, stdlib only): the same --scale always gives the
same bytes. Scale 1 produced the committed seeds: 500 positions in 10 portfolios,
1,000 daily closing prices (20 instruments x 50 business days) and 100
counterparties. All amounts are USD. Every count grows linearly with --scale (prices via more
instruments; the 50-day window stays).

The raw data is deliberately a little messy: instrument ids and credit ratings in
mixed case with stray whitespace, and about 3% of positions have a zero or negative
quantity (booking errors that staging drops).

Usage:
    python scripts/generate_seeds.py                         # scale 1 into ./seeds
    python scripts/generate_seeds.py --scale 50 --out /tmp/fin
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 2008
POSITIONS_PER_SCALE = 500
INSTRUMENTS_PER_SCALE = 20
TRADING_DAYS = 50
COUNTERPARTIES_PER_SCALE = 100
PORTFOLIOS_PER_SCALE = 10

FIRST_TRADING_DAY = date(2025, 1, 2)
RATINGS = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC"]
RATING_WEIGHTS = [5, 10, 20, 30, 20, 10, 5]
# Base exposure limit by rating (USD); each counterparty gets 60-140% of it.
RATING_LIMITS = {"AAA": 25e6, "AA": 18e6, "A": 12e6, "BBB": 8e6, "BB": 5e6, "B": 3.5e6,
                 "CCC": 2e6}
COUNTRIES = ["US", "GB", "DE", "FR", "JP", "SG", "CH", "CA", "NL", "AU"]
SECTORS = ["banking", "insurance", "asset_management", "energy", "technology", "sovereign",
           "industrials"]
NAME_PARTS = ["Atlas", "Beacon", "Cobalt", "Delta", "Ember", "Falcon", "Granite", "Harbor",
              "Iris", "Juniper", "Keystone", "Lumen", "Meridian", "Northwind", "Orion", "Pioneer"]
NAME_SUFFIXES = ["Capital", "Bank", "Partners", "Holdings", "Securities", "Group"]


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _business_days(first: date, count: int) -> list[date]:
    days, day = [], first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _messy(rng: random.Random, code: str) -> str:
    """How a code looks after passing through a spreadsheet now and then."""
    roll = rng.random()
    if roll < 0.08:
        return code.lower()
    if roll < 0.14:
        return f" {code} "
    return code


def generate(out: Path, scale: int) -> dict[str, int]:
    """Write raw_positions.csv, raw_market_data.csv and raw_counterparties.csv into `out`."""
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    n_instruments = INSTRUMENTS_PER_SCALE * scale
    n_positions = POSITIONS_PER_SCALE * scale
    n_counterparties = COUNTERPARTIES_PER_SCALE * scale
    n_portfolios = PORTFOLIOS_PER_SCALE * scale
    days = _business_days(FIRST_TRADING_DAY, TRADING_DAYS)

    start_prices: dict[str, float] = {}
    with open(out / "raw_market_data.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["instrument_id", "price_date", "close_price", "volume", "_loaded_at"])
        for index in range(n_instruments):
            instrument_id = f"INS-{index + 1:05d}"
            price = rng.uniform(20.0, 500.0)
            start_prices[instrument_id] = price
            daily_vol = rng.uniform(0.005, 0.04)
            drift = rng.uniform(-0.001, 0.0015)
            for day in days:
                price = max(price * math.exp(rng.gauss(drift, daily_vol)), 0.01)
                loaded = datetime.combine(day, datetime.min.time()) + timedelta(hours=22)
                writer.writerow([_messy(rng, instrument_id), day.isoformat(), f"{price:.4f}",
                                 rng.randrange(10_000, 5_000_000), _ts(loaded)])

    with open(out / "raw_counterparties.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["counterparty_id", "counterparty_name", "credit_rating",
                         "exposure_limit", "country", "sector", "_loaded_at"])
        for index in range(n_counterparties):
            rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
            name = f"{rng.choice(NAME_PARTS)} {rng.choice(NAME_SUFFIXES)} {index + 1}"
            limit = round(RATING_LIMITS[rating] * rng.uniform(0.6, 1.4), -3)
            writer.writerow([f"CP-{index + 1:04d}", name, _messy(rng, rating), f"{limit:.2f}",
                             rng.choice(COUNTRIES), rng.choice(SECTORS),
                             _ts(datetime.combine(days[0], datetime.min.time())
                                 - timedelta(hours=2))])

    instrument_ids = list(start_prices)
    # Each portfolio trades with its own pool of counterparties (a few large or many
    # small), so portfolios differ in concentration and credit risk.
    counterparty_ids = [f"CP-{index + 1:04d}" for index in range(n_counterparties)]
    pools = [rng.sample(counterparty_ids, min(n_counterparties, rng.randrange(5, 40)))
             for _ in range(n_portfolios)]
    with open(out / "raw_positions.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["position_id", "portfolio_id", "instrument_id", "counterparty_id",
                         "quantity", "entry_price", "trade_date", "_loaded_at"])
        for index in range(n_positions):
            instrument_id = rng.choice(instrument_ids)
            trade_date = rng.choice(days)
            if rng.random() < 0.03:
                quantity = rng.choice([0, -rng.randrange(1, 500)])
            else:
                quantity = rng.randrange(10, 2_000)
            entry_price = start_prices[instrument_id] * rng.uniform(0.9, 1.1)
            loaded = datetime.combine(trade_date, datetime.min.time()) + timedelta(hours=23)
            portfolio = rng.randrange(n_portfolios)
            writer.writerow([f"POS-{index + 1:06d}", f"PF-{portfolio + 1:03d}",
                             _messy(rng, instrument_id), rng.choice(pools[portfolio]), quantity,
                             f"{entry_price:.4f}", trade_date.isoformat(), _ts(loaded)])

    return {"raw_positions": n_positions, "raw_market_data": n_instruments * TRADING_DAYS,
            "raw_counterparties": n_counterparties}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1,
                        help="multiplier for every seed (1 = the committed seeds)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "seeds",
                        help="output directory (default: this project's seeds/)")
    args = parser.parse_args()
    if args.scale < 1:
        parser.error(f"--scale must be a positive integer, got {args.scale}")
    started = time.perf_counter()
    counts = generate(args.out, args.scale)
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{name}={rows}" for name, rows in counts.items())
    print(f"wrote {summary} to {args.out} in {elapsed:.2f}s")


if __name__ == "__main__":
    main()
