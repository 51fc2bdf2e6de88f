"""The household spreadsheet (一户一档、一网格一册): its columns, the template, reading and writing.

The layout is the one village cadres already keep: one row per person, the rows of one
household tied together by a 户编号. The sheet is a data format, so its headers, allowed values
and instructions are fixed Chinese text and do not follow the interface language; an export
uses exactly the template's columns, so an export can be imported again.

This module knows the file and its cells only. Which grid a name means, whether an ID number
is already registered, and writing anything, belong to :mod:`gongzhi.places.import_actions`.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation

from gongzhi.core.errors import ActionError

from .models import Gender, HouseholdType, Relation, SpecialGroup

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATA_SHEET_TITLE = "户与人员"
HELP_SHEET_TITLE = "填写说明"
VILLAGE_HEADER = "村/社区"  # only in exports above village level; ignored on import
HEADER_SEARCH_ROWS = 10  # the header may sit under a title row or two
MAX_COLUMNS = 60
MAX_BLANK_RUN = 1000  # this many empty rows in a row end the data


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    required: bool = False
    width: int = 12
    text: bool = False  # formatted as text so Excel keeps long digit strings intact
    choices: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    help: str = ""


# The sheet's vocabulary is fixed Chinese text (a file format, not interface text); a test keeps
# it equal to the models' labels.
HOUSEHOLD_TYPE_LABELS = {
    HouseholdType.ORDINARY: "一般户", HouseholdType.PARTY: "党员户",
    HouseholdType.FLOATING: "流动户", HouseholdType.ELDERLY: "老龄户",
}
RELATION_LABELS = {
    Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女",
    Relation.PARENT: "父母", Relation.GRANDCHILD: "孙子女", Relation.SIBLING: "兄弟姐妹",
    Relation.OTHER: "其他",
}
GENDER_LABELS = {Gender.MALE: "男", Gender.FEMALE: "女"}
SPECIAL_GROUP_LABELS = {
    SpecialGroup.LONELY_ELDERLY: "孤寡老人", SpecialGroup.LEFT_BEHIND_CHILD: "留守儿童",
    SpecialGroup.DISABLED: "残疾人", SpecialGroup.LOW_INCOME: "低保户",
    SpecialGroup.VETERAN: "退役军人", SpecialGroup.SERIOUS_ILLNESS: "大病患者",
}
PARTY_MEMBER, NON_MEMBER = "中共党员", "群众"
POLITICAL_STATUSES = {  # label → whether the registry counts the person as a party member
    "中共党员": True, "中共预备党员": True, "共青团员": False, "民主党派": False,
    "无党派人士": False, "群众": False,
}

# What people write in the sheets they already keep, mapped onto the registry's values.
HOUSEHOLD_TYPE_VALUES = {
    **{label: value for value, label in HOUSEHOLD_TYPE_LABELS.items()},
    "一般": HouseholdType.ORDINARY, "普通户": HouseholdType.ORDINARY,
    "党员": HouseholdType.PARTY, "流动": HouseholdType.FLOATING,
    "流动人口户": HouseholdType.FLOATING, "老龄": HouseholdType.ELDERLY,
    "老年户": HouseholdType.ELDERLY,
}
RELATION_VALUES = {
    **{label: value for value, label in RELATION_LABELS.items()},
    **dict.fromkeys(("本人", "户主本人"), Relation.HEAD),
    **dict.fromkeys(("妻", "妻子", "夫", "丈夫", "爱人"), Relation.SPOUSE),
    **dict.fromkeys(("子", "女", "儿子", "女儿", "长子", "次子", "三子", "长女", "次女", "三女",
                     "独生子", "独生女"), Relation.CHILD),
    **dict.fromkeys(("父", "母", "父亲", "母亲"), Relation.PARENT),
    **dict.fromkeys(("孙子", "孙女", "外孙子", "外孙女", "外孙"), Relation.GRANDCHILD),
    **dict.fromkeys(("兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹"),
                    Relation.SIBLING),
}
GENDER_VALUES = {
    **{label: value for value, label in GENDER_LABELS.items()},
    "男性": Gender.MALE, "女性": Gender.FEMALE,
}
POLITICAL_VALUES = {**POLITICAL_STATUSES, "党员": True, "预备党员": True, "团员": False}
SPECIAL_GROUP_VALUES = {
    **{label: value for value, label in SPECIAL_GROUP_LABELS.items()},
    "孤寡": SpecialGroup.LONELY_ELDERLY, "留守": SpecialGroup.LEFT_BEHIND_CHILD,
    "残疾": SpecialGroup.DISABLED, "低保": SpecialGroup.LOW_INCOME,
    "退伍军人": SpecialGroup.VETERAN, "大病": SpecialGroup.SERIOUS_ILLNESS,
}
SPECIAL_GROUP_SEPARATORS = re.compile(r"[,，、;；/\s]+")

COLUMNS: tuple[Column, ...] = (
    Column("grid", "网格", required=True, width=14, aliases=("所属网格", "网格名称"),
           help="填写本村（社区）已有网格的名称，须与系统中的名称一致。导入到某个网格时可不填。"),
    Column("building", "楼栋/组", width=12, aliases=("楼栋", "组", "村民小组", "楼栋/胡同"),
           help="可不填。填写后按名称归入该网格下的楼栋或组，没有的将新建。"),
    Column("address", "门牌地址", width=24, aliases=("门牌", "门牌号", "地址", "家庭住址"),
           help="同一户的各行填写相同的地址，或只在一行填写。"),
    Column("household_key", "户编号", required=True, width=10, text=True,
           aliases=("户号", "户序号"),
           help="同一户的各行填写相同的户编号（如本地户号或序号）。留空表示与上一行同户，"
                "合并单元格也按此处理。"),
    Column("household_type", "户类型", width=10, choices=tuple(HOUSEHOLD_TYPE_LABELS.values()),
           help="不填按一般户。"),
    Column("name", "姓名", required=True, width=10),
    Column("relation", "与户主关系", required=True, width=12,
           choices=tuple(RELATION_LABELS.values()), aliases=("关系", "与户主的关系"),
           help="每户须有且只有一名户主。"),
    Column("gender", "性别", width=6, choices=tuple(GENDER_LABELS.values()),
           help="可不填，按身份证号推出。"),
    Column("birth_date", "出生日期", width=12, aliases=("出生年月日",),
           help="如 1980-01-31、1980/1/31 或 1980年1月31日；可不填，按身份证号推出。"),
    Column("id_number", "身份证号", width=22, text=True,
           aliases=("身份证号码", "公民身份号码", "身份证"),
           help="18 位，最后一位可为 X。请保持文本格式，否则 Excel 会丢失末几位。"),
    Column("phone", "联系电话", width=16, text=True, aliases=("电话", "手机", "手机号", "手机号码"),
           help="手机号或带区号的固定电话。"),
    Column("political_status", "政治面貌", width=12, choices=tuple(POLITICAL_STATUSES),
           help="不填按群众。"),
    Column("special_groups", "特殊群体", width=20, aliases=("特殊人群",),
           help="可填多个，用顿号“、”或逗号分隔。"),
    Column("notes", "备注", width=24),
)
COLUMN_KEYS = tuple(c.key for c in COLUMNS)
HEADERS = tuple(c.header for c in COLUMNS)
_HEADER_KEYS = {
    **{c.header: c.key for c in COLUMNS},
    **{alias: c.key for c in COLUMNS for alias in c.aliases},
}


class WorkbookError(ActionError):
    """The file as a whole cannot be read as the household sheet; nothing was imported."""


@dataclass
class SheetRow:
    number: int  # the row number Excel shows, so messages can point at it
    values: dict[str, Any]


@dataclass
class Sheet:
    title: str
    header_row: int
    columns: set[str]
    rows: list[SheetRow] = field(default_factory=list)
    ignored_headers: list[str] = field(default_factory=list)


# -- cells ------------------------------------------------------------------------------------

def cell_text(value: Any) -> str:
    """A cell as trimmed text; whole numbers without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


_DATE_TEXT = (
    re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\s+0?0:00(?::00)?)?"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(value: Any) -> dt.date | None:
    """A date from an Excel date cell or from text; None when blank; ValueError when not a date."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 10_000_000 <= value < 100_000_000 and float(value).is_integer():
            value = str(int(value))  # 19800131 typed as a number
        elif 1 <= value < 2_958_466:
            return from_excel(value).date()  # a date serial in a cell not formatted as date
        else:
            raise ValueError(value)
    text = str(value).strip()
    for pattern in _DATE_TEXT:
        if match := pattern.fullmatch(text):
            year, month, day = (int(part) for part in match.groups())
            return dt.date(year, month, day)
    raise ValueError(text)


def split_labels(text: str) -> list[str]:
    return [part for part in SPECIAL_GROUP_SEPARATORS.split(text) if part]


# -- the template -----------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True)
_REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")
_OPTIONAL_FILL = PatternFill("solid", fgColor="DDEBF7")


def build_template(*, max_rows: int) -> bytes:
    """The import template: the data sheet with drop-downs, and a sheet of instructions."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET_TITLE
    ws.append(list(HEADERS))
    last_row = max_rows + 1
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index)
        cell.font = _HEADER_FONT
        cell.fill = _REQUIRED_FILL if column.required else _OPTIONAL_FILL
        cell.alignment = Alignment(horizontal="center")
        ws.column_dimensions[letter].width = column.width
        if column.text:
            ws.column_dimensions[letter].number_format = "@"
        if column.key == "birth_date":
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
        if column.choices:
            validation = DataValidation(
                type="list", formula1='"' + ",".join(column.choices) + '"', allow_blank=True,
                showErrorMessage=True, errorTitle="填写有误",
                error="请从下拉列表中选择：" + "、".join(column.choices),
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET_TITLE)
    for line in _help_lines(max_rows):
        help_ws.append(line)
    help_ws.column_dimensions["A"].width = 14
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 90
    for row in help_ws.iter_rows():
        if row[0].value and len([c for c in row if c.value]) == 1:
            row[0].font = _HEADER_FONT
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _help_lines(max_rows: int) -> list[list[Any]]:
    lines: list[list[Any]] = [
        ["户与人员导入模板 填写说明"],
        [],
        ["1. 在“户与人员”表中每行填写一个人；同一户的人填写相同的户编号。"],
        ["2. 第一行是表头，请勿修改列名；可以增加其他列，导入时会被忽略。"],
        ["3. 表中只要有一行有误，整个文件都不会导入；系统会列出每一行的问题，改正后重新上传即可。"],
        [f"4. 每个文件最多 {max_rows} 行。身份证号在全县内不能重复。"],
        ["5. 本说明表不会被导入，请勿在此填写数据。"],
        ["6. 数据中间不要留出上千行的空行，其后的内容不会被读取。"],
        [],
        ["列名", "是否必填", "说明"],
    ]
    for column in COLUMNS:
        allowed = f"可选值：{'、'.join(column.choices)}。" if column.choices else ""
        lines.append([column.header, "必填" if column.required else "选填",
                      (column.help + " " + allowed).strip()])
    lines += [
        [],
        ["特殊群体可选值", "", "、".join(SPECIAL_GROUP_LABELS.values())],
        ["与户主关系", "",
         "也可填写 本人、妻子、丈夫、儿子、女儿、父亲、母亲、孙子、孙女、哥哥、妹妹 等，"
         "导入时归入上面的类别。"],
        ["政治面貌", "", "系统只记录是否为党员：中共党员、中共预备党员记为党员，其余记为非党员。"],
        [],
        ["示例"],
        list(HEADERS),
        ["第一网格", "一组", "高城寨村12号", "1", "党员户", "张建国", "户主", "男", "1965-03-08",
         "（18位身份证号）", "13800000000", "中共党员", "", ""],
        ["第一网格", "一组", "高城寨村12号", "1", "党员户", "李秀英", "配偶", "女", "1967-11-20",
         "", "", "群众", "残疾人", ""],
        ["第一网格", "一组", "高城寨村12号", "1", "党员户", "张小明", "子女", "男", "2012-09-01",
         "", "", "", "留守儿童", "父母在外务工"],
    ]
    return lines


# -- reading ----------------------------------------------------------------------------------

_READ_ERRORS = (
    zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError, IndexError,
    AttributeError, OSError, EOFError, SyntaxError,  # xml.etree's ParseError is a SyntaxError
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and other OLE files)


def check_archive(data: bytes, *, max_unzipped: int) -> None:
    """Refuse what is not an .xlsx, or what would unpack to far more than an honest sheet."""
    if data[:4] == _OLE_MAGIC:
        raise WorkbookError(_(
            "这是旧版 Excel（.xls）文件或设了密码的文件。请在 Excel 中取消密码，"
            "并“另存为”.xlsx 格式后再上传。"
        ))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unzipped = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookError(_not_xlsx()) from exc
    if "[Content_Types].xml" not in names:
        raise WorkbookError(_not_xlsx())
    if unzipped > max_unzipped:
        raise WorkbookError(_("文件解压后过大，无法导入。请删去多余的工作表、图片或格式后再上传。"))


def _not_xlsx() -> str:
    return _(
        "无法读取该文件：它已损坏，或不是 Excel 的 .xlsx 文件。请使用下载的导入模板填写后上传。"
    )


def read_sheet(data: bytes, *, max_rows: int, max_unzipped: int) -> Sheet:
    """The data rows of the household sheet, with their Excel row numbers; blank rows skipped."""
    check_archive(data, max_unzipped=max_unzipped)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _READ_ERRORS as exc:
        raise WorkbookError(_not_xlsx()) from exc
    try:
        return _read(wb, max_rows)
    except _READ_ERRORS as exc:
        raise WorkbookError(_not_xlsx()) from exc
    finally:
        wb.close()


def _normalise_header(value: Any) -> str:
    return re.sub(r"[\s*＊]", "", cell_text(value))


def _find_header(ws) -> tuple[int, dict[int, str], list[str]]:
    """The header row of ``ws`` (0 if none), its column index → key map, unknown headers."""
    for number, row in enumerate(
        ws.iter_rows(max_row=HEADER_SEARCH_ROWS, max_col=MAX_COLUMNS, values_only=True), start=1
    ):
        found = {i: _HEADER_KEYS.get(_normalise_header(v)) for i, v in enumerate(row)}
        if not {"name", "relation"} <= set(found.values()):
            continue
        mapping: dict[int, str] = {}
        ignored: list[str] = []
        for index, value in enumerate(row):
            key = found[index]
            if key is None:
                if cell_text(value):
                    ignored.append(cell_text(value))
                continue
            if key in mapping.values():
                raise WorkbookError(
                    _("表头中“%(header)s”列出现了不止一次，请只保留一列。")
                    % {"header": cell_text(value)}
                )
            mapping[index] = key
        return number, mapping, ignored
    return 0, {}, []


def _read(wb, max_rows: int) -> Sheet:
    # The data sheet is the first (the active one first) whose header can be found.
    sheets = [ws for ws in wb.worksheets if ws.title != HELP_SHEET_TITLE]
    sheets.sort(key=lambda ws: ws.title != getattr(wb.active, "title", None))
    for ws in sheets:
        header_row, mapping, ignored = _find_header(ws)
        if header_row:
            break
    else:
        raise WorkbookError(
            _("找不到表头。第一行（或标题下面一行）应包含“姓名”“与户主关系”“户编号”等列名，"
              "请使用下载的导入模板。")
        )
    missing = [c.header for c in COLUMNS
               if c.key in ("household_key", "name", "relation") and c.key not in mapping.values()]
    if missing:
        raise WorkbookError(_("表格缺少以下列：%(columns)s。请使用下载的导入模板。")
                            % {"columns": "、".join(missing)})
    sheet = Sheet(title=ws.title, header_row=header_row, columns=set(mapping.values()),
                  ignored_headers=ignored)
    last_col = max(mapping) + 1
    blank_run = 0
    for number, row in enumerate(
        ws.iter_rows(min_row=header_row + 1, max_col=last_col, values_only=True),
        start=header_row + 1,
    ):
        values = {key: row[index] if index < len(row) else None for index, key in mapping.items()}
        if all(cell_text(v) == "" for v in values.values()):
            blank_run += 1
            if blank_run >= MAX_BLANK_RUN:  # formatted but empty rows to the sheet's end
                break
            continue
        blank_run = 0
        if len(sheet.rows) >= max_rows:
            raise WorkbookError(
                _("文件中的数据超过了 %(max)s 行的上限，请分成几个文件导入。") % {"max": max_rows}
            )
        sheet.rows.append(SheetRow(number, values))
    if not sheet.rows:
        raise WorkbookError(_("表格中没有数据：表头下面的行都是空的。"))
    return sheet


# -- writing ----------------------------------------------------------------------------------

def write_workbook(out: IO[bytes], *, title: str, rows: Iterable[list[Any]],
                   with_village: bool = False) -> int:
    """Write an export in write-only mode (memory stays flat); returns the number of data rows.

    Row 1 is the title, row 2 the template's headers (preceded by 村/社区 when the export spans
    several villages), then one row per person in the template's column order.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET_TITLE)
    widths = ([12] if with_village else []) + [c.width for c in COLUMNS]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A3"
    title_cell = WriteOnlyCell(ws, value=title)
    title_cell.font = Font(bold=True, size=13)
    ws.append([title_cell])
    header_cells = []
    for header in ([VILLAGE_HEADER] if with_village else []) + list(HEADERS):
        cell = WriteOnlyCell(ws, value=header)
        cell.font = _HEADER_FONT
        header_cells.append(cell)
    ws.append(header_cells)
    count = 0
    for row in rows:
        ws.append(row)
        count += 1
    wb.save(out)
    return count
