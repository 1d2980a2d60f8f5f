# Writes burstgpt-synthetic.csv: a small BurstGPT-shaped trace (the public column layout) for
# `kvasir bench serve --dataset burstgpt`. Deterministic: python3 make-burstgpt-synthetic.py
# Arrivals: gamma gaps (shape 0.5, burstier than Poisson) at 1 request/s on average, 120 requests;
# request tokens log-normal (median 96, clamped to 16..600), response tokens log-normal (median 32,
# clamped to 4..160); 3% of rows are failures with 0 response tokens (the reader skips them), as in the real logs.
import csv, math, random

rng = random.Random(20261130)
rows, t = [], 5.0
for i in range(120):
    t += rng.gammavariate(0.5, 1 / 0.5)
    req = min(600, max(16, int(round(math.exp(rng.gauss(math.log(96), 0.7))))))
    resp = 0 if rng.random() < 0.03 else min(160, max(4, int(round(math.exp(rng.gauss(math.log(32), 0.6))))))
    model = "ChatGPT" if rng.random() < 0.7 else "GPT-4"
    log = "Conversation log" if rng.random() < 0.6 else "API log"
    rows.append([f"{t:.1f}", i + 1, f"{0.02 * resp + 0.3 * rng.random():.1f}", model, req, resp, req + resp, log])

with open("burstgpt-synthetic.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Timestamp", "Session ID", "Elapsed time", "Model", "Request tokens", "Response tokens", "Total tokens", "Log Type"])
    w.writerows(rows)
