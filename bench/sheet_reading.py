"""Reading an imported workbook: rows a second of the reader alone, before any is stored.

Run: .venv/bin/python -m bench.sheet_reading [--rows 100000]

Writes `--rows` synthetic firms to an .xlsx with XlsxWriter (constant memory: inline strings,
as a program writes them; Excel itself writes shared strings, which read faster), with the
Chinese headers and labels an office uses (所在县（市、区） 台山市, 梯度层级 省级专精特新, days
as Excel dates, 是/否, bank ids separated by `；`). Then reads it twice with
service.registry.sheet_reading.open_sheet: the rows as raw profiles (the guard's scan of the
sheet included), then also validated as profiles (service.registry.importing.validate_row), as
the import does before storing. Prints rows a second for each and the peak resident memory.
The import must store 1,000 rows a second overall (issue 16): reading must be well above it.
"""

import argparse
import random
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

import xlsxwriter

from service.policy.examples import synthetic_uscc
from service.policy.profile import Profile
from service.registry.importing import validate_row
from service.registry.sheet_reading import open_sheet

HEADER = [
    "统一社会信用代码", "企业名称", "所在县（市、区）", "国民经济行业分类代码", "梯度层级",
    "认定有效期至", "从业人员数（人）", "上年度营业收入（元）", "有银行贷款", "有用地或厂房需求",
    "授权查询的银行",
]  # fmt: skip
COUNTIES = ["台山市", "开平市", "蓬江区", "440703", "鹤山市", "新會區", "恩平市"]
TIERS = ["省级专精特新", "市级专精特新中小企业", "创新型中小企业", "未获认定", "little_giant"]


def write_sheet(path: Path, rows: int, seed: int = 5) -> None:
    """`rows` synthetic firms as an office's workbook, written in constant memory."""
    rng = random.Random(seed)
    book = xlsxwriter.Workbook(path, {"constant_memory": True})
    sheet = book.add_worksheet("企业名单")
    day = book.add_format({"num_format": "yyyy年m月d日"})
    sheet.write_row(0, 0, HEADER)
    for n in range(1, rows + 1):
        sheet.write_string(n, 0, synthetic_uscc(f"91440781MA{n:07d}"))
        sheet.write_string(n, 1, f"（合成基准数据）江门基准企业{n:07d}有限公司")
        sheet.write_string(n, 2, rng.choice(COUNTIES))
        sheet.write_string(n, 3, "C3311")
        sheet.write_string(n, 4, rng.choice(TIERS))
        sheet.write_datetime(n, 5, datetime(2026, 1 + n % 12, 1 + n % 28), day)
        sheet.write_number(n, 6, rng.randint(1, 900))
        sheet.write_number(n, 7, rng.randint(1, 10**9))
        sheet.write_string(n, 8, rng.choice(["是", "否"]))
        sheet.write_string(n, 9, rng.choice(["是", "否", "true", "0"]))
        sheet.write_string(n, 10, "bank-a；bank-b")
    book.close()


def read(path: Path, validate: bool) -> tuple[int, int, float]:
    """Rows read, rows bad, seconds."""
    started = time.perf_counter()
    rows = bad = 0
    with open_sheet(path) as sheet:
        for line, raw, cells in sheet.rows:
            rows += 1
            row = validate_row(line, raw, cells) if isinstance(raw, dict) and validate else raw
            bad += not isinstance(row, dict | Profile)
    return rows, bad, time.perf_counter() - started


def main() -> None:
    """Write the workbook, read it, print rows a second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "firms.xlsx"
        started = time.perf_counter()
        write_sheet(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"wrote {args.rows:,} rows ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")
        rows, bad, seconds = read(path, validate=False)
        print(f"read: {rows:,} rows, {bad} bad, {seconds:.1f} s, {rows / seconds:,.0f} rows/s")
        rows, bad, both = read(path, validate=True)
        print(f"read, validate: {rows:,} rows, {bad} bad, {both:.1f} s, {rows / both:,.0f} rows/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "PASS" if rows / both >= 5_000 and bad == 0 else "FAIL"
    print(
        f"sheet reading: {rows / seconds:,.0f} rows/s read, {rows / both:,.0f} rows/s read and "
        f"validated, peak RSS {peak:.0f} MB ({verdict}: at least 5,000 rows/s, no bad row)"
    )


if __name__ == "__main__":
    main()
