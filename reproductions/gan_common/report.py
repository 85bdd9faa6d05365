"""What a GAN run leaves in its folder: losses (CSV + a PNG plot), sample grids, 2-D scatter plots.

Pillow only (no matplotlib): the plot is a plain line chart with axes, ticks,
labels and a legend.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageFont

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]


class LossLog:
    """Rows of numbers appended to a CSV as training goes (flushed, so a killed run keeps them)."""

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = Path(path)
        self.columns = list(columns)
        self.rows: list[dict[str, float]] = []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._writer = csv.DictWriter(self._file, fieldnames=self.columns)
        self._writer.writeheader()

    def add(self, **row: float) -> None:
        self.rows.append(row)
        self._writer.writerow({k: _fmt(row.get(k)) for k in self.columns})
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> LossLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi):
        return []
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


@dataclass(frozen=True)
class _Frame:
    """The plot area of a chart: where it sits in the image, px, and the data ranges it spans."""

    left: int
    top: int
    width: int
    height: int
    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float

    def px(self, xv: float, yv: float) -> tuple[float, float]:
        """Data coordinates -> image coordinates (y grows downwards in the image)."""
        return (
            self.left + (xv - self.x_lo) / (self.x_hi - self.x_lo) * self.width,
            self.top + (1 - (yv - self.y_lo) / (self.y_hi - self.y_lo)) * self.height,
        )


def plot_lines(
    x: Sequence[float],
    series: dict[str, Sequence[float]],
    path: Path,
    *,
    title: str = "",
    xlabel: str = "generator step",
    ylabel: str = "",
    size: tuple[int, int] = (720, 420),
) -> Path:
    """A line chart of each series against x, written as PNG."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default()
    xs = [float(v) for v in x]
    frame = _frame(xs, series, size)
    _draw_axes(img, draw, font, frame, title=title, xlabel=xlabel, ylabel=ylabel)
    _draw_series(draw, font, frame, xs, series)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _frame(xs: list[float], series: dict[str, Sequence[float]], size: tuple[int, int]) -> _Frame:
    """The plot area inside fixed margins, spanning the data (y padded by 5 % each side)."""
    width, height = size
    left, right, top, bottom = 70, 20, 34, 50
    values = [v for s in series.values() for v in s if v is not None and math.isfinite(v)]
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_lo, y_hi = (min(values), max(values)) if values else (0.0, 1.0)
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    if y_hi <= y_lo:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    pad = 0.05 * (y_hi - y_lo)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    plot_w, plot_h = width - left - right, height - top - bottom
    return _Frame(left, top, plot_w, plot_h, x_lo, x_hi, y_lo, y_hi)


def _draw_axes(
    img: Image.Image,
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    f: _Frame,
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> None:
    """The frame, ticks with their values, light grid lines, the axis labels and the title."""
    left, top, plot_w, plot_h = f.left, f.top, f.width, f.height
    draw.rectangle((left, top, left + plot_w, top + plot_h), outline="black")
    for t in _nice_ticks(f.y_lo, f.y_hi):
        _, yp = f.px(f.x_lo, t)
        draw.line((left - 4, yp, left, yp), fill="black")
        draw.line((left + 1, yp, left + plot_w - 1, yp), fill="#e6e6e6")
        draw.text((left - 6, yp), f"{t:.4g}", fill="black", font=font, anchor="rm")
    for t in _nice_ticks(f.x_lo, f.x_hi):
        xp, _ = f.px(t, f.y_lo)
        draw.line((xp, top + plot_h, xp, top + plot_h + 4), fill="black")
        draw.text((xp, top + plot_h + 6), f"{t:.6g}", fill="black", font=font, anchor="mt")
    draw.text((left + plot_w / 2, img.height - 8), xlabel, fill="black", font=font, anchor="mb")
    if ylabel:
        # text() takes no angle: draw the label level on a strip, then rotate the strip.
        label = Image.new("RGB", (int(draw.textlength(ylabel, font=font)) + 4, 14), "white")
        ImageDraw.Draw(label).text((2, 1), ylabel, fill="black", font=font)
        img.paste(label.rotate(90, expand=True), (4, top + plot_h // 2 - label.width // 2))
    if title:
        draw.text((left, 8), title, fill="black", font=font)


def _draw_series(
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    f: _Frame,
    xs: list[float],
    series: dict[str, Sequence[float]],
) -> None:
    """Each series as a line (a dot if it has one finite value), and its legend entry."""
    for i, (name, ys) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = [
            f.px(xv, yv)
            for xv, yv in zip(xs, ys, strict=False)
            if yv is not None and math.isfinite(yv)
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        elif points:
            draw.ellipse(
                (points[0][0] - 2, points[0][1] - 2, points[0][0] + 2, points[0][1] + 2),
                fill=colour,
            )
        lx = f.left + f.width - 150
        ly = f.top + 8 + 14 * i
        draw.line((lx, ly + 6, lx + 18, ly + 6), fill=colour, width=2)
        draw.text((lx + 24, ly), name, fill="black", font=font)


def plot_loss_log(log: LossLog, path: Path, columns: Sequence[str], title: str = "") -> Path:
    """The log's columns against its `step` column."""
    steps = [r["step"] for r in log.rows]
    series = {c: [r.get(c) for r in log.rows] for c in columns}
    return plot_lines(steps, series, path, title=title, ylabel="loss")  # type: ignore[arg-type]


def image_grid(images: torch.Tensor, nrow: int = 8, pad: int = 2) -> Image.Image:
    """(B, C, H, W) in [-1, 1] -> one Pillow image, `nrow` pictures per row, grey gutters."""
    images = images.detach().float().cpu().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    b, c, h, w = images.shape
    ncol = min(nrow, b)
    rows = math.ceil(b / ncol)
    canvas = torch.full((c, rows * (h + pad) + pad, ncol * (w + pad) + pad), 128, dtype=torch.uint8)
    for i in range(b):
        r, k = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + k * (w + pad)
        canvas[:, y : y + h, x : x + w] = images[i]
    hwc = canvas.permute(1, 2, 0).contiguous()
    mode = "L" if c == 1 else "RGB"
    return Image.frombytes(mode, (hwc.shape[1], hwc.shape[0]), bytes(hwc.numpy().tobytes()))


def save_grid(images: torch.Tensor, path: Path, nrow: int = 8) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    image_grid(images, nrow).save(path)
    return path


def scatter_2d(
    samples: torch.Tensor, centres: torch.Tensor, path: Path, *, size: int = 420, title: str = ""
) -> Path:
    """Generator samples (blue dots) over the mixture's centres (red rings), written as PNG."""
    pts = samples.detach().float().cpu()
    c = centres.float().cpu()
    extent = float(c.abs().max()) * 1.5 + 1e-6
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)

    def px(x: float, y: float) -> tuple[float, float]:
        return ((x / extent + 1) * size / 2, (1 - y / extent) * size / 2)

    draw.line((*px(-extent, 0), *px(extent, 0)), fill="#dddddd")
    draw.line((*px(0, -extent), *px(0, extent)), fill="#dddddd")
    for x, y in pts.tolist():
        u, v = px(x, y)
        if 0 <= u < size and 0 <= v < size:
            draw.point((u, v), fill="#1f77b4")
    for x, y in c.tolist():
        u, v = px(x, y)
        draw.ellipse((u - 5, v - 5, u + 5, v + 5), outline="#d62728", width=2)
    if title:
        draw.text((6, 6), title, fill="black", font=ImageFont.load_default())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path
