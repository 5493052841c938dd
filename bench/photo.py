"""Benchmark: processing one 12-megapixel phone photo, on one core.

Run from the repository root::

    python bench/photo.py [--runs N] [--seed S] [--smoke]

Builds 4000 x 3000 photos in memory (gradients, shapes and sensor-like noise, so
they compress like a real photo; the JPEG carries EXIF with orientation and GPS),
then times ``reports.photos.process_photo`` on each after a warm-up. The results
replace the section ``## photo: processing a 12-megapixel photo`` of
``docs/benchmarks.md``.

Baseline: a plain Pillow decode and resize of the same file, the least any
handling of the photo does: ``Image.open``, a full decode (``load``) and
``resize`` to the same output size with the same filter; no draft mode, no
orientation, no colour conversion, no encoding. Each timed run does the baseline
and then ``process_photo``, one after the other, so both see the same machine
at the same moment; the ratio is ``process_photo``'s p50 over the baseline's.
``process_photo`` decodes JPEGs at half scale (draft mode), which a plain decode
does not, so a JPEG's ratio can be below 1.

``--smoke``: 2000 x 1500 photos (the HEIC encoded with x265's fastest preset),
3 timed runs after 1 warm-up, not pinned to a core (a smoke run checks that it
works, on whichever core is free); nothing written.
"""

from __future__ import annotations

import argparse
import datetime
import io
import math
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    add_smoke,
    cpu_description,
    finish,
    ratio,
    result,
    write_section,
)

os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"

import django  # noqa: E402

django.setup()

import PIL  # noqa: E402
from PIL import Image, ImageChops, ImageDraw, features  # noqa: E402

from reports.photos import (  # noqa: E402
    HEIF_SUPPORTED,
    IMAGE_MAX_SIDE,
    RESAMPLE,
    process_photo,
)

HEADING = "## photo: processing a 12-megapixel photo"
SIZE = (4000, 3000)
TARGET_MS = 120.0
WARMUP = 3
# Per-channel noise (standard deviation, 0-255 scale) of the two JPEG inputs.
TYPICAL_NOISE = (4.0, 3.0, 5.0)
HEAVY_NOISE = (7.0, 6.0, 9.0)


def photo(
    seed: int, noise: tuple[float, float, float], size: tuple[int, int] = SIZE
) -> Image.Image:
    """A 4000 x 3000 RGB image that is not trivially compressible.

    ``noise`` is the standard deviation of the Gaussian noise added to each
    channel, standing in for what is left of sensor noise after a phone's own
    denoising.
    """
    rng = random.Random(seed)
    width, height = size
    ramp = Image.linear_gradient("L")
    bands = [
        ramp.rotate(90).resize(size, Image.Resampling.BILINEAR),
        ramp.resize(size, Image.Resampling.BILINEAR),
        Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR),
    ]
    img = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(img)
    for _ in range(400):  # kerbs, signs, cracks: edges at every scale
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(8, 600), rng.randrange(8, 400)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=colour)
    for _ in range(300):
        points = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        draw.line(points, fill=(20, 20, 20), width=rng.randrange(1, 6))
    # Sensor noise, a little different in each channel.
    grains = [Image.effect_noise(size, sigma) for sigma in noise]
    return Image.merge(
        "RGB",
        [
            ImageChops.add(band, grain, offset=-128)
            for band, grain in zip(img.split(), grains, strict=True)
        ],
    )


def phone_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Benchmark"  # Make
    exif[0x0110] = "Phone 12MP"  # Model
    exif[0x0112] = 6  # portrait, rotated: the usual case for a phone
    exif[0x0132] = "2024:06:01 12:00:00"  # DateTime
    exif[0x8825] = {1: "N", 2: (59.0, 19.0, 51.0), 3: "E", 4: (18.0, 4.0, 7.0)}
    return exif.tobytes()


def encoded(img: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, exif=phone_exif(), **params)
    return buf.getvalue()


def display_p3() -> bytes:
    """An ICC profile with Display P3's primaries (what iPhones tag JPEGs with)."""
    from devkit.images import rgb_icc_profile

    return rgb_icc_profile(
        "Display P3",
        (0.5151, 0.2412, -0.0011),
        (0.2920, 0.6922, 0.0419),
        (0.1571, 0.0666, 0.7841),
    )


def inputs(
    seed: int, size: tuple[int, int], smoke: bool = False
) -> list[tuple[str, str, bytes]]:
    """(label, format, bytes) for each row of the table; a smoke run's HEIC is
    encoded with x265's fastest preset (the default takes a minute or more)."""
    typical = photo(seed, TYPICAL_NOISE, size)
    cases = [
        ("JPEG q92, typical noise", "JPEG", encoded(typical, "JPEG", quality=92)),
        (
            "JPEG q92, typical noise, Display P3 profile",
            "JPEG",
            encoded(typical, "JPEG", quality=92, icc_profile=display_p3()),
        ),
        (
            "JPEG q92, heavy noise",
            "JPEG",
            encoded(photo(seed, HEAVY_NOISE, size), "JPEG", quality=92),
        ),
        ("PNG, typical noise", "PNG", encoded(typical, "PNG")),
        ("WebP q90, typical noise", "WEBP", encoded(typical, "WEBP", quality=90)),
    ]
    if HEIF_SUPPORTED:
        try:
            fast = {"enc_params": {"preset": "ultrafast"}} if smoke else {}
            heic = encoded(typical, "HEIF", quality=50, **fast)
        except (KeyError, OSError):  # a pillow-heif build without an encoder
            pass
        else:
            cases.append(("HEIC q50, typical noise", "HEIF", heic))
    return cases


def plain(data: bytes, size: tuple[int, int]) -> Image.Image:
    """The baseline: a plain Pillow decode and resize of the same file."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        return img.resize(size, RESAMPLE)


def plain_size(data: bytes) -> tuple[int, int]:
    """The baseline's output size: the long side IMAGE_MAX_SIDE, as stored
    (before any orientation), the aspect ratio kept."""
    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    scale = IMAGE_MAX_SIDE / max(width, height)
    return round(width * scale), round(height * scale)


def timings(data: bytes, runs: int, warmup: int) -> dict:
    """process_photo's and the baseline's times (ms), run by run in turn."""
    size = plain_size(data)
    for _ in range(warmup):
        plain(data, size)
        processed = process_photo(data, name="bench", max_bytes=len(data))
    times, baseline = [], []
    for _ in range(runs):
        start = time.perf_counter()
        plain(data, size)
        baseline.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        processed = process_photo(data, name="bench", max_bytes=len(data))
        times.append((time.perf_counter() - start) * 1000)
    return {
        "times": times,
        "baseline": baseline,
        "size": (processed.width, processed.height),
        "bytes": len(processed.image),
    }


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def machine(loads: tuple[float | None, float | None]) -> str:
    cpu = cpu_description()
    load = ""
    if None not in loads:
        load = (
            f"; 1-minute load average {loads[0]:.2f} at the start, "
            f"{loads[1]:.2f} at the end"
        )
    if features.check_feature("libjpeg_turbo"):
        jpeg = f"libjpeg-turbo {features.version('libjpeg_turbo')}"
    else:
        jpeg = f"libjpeg {features.version('jpg')}"
    heif = "no pillow-heif"
    if HEIF_SUPPORTED:
        import pillow_heif

        heif = (
            f"pillow-heif {pillow_heif.__version__} "
            f"(libheif {pillow_heif.libheif_version()})"
        )
    return (
        f"- CPU: {cpu} (the benchmark runs on one){load}\n"
        f"- Python {platform.python_version()}, Pillow {PIL.__version__} "
        f"({jpeg}, libwebp {features.version('webp')}, {heif})\n"
        f"- Date: {datetime.date.today().isoformat()}"
    )


def _sigmas(noise: tuple[float, ...]) -> str:
    return "/".join(f"{v:g}" for v in noise)


def section(
    args: argparse.Namespace, rows: list[str], notes: list[str], loads: tuple
) -> str:
    command = " ".join(["python", "bench/photo.py", *sys.argv[1:]])
    lines = [
        HEADING,
        "",
        f"`process_photo` on {args.size[0]} x {args.size[1]} photos built in memory: "
        "gradients, 700 shapes and lines, and Gaussian noise of standard deviation "
        f"{_sigmas(TYPICAL_NOISE)} (typical) or {_sigmas(HEAVY_NOISE)} (heavy) in "
        f"R/G/B, seed {args.seed}; every input carries EXIF with orientation 6 and "
        "GPS. Each call checks the type from the content and the pixel count from "
        "the header, decodes (JPEG in draft mode), resizes to a long side of "
        f"{IMAGE_MAX_SIDE} px ({RESAMPLE.name.title()} filter), applies the "
        "orientation, drops all metadata and encodes JPEG quality 85 (no Huffman optimisation), "
        f"plus a 320 px thumbnail. {args.runs} timed runs after {args.warmup} "
        "warm-up runs, one thread pinned to one core. Baseline, measured in the "
        "same run: a plain Pillow decode and resize of the same file (`Image.open`, "
        f"`load()`, `resize` to a long side of {IMAGE_MAX_SIDE} px with the same "
        "filter: no draft mode, no orientation, no colour conversion, no "
        "encoding), timed just before each `process_photo` call; × baseline is "
        "`process_photo`'s p50 over the baseline's p50. Target: p95 at most "
        f"{TARGET_MS:.0f} ms for the JPEGs.",
        "",
        machine(loads),
        "",
        "```sh",
        command,
        "```",
        "",
        "| Input | Input size | Output | Output size | min (ms) | p50 (ms) "
        "| p95 (ms) | max (ms) | Baseline p50 (ms) | × baseline | Target |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
        *rows,
        "",
        *(f"- {n}" for n in notes),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20240601)
    add_smoke(parser)
    args = parser.parse_args()
    args.size, args.warmup = SIZE, WARMUP
    if args.smoke:
        args.size, args.runs, args.warmup = (2000, 1500), 3, 1
    if hasattr(os, "sched_setaffinity") and not args.smoke:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    start_load = load_average()
    rows, notes, problems = [], [], []
    for label, fmt, data in inputs(args.seed, args.size, args.smoke):
        timed = timings(data, args.runs, args.warmup)
        times, size, out_bytes = timed["times"], timed["size"], timed["bytes"]
        p50, p95 = statistics.median(times), percentile(times, 95)
        base = statistics.median(timed["baseline"])
        result(f"photo {label}, p50", p50, base, "ms")
        # Portrait (orientation 6), the long side IMAGE_MAX_SIDE.
        if size != (round(IMAGE_MAX_SIDE * 3 / 4), IMAGE_MAX_SIDE) or not out_bytes:
            problems.append(f"{label}: output {size[0]} x {size[1]}, {out_bytes} B")
        verdict = ("pass" if p95 <= TARGET_MS else "fail") if fmt == "JPEG" else "—"
        cells = [
            label,
            f"{len(data) / 1e6:.2f} MB",
            f"{size[0]} x {size[1]}",
            f"{out_bytes / 1e3:.0f} kB",
            f"{min(times):.1f}",
            f"{p50:.1f}",
            f"{p95:.1f}",
            f"{max(times):.1f}",
            f"{base:.1f}",
            f"{ratio(p50, base):.2f}",
            verdict,
        ]
        rows.append("| " + " | ".join(cells) + " |")
    notes.append(
        "The JPEGs are decoded at half scale (2000 x 1500) by libjpeg's DCT "
        "scaling, so their time is mostly entropy decoding and grows with the file "
        "size. PNG, WebP and HEIC have no such mode and are decoded in full. The "
        "target is for the JPEG rows: what phones and browsers send."
    )
    notes.append(
        "A photo tagged with a colour profile other than sRGB (Display P3 here, "
        "as iPhones tag theirs) is converted to sRGB with LittleCMS after the "
        "resize; that conversion is the difference between the first two rows."
    )
    if HEIF_SUPPORTED:
        notes.append(
            "HEIC is decoded by libheif/libde265 in full; pinned to one core it "
            "cannot use its decoding threads."
        )
    notes.append(
        "The machine is shared with other work (see the load average above); "
        "min is the best case, p95 and max include that interference."
    )
    notes.append(
        "p95 is the nearest-rank 95th percentile of the timed runs; with "
        f"{args.runs} runs it is the {max(1, math.ceil(0.95 * args.runs))}"
        "th fastest."
    )
    notes.append(
        "The baseline decodes every format in full, JPEG included, so a JPEG's "
        "ratio says what draft mode saves against the rest of the work "
        "(orientation, metadata, colour conversion, encoding the image and the "
        "thumbnail); the other formats' ratio is that rest alone. Between "
        "machines, compare the baseline column first: it moves with the CPU, "
        "the libraries and the load, and the ratio should not."
    )
    text = section(args, rows, notes, (start_load, load_average()))
    if not args.smoke:
        write_section(HEADING, text)
    print(text)
    finish(problems)


if __name__ == "__main__":
    main()
