"""Transcription speed: sequential vs. batched faster-whisper on the same ~10 minute talk.

Each variant runs in a fresh subprocess so model load and peak RSS (``ru_maxrss``) are its own.
Columns: model load, transcription time, x real time (audio seconds per wall second), time to
the first segment (an upper bound on how long a cancel can take to be noticed), peak RSS, and
word error rate against the script. Usage::

    .venv/bin/python bench/transcribe_speed.py [--repeat 5] [--batch-sizes 4 8 16]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]


def worker(mode: str, batch_size: int, wav: Path) -> None:
    """Runs inside the subprocess: transcribe once, print one JSON line."""
    from clipmill.shorts.transcribe import WhisperTranscriber, load_model

    transcriber = WhisperTranscriber(batched=mode == "batched", batch_size=batch_size)
    began = time.perf_counter()
    load_model(transcriber.model_path, transcriber.compute_type)
    loaded = time.perf_counter()
    first: list[float] = []

    def progress(_: float) -> None:
        if not first:
            first.append(time.perf_counter() - loaded)

    transcript = transcriber.transcribe(wav, language="en", on_progress=progress)
    done = time.perf_counter()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "load_s": loaded - began, "transcribe_s": done - loaded, "first_segment_s": first[0],
        "peak_rss_mib": peak_kib / 1024, "duration": transcript.duration, "text": transcript.text,
    }))  # fmt: skip


def run_variant(mode: str, batch_size: int, wav: Path) -> dict[str, float | str]:
    command = [sys.executable, __file__, "--worker", mode, str(batch_size), str(wav)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="copies of the 2-minute script")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], int(args.worker[1]), Path(args.worker[2]))
        return

    import jiwer
    from tests.support.talk import DEFAULT_SCRIPT, build_talk, normalize_for_wer

    cache = Path(os.environ.get("CLIPMILL_TEST_CACHE", tempfile.gettempdir())) / "clipmill-bench"
    talk = build_talk(cache, tuple(DEFAULT_SCRIPT) * args.repeat)
    reference = normalize_for_wer(talk.text)
    print(f"audio: {talk.duration:.0f} s ({talk.duration / 60:.1f} min), "
          f"{os.cpu_count()} CPU cores, tiny.en int8, vad_filter, word_timestamps\n")  # fmt: skip
    variants = [("plain", 1)] + [("batched", size) for size in args.batch_sizes]
    rows = []
    for mode, size in variants:
        result = run_variant(mode, size, talk.wav)
        result["wer"] = jiwer.wer(reference, normalize_for_wer(str(result["text"])))
        rows.append((mode if mode == "plain" else f"batched bs={size}", result))
    plain = float(rows[0][1]["transcribe_s"])
    header = ("variant", "load s", "transcribe s", "x realtime", "1st segment s", "peak RSS MiB",
              "WER", "time vs plain")  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name, r in rows:
        seconds = float(r["transcribe_s"])
        print(
            f"| {name} | {float(r['load_s']):.1f} | {seconds:.1f} | "
            f"{talk.duration / seconds:.1f} | {float(r['first_segment_s']):.1f} | "
            f"{float(r['peak_rss_mib']):.0f} | {float(r['wer']):.1%} | {seconds / plain:.2f} |"
        )


if __name__ == "__main__":
    main()
