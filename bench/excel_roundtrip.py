"""How fast a village's spreadsheet goes in and comes back out.

    python bench/excel_roundtrip.py --households 5000

Migrates a fresh SQLite database in a temporary directory, writes a sheet of ``--households``
households of three people in the import template's layout, then times reading it, checking
it, importing it (all in one transaction) and exporting the village again, as the pages do.
Prints seconds for each step (wall clock and CPU).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def timed(label: str, func):
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    print(f"{label:<10} {time.perf_counter() - wall:7.2f} s"
          f"  (cpu {time.process_time() - cpu:.2f} s)")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=int, default=5000)
    args = parser.parse_args()

    tmpdir = tempfile.mkdtemp(prefix="gongzhi-bench-excel-")
    os.environ.pop("DATABASE_URL", None)
    os.environ["GONGZHI_DATA_DIR"] = tmpdir
    os.environ["DJANGO_SETTINGS_MODULE"] = "gongzhi.settings.base"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from openpyxl import Workbook

        from gongzhi.accounts.models import User
        from gongzhi.places import excel
        from gongzhi.places.actions import do_create_place
        from gongzhi.places.import_actions import (
            do_export_households,
            do_import_households,
            plan_import,
        )
        from gongzhi.places.validators import id_number_check_digit

        call_command("migrate", verbosity=0)
        admin = User.objects.create_superuser("bench", password=None)
        county = do_create_place(None, "county", "基准县", acting_user=None)
        town = do_create_place(county, "town", "基准镇", acting_user=None)
        village = do_create_place(town, "village", "基准村", acting_user=None)
        grids = [do_create_place(village, "grid", f"第{i + 1}网格", acting_user=None).name
                 for i in range(7)]

        wb = Workbook()
        ws = wb.active
        ws.append(list(excel.HEADERS))
        n = 0
        for h in range(args.households):
            for relation in ("户主", "配偶", "子女"):
                n += 1
                first17 = f"110105{1940 + h % 60}0101{n % 1000:03d}"
                id_number = first17 + id_number_check_digit(first17) if relation == "户主" else ""
                if relation == "户主" and h >= 1000:
                    id_number = ""  # keep the birth-date/sequence space free of collisions
                ws.append([grids[h % len(grids)], f"{h % 12 + 1}组", f"基准村{h + 1}号",
                           str(h + 1), "一般户", f"村民{n}", relation, "", "", id_number,
                           f"138{n:08d}", "群众", "", ""])
        buffer = io.BytesIO()
        wb.save(buffer)
        data = buffer.getvalue()
        print(f"{args.households} households, {n} people, {len(data) / 1e6:.1f} MB")

        sheet = timed("read", lambda: excel.read_sheet(data, max_rows=10 * n,
                                                       max_unzipped=10**9))
        plan = timed("check", lambda: plan_import(village, sheet))
        assert not plan.errors, plan.errors[:5]
        timed("import", lambda: do_import_households(village, sheet, acting_user=admin,
                                                     file_name="bench.xlsx"))
        export = timed("export", lambda: do_export_households(village, acting_user=admin))
        print(f"export: {export.households} households, {export.persons} people, "
              f"{len(export.content) / 1e6:.1f} MB")
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
