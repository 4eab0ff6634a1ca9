"""Reference images become what the API accepts, checked from what a user would notice.

Every test image is drawn here with Pillow; nothing touches the network.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from wan26 import images
from wan26.errors import InvalidRequest
from wan26.images import (
    DASHSCOPE_IMAGE_RULES,
    ImageRules,
    PreparedImage,
    prepare_image,
    prepare_images,
)
from wan26.types import ImageInput

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
URL = "https://example.com/cat.png"


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def save(tmp_path: Path, name: str, image: Image.Image, **options: object) -> Path:
    path = tmp_path / name
    image.save(path, **options)
    return path


def decoded(prepared: PreparedImage) -> Image.Image:
    return Image.open(io.BytesIO(sent_bytes(prepared)))


def sent_bytes(prepared: PreparedImage) -> bytes:
    header, _, data = prepared.wire.partition(",")
    assert header.startswith("data:image/") and header.endswith(";base64")
    return base64.b64decode(data)


def problems(error: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    return {violation.field: violation.message for violation in error.value.violations}


def refusal_within(source: str | os.PathLike[str], seconds: float = 5.0) -> str:
    """The message refusing `source` as "image 1"; fails, instead of hanging the suite, if it blocks."""
    outcome: list[BaseException | PreparedImage] = []

    def attempt() -> None:
        try:
            outcome.append(prepare_image(source, "image 1"))
        except BaseException as error:  # noqa: BLE001 - handed to the test thread below
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)  # daemon: a hung read cannot stop pytest
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"preparing {source} still blocked after {seconds} s"
    [result] = outcome
    assert isinstance(result, InvalidRequest), f"expected a refusal, got {result!r}"
    return {violation.field: violation.message for violation in result.violations}["image 1"]


def photo(size: tuple[int, int]) -> Image.Image:
    """Grain over a smooth gradient with a red mark top-left: compresses like a camera's picture."""
    grain = Image.merge("RGB", [Image.effect_noise(size, 40) for _ in range(3)])
    image = Image.blend(Image.linear_gradient("L").convert("RGB").resize(size), grain, 0.3)
    image.paste(RED, (0, 0, size[0] // 10, size[1] // 10))
    return image


def turned(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return exif


def prepared_within(work: Callable[[], tuple[PreparedImage, ...]], seconds: float = 60.0) -> tuple[PreparedImage, ...]:
    """What `work` returns; fails, instead of hanging the suite, if threads wait on each other for ever."""
    outcome: list[tuple[PreparedImage, ...]] = []
    worker = threading.Thread(target=lambda: outcome.append(work()), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"preparing images still not done after {seconds} s"
    [result] = outcome
    return result


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR claiming a size, with no pixel data at all."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# URLs


@pytest.mark.parametrize("url", [URL, "http://example.com/a.jpg?sig=x&y=1"])
def test_http_urls_pass_through_unchanged(url: str) -> None:
    prepared = prepare_image(url, "image 1")

    assert prepared == PreparedImage(wire=url, label=url, width=None, height=None, byte_size=None)
    assert prepared.record()["url"] == url


@pytest.mark.parametrize("source", ["ftp://example.com/a.png", "file:///tmp/a.png", "data:image/png;base64,AAAA"])
def test_other_url_schemes_are_refused_naming_the_accepted_forms(source: str) -> None:
    with pytest.raises(InvalidRequest) as error:
        prepare_image(source, "image 1")

    assert "http(s)://" in problems(error)["image 1"]


def test_url_only_provider_refuses_a_path_but_passes_a_url(tmp_path: Path) -> None:
    path = save(tmp_path, "cat.png", Image.new("RGB", (300, 300), RED))
    rules = ImageRules(accepts_local=False)

    with pytest.raises(InvalidRequest) as error:
        prepare_images([URL, path], rules)

    assert problems(error) == {
        "image 2": "this provider takes image URLs only; upload the image somewhere public and pass its https:// URL"
    }
    assert prepare_images([URL], rules)[0].wire == URL


# Images sent as they are


def test_a_jpeg_within_limits_is_sent_byte_for_byte(tmp_path: Path) -> None:
    path = save(tmp_path, "photo.jpg", Image.new("RGB", (640, 480), BLUE), quality=80)

    prepared = prepare_image(path, "image 1")

    assert prepared.wire.startswith("data:image/jpeg;base64,")
    assert sent_bytes(prepared) == path.read_bytes()
    assert (prepared.width, prepared.height, prepared.byte_size) == (640, 480, path.stat().st_size)
    assert prepared.label == "photo.jpg"
    assert prepared.adjustments == ()


def test_an_upright_camera_jpeg_is_sent_as_its_own_bytes(tmp_path: Path) -> None:
    # Orientation 1 means "already upright": nothing to turn, so nothing to re-encode.
    path = save(tmp_path, "camera.jpg", photo((1200, 900)), exif=turned(1), quality=90)

    prepared = prepare_image(path, "image 1")

    assert sent_bytes(prepared) == path.read_bytes()
    assert prepared.mime == "image/jpeg" and prepared.adjustments == ()
    assert (prepared.width, prepared.height) == (1200, 900)


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "png"), ("BMP", "bmp"), ("WEBP", "webp")])
def test_accepted_formats_keep_their_bytes_and_mime_type(fmt: str, mime: str) -> None:
    data = encode(Image.new("RGB", (300, 300), RED), fmt)

    prepared = prepare_image(data, "image 1")

    assert prepared.wire.startswith(f"data:image/{mime};base64,")
    assert sent_bytes(prepared) == data
    assert prepared.label == "bytes"


# Images that need fixing


def test_png_transparency_is_flattened_onto_white(tmp_path: Path) -> None:
    image = Image.new("RGBA", (300, 300), RED + (255,))
    image.putpixel((0, 0), (0, 0, 0, 0))
    image.putpixel((1, 0), (0, 0, 255, 128))

    prepared = prepare_image(save(tmp_path, "logo.png", image), "image 1")

    out = decoded(prepared)
    assert (out.format, out.mode, out.size) == ("PNG", "RGB", (300, 300))
    assert out.getpixel((0, 0)) == WHITE
    assert out.getpixel((1, 0)) == pytest.approx((127, 127, 255), abs=2)
    assert out.getpixel((150, 150)) == RED
    assert prepared.adjustments == ("flattened transparency onto white",)


def test_palette_png_with_a_transparent_colour_is_flattened() -> None:
    image = Image.new("P", (300, 300), 1)
    image.putpalette([0, 0, 0, *RED])
    image.putpixel((0, 0), 0)

    out = decoded(prepare_image(encode(image, "PNG", transparency=0), "image 1"))

    assert out.mode == "RGB"
    assert out.getpixel((0, 0)) == WHITE
    assert out.getpixel((10, 10)) == RED


def test_exif_orientation_6_comes_out_upright(tmp_path: Path) -> None:
    # Stored 400 wide x 300 high with a red mark top-left; orientation 6 means "turn 90° clockwise".
    stored = Image.new("RGB", (400, 300), BLUE)
    stored.paste(RED, (0, 0, 40, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    path = save(tmp_path, "phone.jpg", stored, exif=exif, quality=95)

    prepared = prepare_image(path, "image 1")

    out = decoded(prepared).convert("RGB")
    assert out.size == (300, 400) == (prepared.width, prepared.height)
    assert out.getpixel((280, 20)) == pytest.approx(RED, abs=10)  # now top-right
    assert out.getpixel((20, 20)) == pytest.approx(BLUE, abs=10)
    assert "rotated upright (EXIF)" in prepared.adjustments
    assert out.getexif().get(ExifTags.Base.Orientation) in (None, 1)


def test_a_turned_phone_photo_goes_as_an_upright_jpeg_of_about_its_own_size(tmp_path: Path) -> None:
    path = save(tmp_path, "phone.jpg", photo((1600, 1200)), exif=turned(6), quality=92)

    prepared = prepare_image(path, "image 1")

    out = decoded(prepared).convert("RGB")
    assert prepared.mime == "image/jpeg" and out.size == (1200, 1600)
    assert out.getpixel((1190, 10)) == pytest.approx(RED, abs=40)  # the mark, turned to the top right
    assert prepared.adjustments == ("rotated upright (EXIF)",)
    # A photo re-encoded as PNG would come out several times the size of the file it came from.
    assert prepared.byte_size is not None and prepared.byte_size < 2 * path.stat().st_size


def test_an_oversized_turned_jpeg_comes_out_upright_and_fitted(tmp_path: Path) -> None:
    stored = Image.new("RGB", (2400, 1800), BLUE)
    stored.paste(RED, (0, 0, 240, 240))
    path = save(tmp_path, "big.jpg", stored, exif=turned(6), quality=95)

    prepared = prepare_image(path, "image 1", ImageRules(max_side=1000))

    out = decoded(prepared).convert("RGB")
    assert out.size == (750, 1000) == (prepared.width, prepared.height)
    assert out.getpixel((700, 50)) == pytest.approx(RED, abs=10)
    assert out.getpixel((50, 50)) == pytest.approx(BLUE, abs=10)
    assert prepared.adjustments == ("rotated upright (EXIF)", "downscaled from 1800x2400 to 750x1000")


def test_a_large_lossless_photo_goes_as_jpeg_and_a_large_flat_graphic_as_png() -> None:
    rules = ImageRules(max_bytes=3_000_000)
    noise = Image.frombytes("RGB", (1500, 1500), os.urandom(1500 * 1500 * 3))  # 6.8 MB uncompressed

    as_photo = prepare_image(noise, "image 1", rules)
    as_graphic = prepare_image(Image.new("RGB", (1500, 1500), RED), "image 2", rules)

    assert as_photo.mime == "image/jpeg" and as_photo.byte_size is not None
    assert as_photo.byte_size <= rules.max_bytes
    assert as_photo.adjustments == ("re-encoded as JPEG (quality 95) to stay under 2.86 MB",)
    assert as_graphic.mime == "image/png" and as_graphic.adjustments == ()
    assert decoded(as_graphic).getpixel((700, 700)) == RED


def test_a_turned_pil_image_is_sent_upright_and_left_as_it_was(tmp_path: Path) -> None:
    path = save(tmp_path, "phone.jpg", photo((400, 300)), exif=turned(6), quality=95)

    with Image.open(path) as image:
        prepared = prepare_image(image, "image 1")

        assert (prepared.width, prepared.height) == (300, 400)
        assert image.size == (400, 300) and image.getexif()[ExifTags.Base.Orientation] == 6


def test_animated_gif_becomes_a_png_of_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (300, 300), RED), Image.new("RGB", (300, 300), BLUE)]
    path = save(tmp_path, "anim.gif", frames[0], save_all=True, append_images=frames[1:])

    prepared = prepare_image(path, "image 1")

    out = decoded(prepared)
    assert out.format == "PNG"
    assert out.convert("RGB").getpixel((150, 150)) == RED
    assert set(prepared.adjustments) == {"used the first of 2 frames", "converted GIF to PNG"}


def test_tiff_becomes_png(tmp_path: Path) -> None:
    path = save(tmp_path, "scan.tiff", Image.new("RGB", (300, 260), RED))

    prepared = prepare_image(path, "image 1")

    out = decoded(prepared)
    assert (out.format, out.size) == ("PNG", (300, 260))
    assert out.getpixel((0, 0)) == RED
    assert prepared.adjustments == ("converted TIFF to PNG",)


def test_a_pil_image_is_encoded_as_png_without_touching_the_original() -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))

    prepared = prepare_image(image, "image 1")

    assert prepared.label == "PIL image"
    assert decoded(prepared).getpixel((5, 5)) == WHITE
    assert image.mode == "RGBA" and image.getpixel((5, 5)) == (0, 0, 0, 0)


def test_an_overlong_side_is_downscaled_keeping_the_aspect_ratio() -> None:
    prepared = prepare_image(encode(Image.new("RGB", (9000, 300), RED), "PNG"), "image 1")

    assert decoded(prepared).size == (8000, 267) == (prepared.width, prepared.height)
    assert prepared.adjustments == ("downscaled from 9000x300 to 8000x267",)


def test_an_image_over_max_bytes_is_reencoded_until_it_fits() -> None:
    noise = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    rules = ImageRules(max_bytes=150_000)

    prepared = prepare_image(encode(noise, "PNG"), "image 1", rules)

    out = decoded(prepared)
    assert len(sent_bytes(prepared)) == prepared.byte_size <= rules.max_bytes
    assert out.format == "JPEG" and out.size == (prepared.width, prepared.height)
    assert min(out.size) >= rules.min_side
    assert any("to stay under 146 KB" in note for note in prepared.adjustments)


def test_a_jpeg_over_max_bytes_is_never_sent_as_is() -> None:
    noise = Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3))
    data = encode(noise, "JPEG", quality=100)
    rules = ImageRules(max_bytes=len(data) - 1)

    prepared = prepare_image(data, "image 1", rules)

    assert prepared.byte_size is not None and prepared.byte_size <= rules.max_bytes
    assert prepared.adjustments[0].startswith("re-encoded as JPEG (quality")


# Edges and refusals


def test_a_side_of_239_px_is_refused_and_240_px_accepted() -> None:
    with pytest.raises(InvalidRequest) as error:
        prepare_image(encode(Image.new("RGB", (239, 500)), "PNG"), "image 1")

    assert problems(error) == {"image 1": "is 239x500 px; the smallest side must be at least 240 px"}
    assert prepare_image(encode(Image.new("RGB", (240, 500)), "PNG"), "image 1").width == 240


def test_a_side_too_short_after_downscaling_is_refused() -> None:
    with pytest.raises(InvalidRequest) as error:
        prepare_image(encode(Image.new("RGB", (16000, 300)), "PNG"), "image 1")

    assert "makes it 8000x150" in problems(error)["image 1"]


def test_non_images_are_refused_naming_which_image(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture")

    with pytest.raises(InvalidRequest) as error:
        prepare_images([b"\x00\x01 definitely not an image", notes])

    found = problems(error)
    assert set(found) == {"image 1", "image 2"}
    assert all(message.startswith("not a readable image") for message in found.values())
    assert "image 1: not a readable image" in str(error.value)


def test_a_truncated_image_is_refused() -> None:
    data = encode(Image.new("RGB", (300, 300), RED), "PNG")

    with pytest.raises(InvalidRequest) as error:
        prepare_image(data[: len(data) // 2], "image 1")

    assert problems(error)["image 1"].startswith("not a readable image (")


def test_a_missing_file_and_a_folder_are_refused(tmp_path: Path) -> None:
    missing = tmp_path / "gone.png"

    with pytest.raises(InvalidRequest) as error:
        prepare_images([str(missing), tmp_path])

    assert problems(error) == {
        "image 1": f"file not found: {missing.name}",
        "image 2": f"is a folder, not an image file: {tmp_path.name}",
    }


# Local paths that are not plain files


unix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")


@unix_only
def test_a_named_pipe_is_refused_at_once_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)

    assert refusal_within(fifo) == f"is a named pipe (FIFO), not an image file: {fifo.name}"


@unix_only
def test_a_pipe_swapped_in_after_the_check_is_still_refused_without_blocking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # os.stat by name still sees a regular file; what os.open then opens is a pipe.
    regular = save(tmp_path, "real.png", Image.new("RGB", (300, 300), RED))
    fifo = tmp_path / "swapped.png"
    os.mkfifo(fifo)
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, **kw: real_stat(regular if path == fifo else path, **kw))

    assert refusal_within(fifo) == f"is a named pipe (FIFO), not an image file: {fifo.name}"


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_dev_zero_is_refused_without_being_opened_or_read(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[object] = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda path, *args, **kw: opened.append(path) or real_open(path, *args, **kw))

    assert refusal_within("/dev/zero") == "is a device, not an image file: zero"
    assert opened == []


def test_a_folder_is_refused_as_a_folder(tmp_path: Path) -> None:
    assert refusal_within(tmp_path) == f"is a folder, not an image file: {tmp_path.name}"


def test_a_file_over_the_read_cap_is_refused_naming_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(b"\0" * 3072)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 2048)

    with pytest.raises(InvalidRequest) as error:
        prepare_images([path])

    assert problems(error) == {"image 1": "is 3 KB, over the 2 KB limit for a local image file; save a smaller copy"}


def test_a_file_exactly_at_the_read_cap_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tmp_path, "cat.png", Image.new("RGB", (300, 300), RED))
    monkeypatch.setattr(images, "MAX_FILE_BYTES", path.stat().st_size)

    assert sent_bytes(prepare_image(path, "image 1")) == path.read_bytes()


def test_a_file_growing_past_the_cap_after_the_check_is_not_read_beyond_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.png"
    path.write_bytes(b"\0" * 3072)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 2048)
    small = os.stat_result((stat.S_IFREG | 0o644, 0, 0, 1, 0, 0, 100, 0, 0, 0))  # what stat saw earlier
    monkeypatch.setattr(os, "stat", lambda *args, **kw: small)
    monkeypatch.setattr(os, "fstat", lambda *args, **kw: small)

    with pytest.raises(InvalidRequest) as error:
        prepare_image(path, "image 1")

    assert problems(error) == {"image 1": "grew past the 2 KB limit for a local image file while being read"}


def test_the_read_cap_stays_well_above_what_the_provider_takes() -> None:
    # Files over max_bytes are downscaled to fit, so the cap must not refuse them first.
    assert images.MAX_FILE_BYTES / DASHSCOPE_IMAGE_RULES.max_bytes >= 4


# Colour modes


def cmyk_jpeg(**options: object) -> bytes:
    return encode(Image.new("CMYK", (300, 300), (0, 255, 255, 0)), "JPEG", quality=95, **options)  # red


@pytest.mark.parametrize("options", [{}, {"icc_profile": b"not a real colour profile"}], ids=["plain", "bad-icc"])
def test_a_cmyk_jpeg_is_never_sent_as_cmyk(options: dict[str, object]) -> None:
    prepared = prepare_image(cmyk_jpeg(**options), "image 1")

    out = decoded(prepared)
    assert prepared.mime in ("image/png", "image/jpeg") and out.format in ("PNG", "JPEG")
    assert out.mode == "RGB"
    assert out.getpixel((150, 150)) == pytest.approx(RED, abs=8)
    assert "converted CMYK colours to RGB" in prepared.adjustments
    assert "icc_profile" not in out.info  # the CMYK profile must not be left describing RGB data


def test_a_cmyk_pil_image_is_converted_too() -> None:
    prepared = prepare_image(Image.new("CMYK", (300, 300), (0, 255, 255, 0)), "image 1")

    assert decoded(prepared).mode == "RGB"
    assert prepared.adjustments == ("converted CMYK colours to RGB",)


def test_16_bit_grey_becomes_8_bit_grey_scaled_not_clipped() -> None:
    image = Image.new("I;16", (300, 300), 32768)  # mid-grey; clipping would make it white
    image.putpixel((0, 0), 65535)

    prepared = prepare_image(encode(image, "PNG"), "image 1")

    out = decoded(prepared)
    assert out.mode == "L"
    assert out.getpixel((150, 150)) == pytest.approx(128, abs=1)
    assert out.getpixel((0, 0)) == 255
    assert prepared.adjustments == ("converted 16-bit grayscale to 8-bit",)


@pytest.mark.parametrize(
    ("mode", "colour", "expected"),
    [("LAB", (136, 208, 195), RED), ("HSV", (0, 255, 255), RED), ("YCbCr", (76, 85, 255), RED)],
)
def test_other_colour_modes_become_rgb(mode: str, colour: tuple[int, ...], expected: tuple[int, ...]) -> None:
    prepared = prepare_image(Image.new(mode, (300, 300), colour), "image 1")

    out = decoded(prepared)
    assert out.mode == "RGB" and out.getpixel((5, 5)) == pytest.approx(expected, abs=12)
    assert prepared.adjustments == (f"converted {mode} colours to RGB",)


@pytest.mark.parametrize("mode", ["L", "P", "1"])
def test_grey_palette_and_1_bit_pngs_are_sent_as_they_are(mode: str) -> None:
    data = encode(Image.new(mode, (300, 300)), "PNG")

    prepared = prepare_image(data, "image 1")

    assert sent_bytes(prepared) == data and prepared.adjustments == ()


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    # 20000x20000 claimed, no pixel data: decoding would fail as "truncated", not as a bomb.
    with pytest.raises(InvalidRequest) as error:
        prepare_image(png_header_only(20_000, 20_000), "image 1")

    message = problems(error)["image 1"]
    assert "decompression bomb" in message and "400000000 pixels" in message


def test_the_bomb_bound_holds_when_the_host_app_disabled_pillows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)

    with pytest.raises(InvalidRequest) as error:
        prepare_image(png_header_only(20_000, 20_000), "image 1")

    assert problems(error) == {
        "image 1": "is 20000x20000 px = 400,000,000 pixels, over the 200,000,000 this client"
        " will decode (it may be a decompression bomb)"
    }


def test_every_bad_image_is_reported_in_one_error(tmp_path: Path) -> None:
    good = save(tmp_path, "good.png", Image.new("RGB", (300, 300), RED))
    tiny = encode(Image.new("RGB", (100, 100)), "PNG")

    with pytest.raises(InvalidRequest) as error:
        prepare_images([good, tmp_path / "gone.png", tiny, b"junk", "ftp://x/y.png"])

    assert list(problems(error)) == ["image 2", "image 3", "image 4", "image 5"]


def test_good_images_come_back_in_order(tmp_path: Path) -> None:
    local = save(tmp_path, "a.png", Image.new("RGB", (300, 300), RED))

    prepared = prepare_images([URL, local, Image.new("RGB", (250, 250), BLUE)])

    assert [p.label for p in prepared] == [URL, "a.png", "PIL image"]


def test_images_prepared_together_come_out_as_each_would_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two at a time even on one core, and no room to decode an image beside another's copy: each
    # waits for the one before, and none for ever.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(images, "_SIDE_BY_SIDE_BYTES", 0)
    cutout = Image.new("RGBA", (900, 700), (0, 0, 0, 0))
    cutout.paste(photo((500, 400)), (200, 150))
    sources: list[ImageInput] = [
        save(tmp_path, "phone.jpg", photo((1600, 1200)), exif=turned(6), quality=90),
        URL,
        save(tmp_path, "cutout.png", cutout),
        save(tmp_path, "camera.jpg", photo((1200, 900)), quality=90),
        photo((800, 600)),
        encode(Image.new("RGB", (9000, 300), BLUE), "PNG"),
        save(tmp_path, "phone-2.jpg", photo((1200, 1600)), exif=turned(8), quality=90),
    ]

    together = prepared_within(lambda: prepare_images(sources))

    alone = [prepare_image(source, f"image {n}") for n, source in enumerate(sources, start=1)]
    assert together == tuple(alone)


def test_images_prepared_together_still_report_every_problem_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    too_thin = encode(Image.new("RGB", (16000, 300)), "PNG")  # refused only once it is downscaled

    with pytest.raises(InvalidRequest) as error:
        prepare_images([too_thin, photo((400, 300)), b"junk", too_thin])

    found = problems(error)
    assert list(found) == ["image 1", "image 3", "image 4"]
    assert "makes it 8000x150" in found["image 1"] and "makes it 8000x150" in found["image 4"]
    assert found["image 3"].startswith("not a readable image")


def test_a_single_string_is_not_taken_as_a_list_of_images() -> None:
    with pytest.raises(TypeError):
        prepare_images(URL)


# Records


def test_record_is_json_and_never_carries_the_image_data(tmp_path: Path) -> None:
    image = Image.new("RGBA", (300, 300), (0, 0, 0, 0))
    prepared = prepare_image(save(tmp_path, "logo.png", image), "image 1")
    encoded = prepared.wire.partition(",")[2]

    text = json.dumps(prepared.record())

    assert encoded[:40] not in text and "base64" not in text
    assert prepared.record() == {
        "label": "logo.png",
        "mime": "image/png",
        "width": 300,
        "height": 300,
        "byte_size": prepared.byte_size,
        "adjustments": ["flattened transparency onto white"],
    }


def test_dashscope_rules_follow_the_documented_limits() -> None:
    rules = DASHSCOPE_IMAGE_RULES

    assert (rules.min_side, rules.max_side, rules.max_bytes) == (240, 8000, 10 * 1024 * 1024)
    assert rules.formats == {"JPEG", "PNG", "BMP", "WEBP"} and rules.accepts_local


def test_a_lazily_opened_pil_bomb_is_refused_before_decoding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(20_000, 20_000))

    with Image.open(path) as lazy, pytest.raises(InvalidRequest) as error:
        prepare_image(lazy, "image 1")

    assert "decompression bomb" in problems(error)["image 1"]


def test_checking_a_small_png_claiming_169_megapixels_decodes_none_of_it(tmp_path: Path) -> None:
    """The check before a run is queued reads headers only: a 13000×13000 PNG of one colour (a few
    hundred KB) would take half a gigabyte and seconds to decode, for any visitor who uploads it."""
    path = tmp_path / "flat.png"
    Image.new("L", (13000, 13000)).save(path, optimize=False)
    code = (  # VmHWM: this process's peak resident memory (ru_maxrss would carry over pytest's own)
        "import re; from wan26.images import size_problems; "
        f"problems = size_problems([{str(path)!r}]); "
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
        "print(len(problems), int(peak) // 1024)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    problems, peak_mb = map(int, done.stdout.split())
    assert path.stat().st_size < 1_000_000 and problems == 0
    assert peak_mb < 150, f"{peak_mb} MB at peak: the pixels were decoded"


def _png_with_exif_chunk(path: Path, size: tuple[int, int], orientation: int, before_pixels: bool) -> None:
    """A PNG whose eXIf chunk (orientation) comes before its pixels (as Pillow writes it) or after them."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    if before_pixels:
        Image.new("RGB", size, "teal").save(path, exif=exif)
        return
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, "PNG")
    data, tiff = buffer.getvalue(), exif.tobytes().removeprefix(b"Exif\x00\x00")
    chunk = len(tiff).to_bytes(4, "big") + b"eXIf" + tiff + zlib.crc32(b"eXIf" + tiff).to_bytes(4, "big")
    path.write_bytes(data[:-12] + chunk + data[-12:])  # just before IEND


def test_references_are_measured_upright_from_their_headers_and_a_late_png_exif_is_left_to_the_run(
    tmp_path: Path,
) -> None:
    early, late, xmp, plain = (tmp_path / name for name in ("early.png", "late.png", "xmp.png", "plain.png"))
    _png_with_exif_chunk(early, (1200, 600), 6, before_pixels=True)
    _png_with_exif_chunk(late, (1200, 600), 6, before_pixels=False)
    Image.new("RGB", (1200, 600)).save(xmp, pnginfo=_xmp_orientation(6))
    Image.new("RGB", (1200, 600)).save(plain)
    with Image.open(late) as opened:
        opened.load()
        assert opened.getexif()[ExifTags.Base.Orientation] == 6  # what the run will read, decoding
    sizes = images.header_upright_sizes([str(early), str(late), str(xmp), str(plain), "https://a.example/b.png"])
    assert sizes == [(600, 1200), None, (600, 1200), (1200, 600), None]


def _xmp_orientation(orientation: int):
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="{orientation}"/>'
        "</rdf:RDF></x:xmpmeta>"
    )
    info.add_itxt("XML:com.adobe.xmp", xmp)
    return info
