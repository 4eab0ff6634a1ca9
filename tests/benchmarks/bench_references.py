"""Reference-image preparation: wan26 against the least Pillow can do, in time and peak memory.

Cases, drawn here into a temporary folder (noise over gradients, so files compress like photos):
  rotated   4 JPEGs of 12 MP (4000x3000) with EXIF orientation 6, as a phone writes them
  alpha     1 PNG of 64 MP (8000x8000) with alpha: a cut-out on a transparent background
  upright   1 JPEG of 12 MP, upright and within DashScope's limits: wan26 sends its own bytes,
            the baseline still decodes and re-encodes it (which is what wan26 no longer does)

Baseline, per file and one file after another: open the path, decode, `ImageOps.exif_transpose`
in place, flatten any alpha onto white (`Image.new` + `paste` with the image as its own mask),
encode JPEG quality 95, base64. wan26: `prepare_images(paths, DASHSCOPE_IMAGE_RULES)`, reading
the files included.

Every measurement is a fresh child process that does exactly one preparation. Time (wall clock,
and CPU time of all threads) is taken inside it around the preparation; peak memory is its
`ru_maxrss` at the end, since Pillow's pixels are C memory, which tracemalloc does not see. Both
kinds of child run this same script, so both have imported the same modules; "growth" is the
peak above the resident size just before the preparation. Rounds alternate baseline and wan26;
figures are medians; ratio = wan26 / baseline. The load average is printed too: on a busy
machine wall time is noisy, and CPU time shows the work done. Run from the repository root:

    python tests/benchmarks/bench_references.py [--rounds 5] [--inputs FOLDER]

`--inputs` keeps the drawn files in FOLDER (about 55 MB) and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from anywhere: wan26 from the checkout

import PIL  # noqa: E402
from PIL import ExifTags, Image, ImageOps  # noqa: E402

from wan26.images import DASHSCOPE_IMAGE_RULES, prepare_images  # noqa: E402

PHOTO_SIZE = (4000, 3000)  # 12 MP
CUTOUT_SIZE = (8000, 8000)  # 64 MP
CASES = {
    "rotated": [f"phone-{n}.jpg" for n in range(1, 5)],
    "alpha": ["cutout.png"],
    "upright": ["upright.jpg"],
}


@dataclass(frozen=True)
class Sample:
    """What one child process measured."""

    seconds: float
    cpu_seconds: float
    peak_mb: float
    growth_mb: float
    out_bytes: list[int]


# Inputs


def photo(size: tuple[int, int], sigma: float = 24) -> Image.Image:
    """Gradients, blotches and grain per channel: JPEG sizes like a camera's, not like flat colour."""
    return Image.merge("RGB", [_texture(size, gradient, sigma) for gradient in _gradients(size)])


def _gradients(size: tuple[int, int]) -> list[Image.Image]:
    linear, radial = Image.linear_gradient("L"), Image.radial_gradient("L")
    return [g.resize(size, Image.Resampling.BILINEAR) for g in (linear, radial, linear.rotate(90))]


def _texture(size: tuple[int, int], gradient: Image.Image, sigma: float) -> Image.Image:
    blotches = Image.effect_noise((size[0] // 16, size[1] // 16), 64).resize(size, Image.Resampling.BICUBIC)
    return Image.blend(Image.blend(gradient, blotches, 0.5), Image.effect_noise(size, sigma), 0.25)


def cutout(scene: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`scene` enlarged inside a soft-edged disc on a transparent background, like a product cut-out.

    Fully transparent pixels are black, as editors save them, so flattening onto white shows.
    The background keeps the PNG under wan26's 50 MB read cap, which a 64 MP photo filling the
    whole frame would not fit in as PNG.
    """
    alpha = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR).point(_disc)
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste(scene.resize(size, Image.Resampling.BICUBIC), mask=alpha)
    image.putalpha(alpha)
    return image


def _disc(distance: int) -> int:
    """Opaque out to about half the way to the edges, then fading out."""
    return max(0, min(255, (120 - distance) * 16))


def make_inputs(folder: Path) -> None:
    """Every file of CASES, drawn into `folder`."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    scene = photo(PHOTO_SIZE)
    for quality, name in enumerate(CASES["rotated"], start=90):  # four different files of one scene
        scene.save(folder / name, quality=quality, exif=exif)
    scene.save(folder / CASES["upright"][0], quality=92)
    # compress_level 1: quick to write, and still under the read cap.
    cutout(scene, CUTOUT_SIZE).save(folder / CASES["alpha"][0], compress_level=1)


# What a child process measures


def baseline(paths: list[Path]) -> list[tuple[int, str]]:
    return [_baseline_one(path) for path in paths]


def _baseline_one(path: Path) -> tuple[int, str]:
    """(bytes encoded, their base64): the least work that makes one upright, opaque JPEG of a file."""
    image: Image.Image = Image.open(path)
    ImageOps.exif_transpose(image, in_place=True)  # in place: the unturned pixels are freed at once
    if image.mode == "RGBA":
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image)  # the image's own alpha as mask: no separate alpha copy
        image = flat
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return len(buffer.getvalue()), base64.b64encode(buffer.getvalue()).decode("ascii")


def ours(paths: list[Path]) -> list[tuple[int, str]]:
    return [(p.byte_size or 0, p.wire) for p in prepare_images(paths, DASHSCOPE_IMAGE_RULES)]


def measure_in_child(kind: str, paths: list[str]) -> None:
    """One preparation, then one JSON line on stdout: the fields of Sample."""
    work: Callable[[list[Path]], list[tuple[int, str]]] = baseline if kind == "baseline" else ours
    before, cpu_before = _resident_mb(), _cpu_seconds()
    start = time.perf_counter()
    out = work([Path(path) for path in paths])  # kept until the peak is read, as a caller keeps it
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu_before
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    sizes = [size for size, _ in out]
    figures = {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak, "growth_mb": peak - before}
    print(json.dumps(figures | {"out_bytes": sizes}))


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _cpu_seconds() -> float:
    """User and system time of every thread so far: the work done, whatever else the machine runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# The parent


def run_child(*arguments: str) -> str:
    """This script as a child process; its stdout. A failure shows the child's own error."""
    done = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"child {' '.join(arguments[:2])} failed:\n{done.stderr}")
    return done.stdout


def sample(kind: str, paths: list[Path]) -> Sample:
    return Sample(**json.loads(run_child("--child", kind, *map(str, paths)).splitlines()[-1]))


def compare(case: str, paths: list[Path], rounds: int) -> None:
    runs: dict[str, list[Sample]] = {"baseline": [], "ours": []}
    for _ in range(rounds):
        for kind in runs:  # interleaved, so drift in the machine hits both alike
            runs[kind].append(sample(kind, paths))
    report(case, paths, runs["baseline"], runs["ours"])


FIGURES = (("time s", "seconds"), ("CPU s", "cpu_seconds"), ("peak MB", "peak_mb"), ("growth MB", "growth_mb"))


def report(case: str, paths: list[Path], base: list[Sample], mine: list[Sample]) -> None:
    inputs = sum(path.stat().st_size for path in paths)
    print(f"{case}: {len(paths)} file(s), {inputs / 2**20:.1f} MB in")
    for label, field in FIGURES:
        b, m = (statistics.median(getattr(s, field) for s in runs) for runs in (base, mine))
        print(f"  {label:10} baseline {b:8.2f}   wan26 {m:8.2f}   ratio {m / b:5.2f}")
    b_out, m_out = (sum(runs[0].out_bytes) / 2**20 for runs in (base, mine))
    print(f"  {'bytes out':10} baseline {b_out:8.2f}   wan26 {m_out:8.2f}   ratio {m_out / b_out:5.2f}  (MB)")


def machine() -> str:
    load = ", ".join(f"{figure:.1f}" for figure in os.getloadavg())
    return f"{os.cpu_count()} CPUs (load {load}), Python {platform.python_version()}, Pillow {PIL.__version__}"


def run_all(folder: Path, rounds: int) -> None:
    if not all((folder / name).exists() for names in CASES.values() for name in names):
        # In a child: Linux counts a parent's resident size at fork in its children's ru_maxrss.
        run_child("--make-inputs", str(folder))
    print(f"{machine()}; {rounds} rounds")
    for case, names in CASES.items():
        compare(case, [folder / name for name in names], rounds)
    print(f"load at the end: {machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each kind per case (default 5)")
    parser.add_argument("--inputs", type=Path, help="keep the drawn inputs in this folder, and reuse them")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--make-inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure_in_child(args.child[0], args.child[1:])
    elif args.make_inputs:
        make_inputs(args.make_inputs)
    elif args.inputs:
        args.inputs.mkdir(parents=True, exist_ok=True)
        run_all(args.inputs, args.rounds)
    else:
        with tempfile.TemporaryDirectory() as folder:
            run_all(Path(folder), args.rounds)


if __name__ == "__main__":
    main()
