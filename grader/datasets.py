"""The suites' data sets: MNIST-format ones (MNIST, Fashion-MNIST), IDX files,
gzip or raw, and Fisher's iris (``grader/data/iris.csv``, shipped with the grader).

Where the files are looked for, in order: the ``root`` argument, the
environment variable ``DLGRADE_DATA``, ``../shared/datasets/<name>`` beside the
course checkout, and ``~/.cache/dlgrade/<name>`` (where ``download=True`` puts
them, through torchvision). In each place, the files may sit directly or in
torchvision's ``MNIST/raw/`` layout.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from grader.course import Course
from grader.spec import float32_exact

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# SHA-256 of the decompressed IDX bytes (independent of how the .gz was made).
KNOWN_SHA256 = {
    "mnist": {
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    },
}
TORCHVISION_CLASSES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
IRIS_CSV = Path(__file__).resolve().parent / "data" / "iris.csv"
IRIS_SPECIES = ("setosa", "versicolor", "virginica")
# IDX type codes (the third byte of the magic number) and their dtypes, big-endian.
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DatasetError(Exception):
    """Data that cannot be found or does not check out; the message says what to do."""


def read_idx(path: Path, expected_sha256: str | None = None) -> np.ndarray:
    """An IDX file (``.gz`` or raw) as an array in native byte order."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DatasetError(f"{path}: cannot be read ({e})") from None
    if expected_sha256 and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise DatasetError(f"{path}: checksum mismatch (a corrupt or different file); download it again")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_DTYPES:
        raise DatasetError(f"{path}: not an IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    if len(data) != header + dtype.itemsize * int(np.prod(shape)):
        raise DatasetError(f"{path}: size does not match its header's shape {shape}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def candidate_dirs(name: str, root: str | Path | None = None) -> list[Path]:
    places = []
    if root:
        places.append(Path(root))
    if os.environ.get("DLGRADE_DATA"):
        places.append(Path(os.environ["DLGRADE_DATA"]))
    places.append(Course.locate().root.parent / "shared" / "datasets" / name)
    places.append(Path.home() / ".cache" / "dlgrade" / name)
    # torchvision's layout inside each place
    return [d for p in places for d in (p, p / TORCHVISION_CLASSES.get(name, name) / "raw")]


def _find(stem: str, dirs: list[Path]) -> Path | None:
    for d in dirs:
        for candidate in (d / f"{stem}.gz", d / stem):
            if candidate.is_file():
                return candidate
    return None


def load(split: str = "train", name: str = "mnist", root: str | Path | None = None,
         download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(images uint8 (N, 28, 28), labels int64 (N,))`` of one split."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    dirs = candidate_dirs(name, root)
    paths = [_find(stem, dirs) for stem in SPLITS[split]]
    if None in paths and download:
        _download(name)
        paths = [_find(stem, dirs) for stem in SPLITS[split]]
    if None in paths:
        missing = [stem for stem, p in zip(SPLITS[split], paths) if p is None]
        raise DatasetError(
            f"{name} {split} files not found: {', '.join(missing)} (.gz or raw). Put the four IDX files in one of:\n"
            + "\n".join(f"  {d}" for d in dirs[::2])
            + "\nor set DLGRADE_DATA to their folder, or pass download=True when online (needs torchvision)."
        )
    found = [p for p in paths if p is not None]  # all of them, by now
    sums = KNOWN_SHA256.get(name, {})
    images, labels = (read_idx(p, sums.get(stem)) for p, stem in zip(found, SPLITS[split]))
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{found[0]} and {found[1]} do not match: shapes {images.shape} and {labels.shape}")
    return images, labels.astype(np.int64)


def _download(name: str) -> None:
    try:
        import torchvision
    except ImportError:
        raise DatasetError(f"downloading {name} needs torchvision (pip install torchvision), or put the files "
                           f"in place by hand") from None
    target = Path.home() / ".cache" / "dlgrade" / name
    dataset = getattr(torchvision.datasets, TORCHVISION_CLASSES[name])
    for train in (True, False):
        try:
            dataset(root=str(target), train=train, download=True)
        except Exception as e:  # noqa: BLE001 - torchvision raises several kinds for a failed download
            raise DatasetError(f"downloading {name} into {target} failed ({e}); are you online?") from None


# Seven-segment strokes of each digit, as line segments between points of a 2x3 grid (x, y).
_SEGMENTS = {
    "top": ((0, 0), (1, 0)), "upper left": ((0, 0), (0, 1)), "upper right": ((1, 0), (1, 1)),
    "middle": ((0, 1), (1, 1)), "lower left": ((0, 1), (0, 2)), "lower right": ((1, 1), (1, 2)),
    "bottom": ((0, 2), (1, 2)),
}
_DIGIT_SEGMENTS = [
    ("top", "upper left", "upper right", "lower left", "lower right", "bottom"),
    ("upper right", "lower right"),
    ("top", "upper right", "middle", "lower left", "bottom"),
    ("top", "upper right", "middle", "lower right", "bottom"),
    ("upper left", "upper right", "middle", "lower right"),
    ("top", "upper left", "middle", "lower right", "bottom"),
    ("top", "upper left", "middle", "lower left", "lower right", "bottom"),
    ("top", "upper right", "lower right"),
    ("top", "upper left", "upper right", "middle", "lower left", "lower right", "bottom"),
    ("top", "upper left", "upper right", "middle", "lower right", "bottom"),
]


def synthetic_digits(n: int, rng: np.random.Generator, size: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``n`` seven-segment digits drawn at random scale, slant, position and
    stroke width, with noise: ``(images uint8 (n, size, size), labels int64)``.

    A stand-in with MNIST's format where the real files are absent (CPU-mode
    grading on a machine without them): a CNN learns it as it learns MNIST,
    only more easily. Drawn here rather than taken from a library because the
    grading core must run on numpy and torch alone."""
    labels = rng.integers(0, 10, n)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
    images = np.empty((n, size, size), dtype=np.uint8)
    for i, digit in enumerate(labels):
        width, height = rng.uniform(6, 10), rng.uniform(8, 11)
        slant, cx, cy = rng.uniform(-0.25, 0.25), size / 2 + rng.uniform(-3, 3), size / 2 + rng.uniform(-3, 3)
        stroke = rng.uniform(1.0, 2.2)
        distance = np.full((size, size), np.inf)
        for name in _DIGIT_SEGMENTS[digit]:
            (x0, y0), (x1, y1) = _SEGMENTS[name]
            # Grid point (gx, gy) in pixels: centred, scaled, slanted.
            p0 = np.array([cx + (x0 - 0.5) * width - (y0 - 1) * height * slant, cy + (y0 - 1) * height])
            p1 = np.array([cx + (x1 - 0.5) * width - (y1 - 1) * height * slant, cy + (y1 - 1) * height])
            d = p1 - p0
            t = np.clip(((xs - p0[0]) * d[0] + (ys - p0[1]) * d[1]) / (d @ d), 0, 1)
            distance = np.minimum(distance, np.hypot(xs - p0[0] - t * d[0], ys - p0[1] - t * d[1]))
        ink = np.clip(stroke + 0.5 - distance, 0, 1) + rng.normal(0, 0.08, (size, size))
        images[i] = np.clip(ink * 255, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


@lru_cache(maxsize=1)
def iris() -> tuple[np.ndarray, np.ndarray]:
    """Fisher's iris data, every feature standardised over the 150 flowers
    (float32-exact), and the species as labels 0, 1, 2."""
    with IRIS_CSV.open(newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    x = np.array([[float(r[k]) for k in ("sepal_length", "sepal_width", "petal_length", "petal_width")]
                  for r in rows])
    y = np.array([IRIS_SPECIES.index(r["species"]) for r in rows], dtype=np.int64)
    return float32_exact((x - x.mean(axis=0)) / x.std(axis=0)), y


def iris_species(x: np.ndarray) -> np.ndarray:
    """The species of each row of ``x`` (standardised features, as ``iris()``
    gives them), looked up in the data set (rows that occur twice in iris have
    the same species)."""
    features, species = iris()
    distance = np.abs(x[:, None, :] - features[None, :, :]).max(axis=2)
    return species[np.argmin(distance, axis=1)]
