#!/usr/bin/env python3
"""Generate the customer-360 seed CSVs.

Deterministic (fixed random seed, stdlib only): the same --scale always gives the
same bytes. Scale 1 produced the committed seeds: 500 customers, 1,000
transactions and 300 support tickets. The raw data is deliberately a little
messy (case, whitespace, unknown codes, non-positive amounts) so the staging
models have something to clean.

Usage:
    python scripts/generate_seeds.py                      # scale 1 into ./seeds
    python scripts/generate_seeds.py --scale 100 --out /tmp/c360
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from datetime import date, datetime, timedelta
from pathlib import Path

SEED = 360
CUSTOMERS_PER_SCALE = 500
TRANSACTIONS_PER_SCALE = 1000
TICKETS_PER_SCALE = 300

FIRST_SIGNUP = date(2022, 1, 1)
LAST_SIGNUP = date(2024, 12, 31)
LAST_ACTIVITY = date(2025, 6, 30)

FIRST_NAMES = ["Ada", "Bo", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo",
               "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
               "Uma", "Vik", "Wen", "Xavi", "Yara", "Zane"]
LAST_NAMES = ["Adams", "Banerjee", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes",
              "Ito", "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Petrov",
              "Quispe", "Rossi", "Silva", "Tanaka", "Umar", "Varga", "Weber", "Xu", "Yilmaz",
              "Zhou"]
DOMAINS = ["example.com", "mail.test", "corp.example", "shop.test"]
# Raw segment codes as a CRM would export them; '' and 'partner' become 'unknown'.
SEGMENTS = ["enterprise", "Enterprise ", "mid_market", "Mid-Market", "smb", " SMB",
            "startup", "STARTUP", "", "partner"]
SEGMENT_WEIGHTS = [10, 5, 12, 6, 20, 8, 14, 7, 2, 2]
STATUSES = ["completed", "Completed", "pending", "refunded", "CANCELLED", "cancelled", "failed"]
STATUS_WEIGHTS = [60, 15, 10, 8, 2, 3, 2]
CATEGORIES = ["billing", "Billing", "technical", "TECHNICAL ", "account", "shipping", "other",
              "feedback"]
CATEGORY_WEIGHTS = [15, 5, 25, 5, 15, 15, 10, 10]
PRIORITIES = ["low", "Low", "medium", "MEDIUM", "high", "High ", "urgent", "critical"]
PRIORITY_WEIGHTS = [15, 5, 25, 5, 20, 5, 5, 5]


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _batch_after(moment: datetime | date) -> str:
    """The nightly load (02:00 UTC the next day) that picked a record up."""
    day = moment.date() if isinstance(moment, datetime) else moment
    return _ts(datetime.combine(day + timedelta(days=1), datetime.min.time()) + timedelta(hours=2))


def generate(out: Path, scale: int) -> dict[str, int]:
    """Write raw_customers.csv, raw_transactions.csv, raw_support_tickets.csv into `out`."""
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    n_customers = CUSTOMERS_PER_SCALE * scale
    n_transactions = TRANSACTIONS_PER_SCALE * scale
    n_tickets = TICKETS_PER_SCALE * scale
    signup_span = (LAST_SIGNUP - FIRST_SIGNUP).days

    signups: list[date] = []
    with open(out / "raw_customers.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["customer_id", "name", "email", "signup_date", "segment", "_loaded_at"])
        for customer_id in range(1, n_customers + 1):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            email = f"{first}.{last}{customer_id}@{rng.choice(DOMAINS)}".lower()
            roll = rng.random()
            if roll < 0.1:  # exported with stray whitespace / shouting
                name, email = f"  {name} ", email.upper()
            elif roll < 0.15:
                email = f" {email}"
            signup = FIRST_SIGNUP + timedelta(days=rng.randrange(signup_span + 1))
            signups.append(signup)
            segment = rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0]
            writer.writerow([customer_id, name, email, signup.isoformat(), segment,
                             _batch_after(signup)])

    with open(out / "raw_transactions.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["txn_id", "customer_id", "amount", "product_id", "txn_date", "status",
                         "_loaded_at"])
        for txn_id in range(1, n_transactions + 1):
            customer_id = rng.randrange(1, n_customers + 1)
            signup = signups[customer_id - 1]
            txn_date = signup + timedelta(days=rng.randrange((LAST_ACTIVITY - signup).days + 1))
            if rng.random() < 0.03:  # zero and negative amounts are upstream errors
                amount = rng.choice([0.0, -round(rng.uniform(1, 200), 2)])
            else:
                amount = round(min(rng.lognormvariate(4.0, 0.9), 9_999.0), 2)
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            writer.writerow([txn_id, customer_id, f"{amount:.2f}",
                             f"SKU-{rng.randrange(1, 51):04d}", txn_date.isoformat(), status,
                             _batch_after(txn_date)])

    with open(out / "raw_support_tickets.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["ticket_id", "customer_id", "category", "priority", "created_at",
                         "resolved_at", "_loaded_at"])
        for ticket_id in range(1, n_tickets + 1):
            customer_id = rng.randrange(1, n_customers + 1)
            signup = signups[customer_id - 1]
            created = datetime.combine(signup, datetime.min.time()) + timedelta(
                days=rng.randrange((LAST_ACTIVITY - signup).days + 1),
                seconds=rng.randrange(86_400))
            resolved = None
            if rng.random() < 0.8:
                resolved = created + timedelta(minutes=rng.randrange(15, 14 * 24 * 60))
            writer.writerow([ticket_id, customer_id,
                             rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0],
                             rng.choices(PRIORITIES, PRIORITY_WEIGHTS)[0],
                             _ts(created), _ts(resolved) if resolved else "",
                             _batch_after(resolved or created)])

    return {"raw_customers": n_customers, "raw_transactions": n_transactions,
            "raw_support_tickets": n_tickets}


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
