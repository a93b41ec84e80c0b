#!/usr/bin/env python3
"""Generate the iot-telemetry seed CSVs.

Deterministic (fixed random seed, stdlib only): the same --scale always gives the
same bytes. Scale 1 produced the committed seeds: 200 sensors on 40 pieces of
equipment, 1,000 readings and 100 maintenance log entries.

Readings grow linearly with --scale (1,000 x scale) and are streamed to the CSV,
so --scale 1000 (1M readings) and --scale 10000 (10M readings) stay fast and use
little memory. Sensors, equipment and maintenance grow with ceil(sqrt(scale)),
so each sensor collects more history as the scale rises.

The raw data is deliberately a little messy: sensor and maintenance types in mixed
case with stray whitespace, about 0.5% of readings are the -9999 "no signal"
sentinel, and about 1% are spikes far outside the sensor's normal band.

Usage:
    python scripts/generate_seeds.py                              # scale 1 into ./seeds
    python scripts/generate_seeds.py --scale 1000 --out /tmp/iot  # 1,000,000 readings
    python scripts/generate_seeds.py --scale 10000 --out /tmp/iot # 10,000,000 readings
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

SEED = 1729
SENSORS_PER_UNIT = 200
SENSORS_PER_EQUIPMENT = 5
READINGS_PER_SCALE = 1000
MAINTENANCE_PER_UNIT = 100

READINGS_START = datetime(2025, 3, 1)
READING_INTERVAL = timedelta(minutes=15)
LOAD_DELAY = timedelta(minutes=5)

# sensor type -> (unit, range of a sensor's normal mean, range of its noise)
SENSOR_TYPES = {
    "temperature": ("celsius", (20.0, 90.0), (0.5, 3.0)),
    "pressure": ("kpa", (100.0, 800.0), (2.0, 15.0)),
    "vibration": ("mm_s", (0.5, 8.0), (0.05, 0.6)),
    "humidity": ("percent", (25.0, 75.0), (1.0, 4.0)),
    "flow_rate": ("l_min", (10.0, 500.0), (1.0, 12.0)),
}
# How the raw type is spelled by the device registry; staging normalises it.
TYPE_SPELLINGS = {
    "temperature": ["temperature", "Temperature", "TEMPERATURE "],
    "pressure": ["pressure", "Pressure"],
    "vibration": ["vibration", " Vibration"],
    "humidity": ["humidity", "HUMIDITY"],
    "flow_rate": ["flow_rate", "Flow_Rate", "FLOW_RATE"],
}
SITES = ["plant-north", "plant-south", "warehouse-east", "dock-west", "lab-central"]
MAINTENANCE_TYPES = ["preventive", "Preventive", "corrective", "CORRECTIVE", "predictive",
                     "Predictive ", "emergency", "EMERGENCY"]
MAINTENANCE_WEIGHTS = [30, 10, 20, 5, 15, 5, 10, 5]
TECHNICIANS = ["T-Ahmed", "T-Berg", "T-Cruz", "T-Diaz", "T-Endo", "T-Fox"]
SENTINEL = -9999.0


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def generate(out: Path, scale: int) -> dict[str, int]:
    """Write raw_sensors.csv, raw_readings.csv and raw_maintenance_log.csv into `out`."""
    rng = random.Random(SEED)
    out.mkdir(parents=True, exist_ok=True)
    units = math.ceil(math.sqrt(scale))
    n_sensors = SENSORS_PER_UNIT * units
    n_equipment = n_sensors // SENSORS_PER_EQUIPMENT
    n_readings = READINGS_PER_SCALE * scale
    n_maintenance = MAINTENANCE_PER_UNIT * units

    type_names = list(SENSOR_TYPES)
    sensors: list[tuple[str, float, float]] = []  # (sensor_id, mean, noise)
    with open(out / "raw_sensors.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["sensor_id", "equipment_id", "sensor_type", "unit", "location",
                         "installed_at", "_loaded_at"])
        for index in range(n_sensors):
            sensor_id = f"SEN-{index + 1:06d}"
            equipment_index = index // SENSORS_PER_EQUIPMENT
            equipment_id = f"EQ-{equipment_index + 1:05d}"
            sensor_type = type_names[index % len(type_names)]
            unit, mean_range, noise_range = SENSOR_TYPES[sensor_type]
            mean = rng.uniform(*mean_range)
            noise = rng.uniform(*noise_range)
            sensors.append((sensor_id, mean, noise))
            installed = READINGS_START - timedelta(days=rng.randrange(30, 1500))
            writer.writerow([sensor_id, equipment_id, rng.choice(TYPE_SPELLINGS[sensor_type]),
                             unit, SITES[equipment_index % len(SITES)], _ts(installed),
                             _ts(READINGS_START - timedelta(hours=22))])

    # Readings: every sensor reports once per interval, sensor after sensor, until
    # n_readings rows exist. Rows are built as strings and written one interval at a
    # time; this is the hot loop for the 10M-row benchmark.
    gauss, uniform, random_ = rng.gauss, rng.uniform, rng.random
    reading_id = 0
    step = 0
    with open(out / "raw_readings.csv", "w", newline="", buffering=1 << 20) as fh:
        fh.write("reading_id,sensor_id,reading_ts,value,_loaded_at\n")
        while reading_id < n_readings:
            moment = READINGS_START + step * READING_INTERVAL
            reading_ts, loaded_at = _ts(moment), _ts(moment + LOAD_DELAY)
            rows = []
            for sensor_id, mean, noise in sensors[: n_readings - reading_id]:
                reading_id += 1
                roll = random_()
                if roll < 0.005:
                    value = SENTINEL
                elif roll < 0.015:
                    value = mean + noise * uniform(6.0, 12.0) * (1 if roll < 0.01 else -1)
                else:
                    value = gauss(mean, noise)
                rows.append(f"{reading_id},{sensor_id},{reading_ts},{value:.3f},{loaded_at}\n")
            fh.writelines(rows)
            step += 1

    last_reading = READINGS_START + max(step - 1, 0) * READING_INTERVAL
    with open(out / "raw_maintenance_log.csv", "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["maintenance_id", "equipment_id", "maintenance_type", "performed_at",
                         "technician", "duration_hours", "_loaded_at"])
        for index in range(n_maintenance):
            performed = READINGS_START - timedelta(days=rng.randrange(0, 365),
                                                   minutes=rng.randrange(24 * 60))
            writer.writerow([f"MNT-{index + 1:06d}", f"EQ-{rng.randrange(n_equipment) + 1:05d}",
                             rng.choices(MAINTENANCE_TYPES, MAINTENANCE_WEIGHTS)[0],
                             _ts(performed), rng.choice(TECHNICIANS),
                             f"{rng.uniform(0.5, 12.0):.1f}",
                             _ts(min(performed + timedelta(days=1), last_reading))])

    return {"raw_sensors": n_sensors, "raw_readings": n_readings,
            "raw_maintenance_log": n_maintenance}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1,
                        help="readings = 1,000 x scale; sensors and maintenance grow with "
                             "ceil(sqrt(scale)) (1 = the committed seeds)")
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
