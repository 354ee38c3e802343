"""Pixel data decoding: turbodicom's codecs against the other decoders pydicom users have.

Six groups, all reported in megapixels per second (``extra_info["megapixels"]``,
the pixels one round decodes) and drawn in ``docs/benchmarks_pixels.png``:

* ``rle-decode``: single RLE Lossless frames, ``turbodicom._core.decode_frame``
  against pylibjpeg-rle's ``rle.utils.decode_frame`` (baseline, target 1.5),
  imagecodecs' ``dicomrle_decode`` and pydicom's own RLE decoder.
* ``jpeg-lossless-decode``: single JPEG Lossless SV1 frames against libjpeg-turbo
  (``imagecodecs.jpeg8_decode``, baseline, target 1.5), liblj92
  (``imagecodecs.ljpeg_decode``), pylibjpeg-libjpeg (``libjpeg.decode``) and GDCM.
* ``jpeg-extended-decode``: 12-bit lossy frames against libjpeg-turbo (baseline,
  target 1.0) and pylibjpeg-libjpeg.
* ``jpeg-baseline-decode``: 8-bit greyscale and YCbCr 4:2:0 / 4:2:2 frames against
  libjpeg-turbo (baseline, target 0.8), pylibjpeg-libjpeg and GDCM.
* ``pixel-array``: ``pydicom.pixels.pixel_array(ds, decoding_plugin=...)`` on a
  50-frame JPEG Lossless SV1 image with the plugins "turbodicom", "pylibjpeg" and
  "gdcm"; the baseline is the faster of pylibjpeg and gdcm (target 3.0).
  ``turbodicom.pixel_array(ds)`` (frames decoded in parallel) is an extra row.
* ``multiframe-workers``: ``turbodicom.pixel_array(ds, workers=1)`` against
  ``workers=2`` on a 1,000-frame JPEG Lossless SV1 image (target 1.8).

The single-frame groups time the codecs alone: every decoder gets the same encoded
frames and returns the samples as coded (no colour transform), and each round decodes
every frame of the group's workload once. The images are synthetic (built once per
pytest run, with pydicom's RLE encoder and libjpeg-turbo's JPEG encoder through
imagecodecs) plus, when the corpus beside the repository is present, a few real files
of it. Before timing, every decoder's output is checked: equal to the source pixels
for the lossless syntaxes, within 1 of libjpeg-turbo's for lossy JPEG.

Run with::

    python -m pytest benchmarks/bench_pixels.py --benchmark-disable-gc \
        --benchmark-json=benchmarks/results_pixels.json
    python benchmarks/report.py benchmarks/results_pixels.json
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels.decoders.base import DecodeRunner

from make_ct_series import CORPUS

CHART = "pixels"
CORPUS_DS = CORPUS / "pylibjpeg-data" / "ds"

TARGETS = {
    "rle-decode": 1.5,
    "jpeg-lossless-decode": 1.5,
    "jpeg-extended-decode": 1.0,
    "jpeg-baseline-decode": 0.8,
    "pixel-array": 3.0,
    "multiframe-workers": 1.8,
}

#: Rounds are chosen from the time of the checking call, so that each benchmark takes
#: about ROUND_BUDGET seconds, within [MIN_ROUNDS, MAX_ROUNDS].
ROUND_BUDGET = 1.5
MIN_ROUNDS = 5
MAX_ROUNDS = 50

#: Synthetic workloads.
RLE_FRAMES = 20  # 512x512, 16-bit
LOSSLESS_FRAMES = 10  # 512x512, 16-bit
EXTENDED_FRAMES = 10  # 512x512, 12-bit
BASELINE_GREY_FRAMES = 4  # 1024x1024, 8-bit
PIXEL_ARRAY_FRAMES = 50  # 512x512, 16-bit JPEG Lossless SV1
WORKERS_FRAMES = 1000  # 256x256, 16-bit JPEG Lossless SV1
WORKERS_DISTINCT = 100  # distinct frames among them (encoding all 1,000 takes seconds)

#: Corpus files added to the workloads when the corpus is present. Each is decoded by
#: every peer of its group (pylibjpeg-libjpeg rejects JPEG-lossy.dcm, so it is left out).
CORPUS_FILES = {
    "rle-decode": ["RLELossless/OBXXXX1A_rle.dcm"],
    "jpeg-lossless-decode": ["JPEGLosslessSV1/JPEGLosslessP14SV1_1s_1f_u_16_16.dcm",
                             "JPEGLosslessSV1/RG2_JPLL.dcm"],
    "jpeg-extended-decode": ["JPEGExtended/JPEGExtended_1s_1f_u_16_12.dcm",
                             "JPEGExtended/RG2_JPLY_fixed.dcm"],
    "jpeg-baseline-decode": [],
}


# --------------------------------------------------------------------------- helpers


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _turbodicom_core():
    """turbodicom's C++ module, or skip when turbodicom or its pixel codecs are not built."""
    try:
        import turbodicom
        from turbodicom import _core
    except Exception as exc:  # noqa: BLE001 - not built, or built without the codecs
        pytest.skip(f"turbodicom cannot be imported: {exc}")
    if not hasattr(_core, "decode_frame") or not hasattr(turbodicom, "pixel_array"):
        pytest.skip("this turbodicom build has no pixel codecs")
    return turbodicom, _core


def _smooth_ct(n: int, rows: int, columns: int, seed: int, top: int = 4095) -> np.ndarray:
    """`n` CT-like frames: a smooth body with structures, shifted from frame to frame, plus noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float32)
    y = (y - rows / 2) / (rows / 2)
    x = (x - columns / 2) / (columns / 2)
    body = (x**2 / 0.8 + y**2 / 0.6) < 1.0
    out = np.empty((n, rows, columns), dtype=np.uint16)
    for i in range(n):
        phase = i * 0.15
        tissue = 1040 + 60 * np.sin(6 * x + phase) * np.cos(5 * y - phase)
        organs = 250 * np.exp(-((x - 0.3 * np.cos(phase)) ** 2 + (y + 0.2) ** 2) / 0.05)
        bone = 900 * (((x + 0.35) ** 2 + (y - 0.1) ** 2) < 0.02)
        frame = np.where(body, tissue + organs + bone, 24) + rng.normal(0, 12, (rows, columns))
        out[i] = np.clip(frame, 0, top)
    return out


def _smooth_rgb(rows: int, columns: int, seed: int) -> np.ndarray:
    """A smooth colour image with a little noise, like a photograph or a rendering."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float32)
    rgb = np.stack([128 + 100 * np.sin(x / 60) * np.cos(y / 90),
                    128 + 90 * np.cos((x + y) / 80),
                    128 + 80 * np.sin(x * y / 40000)], axis=-1)
    return np.clip(rgb + rng.normal(0, 3, rgb.shape), 0, 255).astype(np.uint8)


@dataclass
class Image:
    """Encoded frames of one image, with what decoding them must give."""

    name: str
    transfer_syntax: uid.UID
    frames: list[bytes]
    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    photometric: str
    expected: list[np.ndarray] = field(repr=False)  # per frame, (rows, columns[, samples])
    lossy: bool = False
    signed: bool = False
    planar: int = 0

    @property
    def desc(self) -> tuple:
        return (self.rows, self.columns, self.samples, self.bits_allocated, self.bits_stored,
                self.signed, self.planar)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype("u1" if self.bits_allocated == 8 else "<u2")

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, self.columns) + ((self.samples,) if self.samples > 1 else ())

    @property
    def pixels(self) -> int:
        return self.rows * self.columns * len(self.frames)

    @cached_property
    def runner(self) -> DecodeRunner:
        """A pydicom decode runner for this image (GDCM's frame decoder takes one)."""
        runner = DecodeRunner(self.transfer_syntax)
        runner.set_options(rows=self.rows, columns=self.columns, samples_per_pixel=self.samples,
                           bits_allocated=self.bits_allocated, bits_stored=self.bits_stored,
                           pixel_representation=int(self.signed), number_of_frames=len(self.frames),
                           photometric_interpretation=self.photometric, planar_configuration=self.planar)
        return runner


@dataclass
class Workload:
    group: str
    images: list[Image]
    summary: str

    @property
    def megapixels(self) -> float:
        return sum(image.pixels for image in self.images) / 1e6

    @property
    def frames(self) -> int:
        return sum(len(image.frames) for image in self.images)


def _corpus_images(group: str, reference: Callable[[bytes, Image], np.ndarray], lossy: bool) -> list[Image]:
    """The corpus files of `group` that are present, their frames decoded by `reference`."""
    images = []
    for relative in CORPUS_FILES.get(group, []):
        path = CORPUS_DS / relative
        if not path.is_file():
            continue
        ds = pydicom.dcmread(path)
        n = int(ds.get("NumberOfFrames", 1) or 1)
        image = Image(f"corpus {path.name}", ds.file_meta.TransferSyntaxUID,
                      list(generate_frames(ds.PixelData, number_of_frames=n)), ds.Rows, ds.Columns,
                      ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.PhotometricInterpretation,
                      expected=[], lossy=lossy, signed=bool(ds.PixelRepresentation),
                      planar=int(ds.get("PlanarConfiguration", 0) or 0))
        image.expected = [reference(frame, image) for frame in image.frames]
        images.append(image)
    return images


def _describe_images(images: list[Image]) -> str:
    parts = []
    for image in images:
        kind = f"{image.bits_stored}-bit"
        if image.samples > 1:
            kind += f" {image.samples}-sample {image.photometric}"
        count = f"{len(image.frames)} × " if len(image.frames) > 1 else ""
        parts.append(f"{image.name} ({count}{image.columns}x{image.rows} {kind})")
    return ", ".join(parts)


# ----------------------------------------------------------------------- decoders
#
# Each decoder takes (encoded frame, Image) and returns the frame's samples as an
# array of image.shape, colour-by-pixel, without colour transform. `prepare(image)`
# raises (and the benchmark skips) when the decoder cannot handle the image.


def _imagecodecs():
    return pytest.importorskip("imagecodecs")


def _jpeg_space(image: Image) -> str:
    # The same colour space in and out: libjpeg-turbo returns the components as coded.
    return "RGB" if image.samples == 3 else "GRAYSCALE"


def _libjpeg_turbo_frame(frame: bytes, image: Image) -> np.ndarray:
    import imagecodecs

    space = _jpeg_space(image)
    return imagecodecs.jpeg8_decode(frame, colorspace=space, outcolorspace=space)


@dataclass
class Decoder:
    label: str
    library: str  # the package, for its version and the chart's colours
    call: str  # the call, for the description
    load: Callable[[], Any]  # imports what the decoder needs (or skips)
    make: Callable[[Any, Image], Callable[[bytes], Any]]  # per image: frame -> samples
    to_array: Callable[[Any, Image], np.ndarray]


def _as_samples(raw: Any, image: Image) -> np.ndarray:
    return np.frombuffer(raw, dtype=image.dtype).reshape(image.shape)


def _planar_to_pixels(raw: Any, image: Image) -> np.ndarray:
    """RLE decoders other than turbodicom's return planar (colour-by-plane) frames."""
    arr = np.frombuffer(raw, dtype=image.dtype)
    if image.samples == 1:
        return arr.reshape(image.shape)
    return arr.reshape(image.samples, image.rows, image.columns).transpose(1, 2, 0)


def _turbodicom_decoder() -> Decoder:
    def make(core, image):
        ts, desc = str(image.transfer_syntax), image.desc
        return lambda frame: core.decode_frame(ts, frame, desc)

    return Decoder("turbodicom", "turbodicom", "`turbodicom._core.decode_frame`",
                   lambda: _turbodicom_core()[1], make, _as_samples)


def _pylibjpeg_rle_decoder() -> Decoder:
    def load():
        pytest.importorskip("rle")
        from rle.utils import decode_frame

        return decode_frame

    def make(decode_frame, image):
        pixels, bits = image.rows * image.columns, image.bits_allocated
        return lambda frame: decode_frame(frame, pixels, bits, "<")

    return Decoder("pylibjpeg-rle", "pylibjpeg-rle", "pylibjpeg-rle's `rle.utils.decode_frame`", load, make,
                   _planar_to_pixels)


def _pydicom_rle_decoder() -> Decoder:
    def load():
        from pydicom.pixels.decoders.rle import _rle_decode_frame

        return _rle_decode_frame

    def make(decode, image):
        args = (image.rows, image.columns, image.samples, image.bits_allocated, ">")
        return lambda frame: decode(frame, *args)

    return Decoder("pydicom", "pydicom", "pydicom's own RLE decoder", load, make, _planar_to_pixels)


def _imagecodecs_rle_decoder() -> Decoder:
    def make(imagecodecs, image):
        if image.samples != 1:
            raise ValueError("imagecodecs.dicomrle_decode: one sample per pixel only here")
        dtype = image.dtype
        return lambda frame: imagecodecs.dicomrle_decode(frame, dtype)

    return Decoder("imagecodecs", "imagecodecs", "`imagecodecs.dicomrle_decode`", _imagecodecs, make,
                   _planar_to_pixels)


def _libjpeg_turbo_decoder() -> Decoder:
    def make(imagecodecs, image):
        space = _jpeg_space(image)
        return lambda frame: imagecodecs.jpeg8_decode(frame, colorspace=space, outcolorspace=space)

    return Decoder("libjpeg-turbo", "imagecodecs", "libjpeg-turbo (`imagecodecs.jpeg8_decode`)", _imagecodecs,
                   make, lambda arr, image: arr.reshape(image.shape))


def _liblj92_decoder() -> Decoder:
    def make(imagecodecs, image):
        return imagecodecs.ljpeg_decode

    return Decoder("liblj92", "imagecodecs", "liblj92 (`imagecodecs.ljpeg_decode`)", _imagecodecs, make,
                   lambda arr, image: arr.reshape(image.shape))


def _pylibjpeg_libjpeg_decoder() -> Decoder:
    def load():
        return pytest.importorskip("libjpeg")

    def make(libjpeg, image):
        return lambda frame: libjpeg.decode(frame, colour_transform=0)

    return Decoder("pylibjpeg-libjpeg", "pylibjpeg-libjpeg", "pylibjpeg-libjpeg (`libjpeg.decode`)", load, make,
                   lambda arr, image: arr.reshape(image.shape))


def _gdcm_decoder() -> Decoder:
    def load():
        pytest.importorskip("gdcm")
        from pydicom.pixels.decoders.gdcm import _decode_frame

        return _decode_frame

    def make(decode, image):
        runner = image.runner
        return lambda frame: decode(frame, runner)

    return Decoder("gdcm", "python-gdcm", "GDCM (through pydicom's frame decoder)", load, make, _as_samples)


DECODERS = {
    "turbodicom": _turbodicom_decoder,
    "pylibjpeg-rle": _pylibjpeg_rle_decoder,
    "pydicom": _pydicom_rle_decoder,
    "imagecodecs": _imagecodecs_rle_decoder,
    "libjpeg-turbo": _libjpeg_turbo_decoder,
    "liblj92": _liblj92_decoder,
    "pylibjpeg-libjpeg": _pylibjpeg_libjpeg_decoder,
    "gdcm": _gdcm_decoder,
}


# ---------------------------------------------------------------------- workloads


def _rle_encode(frames: np.ndarray, photometric: str = "MONOCHROME2") -> list[bytes]:
    from pydicom.pixels.encoders.base import RLELosslessEncoder

    _, rows, columns = frames.shape[:3]
    samples = frames.shape[3] if frames.ndim == 4 else 1
    bits = frames.dtype.itemsize * 8
    return [RLELosslessEncoder.encode(frame, encoding_plugin="pydicom", rows=rows, columns=columns,
                                      samples_per_pixel=samples, bits_allocated=bits, bits_stored=bits,
                                      pixel_representation=0, photometric_interpretation=photometric,
                                      number_of_frames=1)
            for frame in frames]


def _jpeg_lossless(frames: np.ndarray) -> list[bytes]:
    """JPEG Lossless, first-order prediction (selection value 1), 16-bit precision."""
    imagecodecs = _imagecodecs()
    return [bytes(imagecodecs.jpeg8_encode(frame, lossless=True, predictor=1, bitspersample=16))
            for frame in frames]


@pytest.fixture(scope="session")
def rle_workload() -> Workload:
    ct = _smooth_ct(RLE_FRAMES, 512, 512, seed=1)
    images = [Image("synthetic CT-like", uid.RLELossless, _rle_encode(ct), 512, 512, 1, 16, 16, "MONOCHROME2",
                    expected=list(ct))]

    def reference(frame, image):  # pydicom's own decoder, always installed
        decode = _pydicom_rle_decoder()
        return decode.to_array(decode.make(decode.load(), image)(frame), image)

    images += _corpus_images("rle-decode", reference, lossy=False)
    return Workload("rle-decode", images, f"RLE Lossless frames: {_describe_images(images)}, "
                                          "synthetic frames encoded by pydicom's RLE encoder")


@pytest.fixture(scope="session")
def lossless_workload() -> Workload:
    ct = _smooth_ct(LOSSLESS_FRAMES, 512, 512, seed=2)
    images = [Image("synthetic CT-like", uid.JPEGLosslessSV1, _jpeg_lossless(ct), 512, 512, 1, 16, 16, "MONOCHROME2",
                    expected=list(ct))]
    images += _corpus_images("jpeg-lossless-decode", _libjpeg_turbo_frame, lossy=False)
    return Workload("jpeg-lossless-decode", images,
                    f"JPEG Lossless SV1 frames: {_describe_images(images)}, synthetic frames "
                    "encoded by libjpeg-turbo with 16-bit precision")


@pytest.fixture(scope="session")
def extended_workload() -> Workload:
    imagecodecs = _imagecodecs()
    ct = _smooth_ct(EXTENDED_FRAMES, 512, 512, seed=3)
    frames = [bytes(imagecodecs.jpeg8_encode(frame, level=90, bitspersample=12)) for frame in ct]
    image = Image("synthetic CT-like", uid.JPEGExtended12Bit, frames, 512, 512, 1, 16, 12, "MONOCHROME2",
                  expected=[], lossy=True)
    image.expected = [_libjpeg_turbo_frame(frame, image) for frame in frames]
    images = [image] + _corpus_images("jpeg-extended-decode", _libjpeg_turbo_frame, lossy=True)
    return Workload("jpeg-extended-decode", images,
                    f"12-bit JPEG Extended frames: {_describe_images(images)}, synthetic frames "
                    "encoded by libjpeg-turbo at quality 90")


@pytest.fixture(scope="session")
def baseline_workload() -> Workload:
    imagecodecs = _imagecodecs()
    rgb = _smooth_rgb(1024, 1024, seed=4)
    grey = (_smooth_ct(BASELINE_GREY_FRAMES, 1024, 1024, seed=5) >> 4).astype(np.uint8)
    images = [Image("synthetic greyscale", uid.JPEGBaseline8Bit,
                    [bytes(imagecodecs.jpeg8_encode(frame, level=90)) for frame in grey],
                    1024, 1024, 1, 8, 8, "MONOCHROME2", expected=[], lossy=True)]
    for subsampling in ("420", "422"):
        images.append(Image(f"synthetic YCbCr {subsampling[0]}:{subsampling[1]}:{subsampling[2]}", uid.JPEGBaseline8Bit,
                            [bytes(imagecodecs.jpeg8_encode(rgb, level=90, subsampling=subsampling))],
                            1024, 1024, 3, 8, 8, "YBR_FULL_422", expected=[], lossy=True))
    for image in images:
        image.expected = [_libjpeg_turbo_frame(frame, image) for frame in image.frames]
    images += _corpus_images("jpeg-baseline-decode", _libjpeg_turbo_frame, lossy=True)
    return Workload("jpeg-baseline-decode", images,
                    f"8-bit JPEG Baseline frames: {_describe_images(images)}, synthetic frames "
                    "encoded by libjpeg-turbo at quality 90; colour frames decoded without colour transform")


def _write_multiframe(path: Path, frames: list[bytes], rows: int, columns: int) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = uid.MultiFrameGrayscaleWordSecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = uid.generate_uid()
    meta.TransferSyntaxUID = uid.JPEGLosslessSV1
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID = "BENCH"
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 0
    ds.NumberOfFrames = len(frames)
    ds.PixelData = encapsulate(frames, has_bot=True)
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)
    return path


@dataclass
class Multiframe:
    path: Path
    source: np.ndarray  # the distinct frames
    frames: int

    @property
    def megapixels(self) -> float:
        return self.frames * self.source.shape[1] * self.source.shape[2] / 1e6

    def expected(self, i: int) -> np.ndarray:
        return self.source[i % len(self.source)]

    def read(self) -> Dataset:
        """The dataset, read once: the rounds time decoding, not reading the file."""
        ds = pydicom.dcmread(self.path)
        _ = ds.PixelData
        return ds

    def check(self, arr: np.ndarray) -> None:
        assert arr.shape == (self.frames,) + self.source.shape[1:], arr.shape
        assert arr.dtype == np.uint16, arr.dtype
        reps = -(-self.frames // len(self.source))
        np.testing.assert_array_equal(arr, np.tile(self.source, (reps, 1, 1))[: self.frames])


@pytest.fixture(scope="session")
def pixel_array_image(tmp_path_factory: pytest.TempPathFactory) -> Multiframe:
    ct = _smooth_ct(PIXEL_ARRAY_FRAMES, 512, 512, seed=6)
    path = _write_multiframe(tmp_path_factory.mktemp("pixels") / "ct_50f.dcm", _jpeg_lossless(ct), 512, 512)
    return Multiframe(path, ct, PIXEL_ARRAY_FRAMES)


@pytest.fixture(scope="session")
def workers_image(tmp_path_factory: pytest.TempPathFactory) -> Multiframe:
    ct = _smooth_ct(WORKERS_DISTINCT, 256, 256, seed=7)
    encoded = _jpeg_lossless(ct)
    frames = [encoded[i % WORKERS_DISTINCT] for i in range(WORKERS_FRAMES)]
    path = _write_multiframe(tmp_path_factory.mktemp("pixels") / "ct_1000f.dcm", frames, 256, 256)
    return Multiframe(path, ct, WORKERS_FRAMES)


# ------------------------------------------------------------------------ benches


def _rounds(seconds: float) -> int:
    return max(MIN_ROUNDS, min(MAX_ROUNDS, int(ROUND_BUDGET / max(seconds, 1e-6))))


def _describe(benchmark, *, library: str, label: str, megapixels: float, frames: int, files: int,
              description: str, **extra) -> None:
    benchmark.extra_info["library"] = library
    benchmark.extra_info["label"] = label
    benchmark.extra_info["version"] = _version(library)
    benchmark.extra_info["megapixels"] = round(megapixels, 6)
    benchmark.extra_info["frames"] = frames
    benchmark.extra_info["files"] = files
    benchmark.extra_info["chart"] = CHART
    benchmark.extra_info["description"] = description
    benchmark.extra_info.update(extra)


def _check_frame(got: np.ndarray, image: Image, index: int, label: str) -> None:
    expected = image.expected[index]
    assert got.shape == expected.shape, f"{label}, {image.name}: shape {got.shape} != {expected.shape}"
    if image.lossy:
        difference = np.abs(got.astype(np.int32) - expected.astype(np.int32)).max()
        assert difference <= 1, f"{label}, {image.name} frame {index}: max difference {difference}"
    else:
        np.testing.assert_array_equal(got, expected, err_msg=f"{label}, {image.name} frame {index}")


def _bench_frames(benchmark, workload: Workload, name: str, baseline: str, peers: str) -> None:
    decoder = DECODERS[name]()
    module = decoder.load()
    calls = []
    for image in workload.images:
        try:
            decode = decoder.make(module, image)
            decoded = [decode(frame) for frame in image.frames]
        except Exception as exc:  # noqa: BLE001 - this decoder cannot handle the workload
            pytest.skip(f"{decoder.label} cannot decode {image.name}: {type(exc).__name__}: {exc}")
        for i, raw in enumerate(decoded):
            _check_frame(decoder.to_array(raw, image), image, i, decoder.label)
        calls.append((decode, image.frames))

    def run() -> None:
        for decode, frames in calls:
            for frame in frames:
                decode(frame)

    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start

    extra: dict[str, Any] = {}
    if name == baseline:
        extra["baseline"] = True
    elif name == "turbodicom":
        extra["target_speedup"] = TARGETS[workload.group]
    _describe(benchmark, library=decoder.library, label=decoder.label, megapixels=workload.megapixels,
              frames=workload.frames, files=len(workload.images), call=decoder.call,
              description=(f"{workload.summary}; one frame at a time: `turbodicom._core.decode_frame` vs "
                           f"{peers}"), **extra)
    benchmark.pedantic(run, rounds=_rounds(elapsed), iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="rle-decode")
@pytest.mark.parametrize("decoder", ["turbodicom", "pylibjpeg-rle", "imagecodecs", "pydicom"])
def test_rle_decode(benchmark, decoder, rle_workload):
    _bench_frames(benchmark, rle_workload, decoder, baseline="pylibjpeg-rle",
                  peers="pylibjpeg-rle's `rle.utils.decode_frame` (baseline), `imagecodecs.dicomrle_decode` "
                        "and pydicom's own decoder")


@pytest.mark.benchmark(group="jpeg-lossless-decode")
@pytest.mark.parametrize("decoder", ["turbodicom", "libjpeg-turbo", "liblj92", "pylibjpeg-libjpeg", "gdcm"])
def test_jpeg_lossless_decode(benchmark, decoder, lossless_workload):
    _bench_frames(benchmark, lossless_workload, decoder, baseline="libjpeg-turbo",
                  peers="libjpeg-turbo (`imagecodecs.jpeg8_decode`, baseline), liblj92 "
                        "(`imagecodecs.ljpeg_decode`), pylibjpeg-libjpeg and GDCM")


@pytest.mark.benchmark(group="jpeg-extended-decode")
@pytest.mark.parametrize("decoder", ["turbodicom", "libjpeg-turbo", "pylibjpeg-libjpeg", "gdcm"])
def test_jpeg_extended_decode(benchmark, decoder, extended_workload):
    _bench_frames(benchmark, extended_workload, decoder, baseline="libjpeg-turbo",
                  peers="libjpeg-turbo (`imagecodecs.jpeg8_decode`, baseline) and pylibjpeg-libjpeg "
                        "(GDCM, through pydicom, does not decode 12-bit JPEG Extended)")


@pytest.mark.benchmark(group="jpeg-baseline-decode")
@pytest.mark.parametrize("decoder", ["turbodicom", "libjpeg-turbo", "pylibjpeg-libjpeg", "gdcm"])
def test_jpeg_baseline_decode(benchmark, decoder, baseline_workload):
    _bench_frames(benchmark, baseline_workload, decoder, baseline="libjpeg-turbo",
                  peers="libjpeg-turbo (`imagecodecs.jpeg8_decode`, baseline), pylibjpeg-libjpeg and GDCM")


PLUGINS = {  # decoding_plugin -> the package measured
    "turbodicom": "turbodicom",
    "pylibjpeg": "pylibjpeg-libjpeg",
    "gdcm": "python-gdcm",
}


@pytest.mark.benchmark(group="pixel-array")
@pytest.mark.parametrize("plugin", ["turbodicom", "pylibjpeg", "gdcm", "turbodicom.pixel_array"])
def test_pixel_array(benchmark, plugin, pixel_array_image):
    from pydicom.pixels import pixel_array

    if plugin.startswith("turbodicom"):
        turbodicom, _ = _turbodicom_core()  # also registers the "turbodicom" plugin with pydicom
    ds = pixel_array_image.read()
    if plugin == "turbodicom.pixel_array":
        run = lambda: turbodicom.pixel_array(ds)  # noqa: E731
    else:
        run = lambda: pixel_array(ds, decoding_plugin=plugin)  # noqa: E731 - pydicom does not cache this
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            arr = run()
            elapsed = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - plugin or its libraries missing, or turbodicom unfinished
        pytest.skip(f"decoding_plugin={plugin!r} cannot decode the image: {type(exc).__name__}: {exc}")
    pixel_array_image.check(arr)

    extra: dict[str, Any] = {}
    if plugin in ("pylibjpeg", "gdcm"):
        extra["peer"] = True  # the baseline is the fastest of the peers
    elif plugin == "turbodicom":
        extra["target_speedup"] = TARGETS["pixel-array"]
    library = PLUGINS.get(plugin, "turbodicom")
    call = ("`turbodicom.pixel_array(ds)`" if plugin == "turbodicom.pixel_array"
            else f"`pydicom.pixels.pixel_array(ds, decoding_plugin={plugin!r})`")
    _describe(benchmark, library=library, label=plugin, megapixels=pixel_array_image.megapixels,
              frames=pixel_array_image.frames, files=1, call=call,
              description=(f"`pydicom.pixels.pixel_array(ds, decoding_plugin=...)` on a {pixel_array_image.frames}"
                           f"-frame 512x512 16-bit JPEG Lossless SV1 image (read once; the call does not "
                           "cache): plugin \"turbodicom\" vs the faster of \"pylibjpeg\" and \"gdcm\" (baseline); "
                           "`turbodicom.pixel_array(ds)` (frames decoded in parallel) for comparison"),
              **extra)
    benchmark.pedantic(run, rounds=_rounds(elapsed), iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="multiframe-workers")
@pytest.mark.parametrize("workers", [1, 2])
def test_multiframe_workers(benchmark, workers, workers_image):
    turbodicom, _ = _turbodicom_core()
    ds = workers_image.read()
    run = lambda: turbodicom.pixel_array(ds, workers=workers)  # noqa: E731
    try:
        start = time.perf_counter()
        arr = run()
        elapsed = time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - turbodicom's decoder unfinished
        pytest.skip(f"turbodicom.pixel_array fails: {type(exc).__name__}: {exc}")
    workers_image.check(arr)
    extra = {"baseline": True} if workers == 1 else {"target_speedup": TARGETS["multiframe-workers"]}
    _describe(benchmark, library="turbodicom", label=f"workers={workers}", megapixels=workers_image.megapixels,
              frames=workers_image.frames, files=1, workers=workers,
              call=f"`turbodicom.pixel_array(ds, workers={workers})`",
              description=(f"`turbodicom.pixel_array(ds, workers=1)` vs `workers=2` on a {workers_image.frames}-frame "
                           f"256x256 16-bit JPEG Lossless SV1 image ({WORKERS_DISTINCT} distinct frames, repeated); "
                           f"target: workers=1 time / workers=2 time ≥ {TARGETS['multiframe-workers']:g}"),
              **extra)
    benchmark.pedantic(run, rounds=_rounds(elapsed), iterations=1, warmup_rounds=1)
