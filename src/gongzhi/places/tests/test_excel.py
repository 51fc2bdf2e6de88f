"""Excel in and out of the registry, through the pages a village cadre uses."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from gongzhi.accounts.actions import do_grant_role
from gongzhi.accounts.roles import Role
from gongzhi.audit.models import AuditEvent
from gongzhi.places import excel
from gongzhi.places.actions import do_create_household, do_create_place
from gongzhi.places.models import (
    Gender,
    Household,
    HouseholdType,
    Person,
    Place,
    Relation,
    SpecialGroup,
)
from gongzhi.places.validators import id_number_check_digit
from gongzhi.testing import ID_NUMBERS, login_client

H = {header: index for index, header in enumerate(excel.HEADERS)}


def make_id(birth: str, seq: int) -> str:
    """A valid ID number born on ``birth`` (YYYYMMDD); an odd ``seq`` is a man."""
    first17 = f"110105{birth}{seq:03d}"
    return first17 + id_number_check_digit(first17)


def bad_checksum(id_number: str) -> str:
    last = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + last


def row(**values) -> list:
    """One sheet row given by header, e.g. row(网格="第一网格", 姓名="张三")."""
    cells = [None] * len(excel.HEADERS)
    for header, value in values.items():
        cells[H[header]] = value
    return cells


def workbook(*rows, headers=excel.HEADERS, title: str | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(list(headers))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def person(key, name, relation, *, grid="第一网格", **more) -> list:
    """One person's row; ``楼栋_组`` stands for the header 楼栋/组, not a Python name."""
    building = more.pop("楼栋_组", None)
    cells = row(网格=grid, 户编号=key, 姓名=name, 与户主关系=relation, **more)
    if building is not None:
        cells[H["楼栋/组"]] = building
    return cells


def upload(client, place, data: bytes, name: str = "户籍册.xlsx"):
    return client.post(reverse("places:import", args=[place.pk]),
                       {"file": SimpleUploadedFile(name, data)})


def confirm(client, place, preview):
    assert preview.status_code == 200
    assert "token" in preview.context, [str(e) for e in preview.context.get("errors") or []]
    return client.post(reverse("places:import", args=[place.pk]),
                       {"token": preview.context["token"]})


def import_file(client, place, data: bytes, name: str = "户籍册.xlsx"):
    return confirm(client, place, upload(client, place, data, name))


def error_texts(response) -> list[str]:
    return [str(e) for e in response.context.get("errors") or []]


@pytest.fixture(autouse=True)
def _staging(settings, tmp_path):
    settings.GONGZHI_IMPORT_STAGING_DIR = tmp_path / "staging"


def good_rows():
    """Three households, seven people, the way villages fill the sheet in."""
    return [
        person("1", "刘振华", "户主", 楼栋_组="一组", 门牌地址="高城寨村12号", 户类型="党员户",
               身份证号=make_id("19650308", 11), 联系电话="13800001111", 政治面貌="中共党员"),
        person("", "陈淑芬", "妻子", 楼栋_组="一组", 门牌地址="高城寨村12号",
               出生日期=dt.datetime(1967, 11, 20), 特殊群体="残疾人"),
        person("", "刘小明", "子女", 楼栋_组="一组", 出生日期="2012/9/1",
               特殊群体="留守儿童", 备注="父母在外务工"),
        person("2", "马玉兰", "户主", grid="第二网格", 门牌地址="高城寨村20号", 户类型="老龄户",
               性别="女", 出生日期="1940年2月3日", 特殊群体="孤寡老人、低保户",
               联系电话=13900002222),
        person("3", "赵国庆", "户主", 门牌地址="高城寨村31号", 户类型="流动户",
               身份证号=make_id("19801001", 23), 政治面貌="中共预备党员"),
        person("3", "赵丽", "女儿", 门牌地址="高城寨村31号", 身份证号=make_id("20050506", 42)),
        person("3", "赵老汉", "父亲", 政治面貌="群众", 出生日期="1950-01-01"),
    ]


# -- the template -----------------------------------------------------------------------------

def test_template_downloads_with_headers_instructions_and_dropdowns(tree):
    client = login_client(tree.user("village_cadre"))
    response = client.get(reverse("places:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames == ["户与人员", "填写说明"]
    headers = [c.value for c in wb["户与人员"][1]]
    assert headers == ["网格", "楼栋/组", "门牌地址", "户编号", "户类型", "姓名", "与户主关系",
                       "性别", "出生日期", "身份证号", "联系电话", "政治面貌", "特殊群体", "备注"]
    lists = {dv.formula1 for dv in wb["户与人员"].data_validations.dataValidation}
    assert '"一般户,党员户,流动户,老龄户"' in lists
    assert any("户主" in f and "兄弟姐妹" in f for f in lists)
    help_text = " ".join(str(c.value) for r in wb["填写说明"].iter_rows() for c in r if c.value)
    assert "孤寡老人" in help_text and "户编号" in help_text


def test_template_needs_login(db):
    assert Client().get(reverse("places:import_template")).status_code == 302


def test_sheet_vocabulary_matches_the_registry():
    with translation.override("zh-hans"):
        for labels, choices in [(excel.HOUSEHOLD_TYPE_LABELS, HouseholdType),
                                (excel.RELATION_LABELS, Relation), (excel.GENDER_LABELS, Gender),
                                (excel.SPECIAL_GROUP_LABELS, SpecialGroup)]:
            assert labels == {value: str(label) for value, label in choices.choices}


@pytest.mark.parametrize("value, expected", [
    (dt.datetime(1980, 1, 31), dt.date(1980, 1, 31)),
    ("1980-01-31", dt.date(1980, 1, 31)),
    ("1980/1/31", dt.date(1980, 1, 31)),
    ("1980年1月31日", dt.date(1980, 1, 31)),
    ("1980.1.31", dt.date(1980, 1, 31)),
    (19800131, dt.date(1980, 1, 31)),
    (29251, dt.date(1980, 1, 31)),  # a date serial in a cell formatted as a number
    (None, None),
    ("", None),
])
def test_dates_in_the_forms_villages_write(value, expected):
    assert excel.parse_date(value) == expected


@pytest.mark.parametrize("value", ["1980-02-30", "去年", "31/01/1980"])
def test_dates_that_are_not(value):
    with pytest.raises(ValueError):
        excel.parse_date(value)


# -- importing --------------------------------------------------------------------------------

def test_good_file_previews_then_imports_everything(tree):
    client = login_client(tree.user("village_secretary"))
    households_before = Household.objects.count()
    preview = upload(client, tree.village, workbook(*good_rows()))
    assert preview.status_code == 200
    assert error_texts(preview) == []
    page = preview.content.decode()
    assert "新建 3 户、7 人" in page
    assert "第一网格 / 一组" in page  # the building that will be created
    assert Household.objects.count() == households_before  # nothing yet

    done = confirm(client, tree.village, preview)
    assert done.status_code == 302
    assert done["Location"] == reverse("places:place", args=[tree.village.pk])
    assert "已导入 3 户、7 人" in client.get(done["Location"]).content.decode()

    assert Household.objects.count() == households_before + 3
    liu = Person.objects.get(name="刘振华")
    home = Household.objects.get(place=liu.place)
    assert home.household_type == HouseholdType.PARTY
    assert home.address == "高城寨村12号"
    building = home.place.parent
    assert building.kind == "building" and building.name == "一组"
    assert building.parent_id == tree.grid.pk
    assert liu.relation == Relation.HEAD and liu.is_party_member
    assert liu.gender == Gender.MALE and liu.birth_date == dt.date(1965, 3, 8)
    assert liu.phone == "13800001111"
    chen = Person.objects.get(name="陈淑芬")
    assert chen.household_id == liu.household_id  # blank 户编号: same household as above
    assert chen.relation == Relation.SPOUSE and chen.birth_date == dt.date(1967, 11, 20)
    assert chen.special_groups == [SpecialGroup.DISABLED] and not chen.is_party_member
    xiaoming = Person.objects.get(name="刘小明")
    assert xiaoming.household_id == liu.household_id
    assert xiaoming.birth_date == dt.date(2012, 9, 1)
    assert xiaoming.notes == "父母在外务工"

    ma = Person.objects.get(name="马玉兰")
    assert ma.grid_id == tree.grid2.pk and ma.building_id is None
    assert Household.objects.get(place=ma.place).household_type == HouseholdType.ELDERLY
    assert ma.special_groups == [SpecialGroup.LONELY_ELDERLY, SpecialGroup.LOW_INCOME]
    assert ma.birth_date == dt.date(1940, 2, 3) and ma.phone == "13900002222"

    zhao = Person.objects.get(name="赵国庆")
    assert zhao.is_party_member  # 中共预备党员 counts as a party member
    assert Household.objects.get(place=zhao.place).household_type == HouseholdType.FLOATING
    daughter = Person.objects.get(name="赵丽")
    assert daughter.relation == Relation.CHILD and daughter.gender == Gender.FEMALE
    assert Person.objects.get(name="赵老汉").relation == Relation.PARENT

    summary = AuditEvent.objects.get(action="places.households.import")
    assert summary.actor == tree.user("village_secretary")
    assert summary.after["households"] == 3 and summary.after["persons"] == 7
    assert summary.after["file_name"] == "户籍册.xlsx" and len(summary.after["sha256"]) == 64
    assert sorted(summary.after["household_ids"]) == sorted(
        Household.objects.filter(place__village=tree.village)
        .exclude(pk__in=[tree.household.pk, tree.household2.pk]).values_list("pk", flat=True))
    assert Place.objects.get(pk=liu.household_id).household_id == liu.household_id
    assert liu.place_id == liu.household_id and liu.town_id == tree.town.pk
    assert AuditEvent.objects.filter(action="places.place.create", object_repr="一组").exists()

    again = client.post(reverse("places:import", args=[tree.village.pk]),
                        {"token": preview.context["token"]})
    assert again.status_code == 200
    assert "已失效" in again.content.decode()
    assert Household.objects.count() == households_before + 3


def test_one_bad_row_imports_nothing_and_names_the_row(tree):
    client = login_client(tree.user("village_secretary"))
    rows = good_rows()[:5]
    rows.append(person("4", "孙立", "户主", 身份证号=bad_checksum(make_id("19700101", 31))))
    rows.append(person("5", "周敏", "户主"))
    # Row 1 is the header, so the bad person is on row 7.
    response = upload(client, tree.village, workbook(*rows))
    assert response.status_code == 200
    assert "token" not in response.context
    assert len(error_texts(response)) == 1
    assert error_texts(response)[0].startswith("第 7 行：")
    assert "校验位不正确" in error_texts(response)[0]
    page = response.content.decode()
    assert "第 7 行" in page and "校验位不正确" in page and "没有导入任何数据" in page
    assert not Person.objects.filter(name__in=["刘振华", "周敏"]).exists()
    assert not AuditEvent.objects.filter(action="places.households.import").exists()


def test_every_error_is_listed_with_its_row(tree):
    client = login_client(tree.user("village_secretary"))
    rows = [
        person("1", "甲", "户主", grid="第九网格"),                            # 2 unknown grid
        person("2", "", "户主"),                                               # 3 no name
        person("3", "丙", "表叔"),                                             # 4 relation
        person("4", "丁", "户主", 出生日期="去年"),                             # 5 date
        person("5", "戊", "户主", 身份证号=make_id("19900101", 11)),            # 6
        person("6", "己", "户主", 身份证号=make_id("19900101", 11)),            # 7 duplicate of 6
        person("7", "庚", "户主", 身份证号=ID_NUMBERS[0]),                     # 8 in the county
        person("8", "辛", "户主"),                                             # 9
        person("8", "壬", "户主"),                                             # 10 second head
        person("9", "癸", "子女"),                                             # 11 no head
        person("10", "子", "户主", 联系电话="12345"),                           # 12 phone
        person("11", "丑", "户主", 身份证号="110105********1234"),              # 13 masked
        person("12", "寅", "户主", 户类型="贫困户"),                            # 14 type
        person("13", "卯", "户主", 门牌地址="东街1号"),                          # 15
        person("13", "辰", "子女", 门牌地址="西街9号"),                          # 16 other address
        person("14", "巳", "户主", 出生日期="1990-01-01"),                       # 17
        person("15", "午", "户主", 特殊群体="孤寡老人、贫困"),                   # 18 group
        person("16", "未", "户主", 身份证号=110105199001011000),               # 19 as a number
    ]
    response = upload(client, tree.village, workbook(*rows))
    errors = error_texts(response)
    expected = {
        2: "没有名为“第九网格”的网格",
        3: "请填写姓名",
        4: "与户主关系“表叔”无法识别",
        5: "出生日期“去年”无法识别",
        7: "身份证号与第 6 行重复",
        8: "已登记在本县",
        10: "已在第 9 行填写了户主",
        11: "户编号 9 没有户主",
        12: "电话号码 12345 格式不正确",
        13: "已脱敏",
        14: "户类型“贫困户”无法识别",
        16: "与同户（户编号 13）第 15 行的“门牌地址”不一致",
        18: "特殊群体“贫困”无法识别",
        19: "存成了数字",
    }
    for number, reason in expected.items():
        assert any(e.startswith(f"第 {number} 行：") and reason in e for e in errors), (
            number, reason, errors)
    assert len(errors) == len(expected)
    assert [e.row for e in response.context["errors"]] == sorted(e.row for e in
                                                                 response.context["errors"])
    page = response.content.decode()
    assert "14 处错误" in page
    assert Household.objects.filter(place__village=tree.village).count() == 2


def test_duplicate_id_within_the_file(tree):
    client = login_client(tree.user("village_cadre"))
    same = make_id("19851212", 51)
    response = upload(client, tree.village, workbook(
        person("1", "甲", "户主", 身份证号=same),
        person("1", "乙", "配偶", 身份证号=same.lower()),
    ))
    assert error_texts(response) == ["第 3 行：身份证号与第 2 行重复。"]


def test_disagreements_with_the_id_number_are_warned_not_refused(tree):
    client = login_client(tree.user("village_secretary"))
    woman_id = make_id("19900101", 12)
    preview = upload(client, tree.village, workbook(
        person("1", "甲", "户主", 性别="男", 出生日期="1990-01-02", 身份证号=woman_id,
               户类型="党员户"),
    ))
    warnings = [str(w) for w in preview.context["plan"].warnings]
    assert any("第 2 行" in w and "性别与身份证号不一致" in w for w in warnings)
    assert any("出生日期与身份证号不一致" in w for w in warnings)
    assert any("没有人填写为中共党员" in w for w in warnings)
    assert "性别与身份证号不一致" in preview.content.decode()
    assert confirm(client, tree.village, preview).status_code == 302
    jia = Person.objects.get(name="甲")
    assert jia.gender == Gender.MALE and jia.birth_date == dt.date(1990, 1, 2)


def test_unknown_grid_is_an_error_not_a_new_grid(tree):
    client = login_client(tree.user("village_secretary"))
    grids_before = Place.objects.filter(kind="grid").count()
    response = upload(client, tree.village, workbook(person("1", "甲", "户主", grid="东山网格")))
    assert error_texts(response) == [
        "第 2 行：本村（社区）没有名为“东山网格”的网格，请核对网格名称。"]
    assert Place.objects.filter(kind="grid").count() == grids_before


def test_grid_of_another_village_is_unknown_here(tree):
    client = login_client(tree.user("village_secretary"))
    response = upload(client, tree.village, workbook(person("1", "甲", "户主",
                                                            grid=tree.other_grid.name)))
    assert "没有名为“东关一网格”的网格" in error_texts(response)[0]


def test_import_into_a_grid_needs_no_grid_column(tree):
    client = login_client(tree.user("town_staff"))  # may import, may not edit by hand
    data = workbook(
        ["A1", "钱进", "户主", "二号院", 2],
        ["A1", "钱多多", "儿子", "二号院", 2],
        # A sheet of the village's own, under a title row, with a column the template lacks.
        headers=["户号", "姓名", "与户主关系", "门牌地址", "家庭成员数"],
        title="第二网格 户籍登记表",
    )
    preview = upload(client, tree.grid2, data)
    assert "家庭成员数" in preview.content.decode()  # told which columns are ignored
    assert confirm(client, tree.grid2, preview).status_code == 302
    qian = Person.objects.get(name="钱多多")
    assert qian.grid_id == tree.grid2.pk and qian.relation == Relation.CHILD
    assert Household.objects.get(place=qian.place).address == "二号院"
    assert AuditEvent.objects.get(action="places.households.import").actor == tree.user(
        "town_staff")


def test_grid_name_must_match_when_importing_into_a_grid(tree):
    client = login_client(tree.user("village_secretary"))
    response = upload(client, tree.grid2, workbook(person("1", "甲", "户主", grid="第一网格")))
    assert "不是本次导入的网格“第二网格”" in error_texts(response)[0]


def test_only_villages_and_grids_take_imports(tree):
    client = login_client(tree.user("town_staff"))
    response = client.get(reverse("places:import", args=[tree.town.pk]))
    assert response.status_code == 200
    assert "只能导入到村（社区）或网格" in response.content.decode()
    response = upload(client, tree.town, workbook(*good_rows()))
    assert "token" not in response.context
    assert not Person.objects.filter(name="刘振华").exists()


@pytest.mark.parametrize("role, place_attr, status", [
    ("resident", "village", 404),        # cannot even see the village
    ("village_secretary", "other_village", 404),  # another village's secretary
    ("grid_worker", "grid", 403),        # sees the grid, may not import
    ("points_reviewer", "village", 403),
])
def test_who_may_not_import(tree, role, place_attr, status):
    client = login_client(tree.user(role))
    place = getattr(tree, place_attr)
    assert client.get(reverse("places:import", args=[place.pk])).status_code == status
    assert upload(client, place, workbook(*good_rows())).status_code == status
    assert not Person.objects.filter(name="刘振华").exists()


def test_anonymous_is_sent_to_login(tree):
    response = Client().get(reverse("places:import", args=[tree.village.pk]))
    assert response.status_code == 302


def test_confirmation_belongs_to_its_user_and_place(tree):
    secretary = login_client(tree.user("village_secretary"))
    preview = upload(secretary, tree.village, workbook(*good_rows()))
    cadre = login_client(tree.user("village_cadre"))
    stolen = cadre.post(reverse("places:import", args=[tree.village.pk]),
                        {"token": preview.context["token"]})
    assert "已失效" in stolen.content.decode()
    forged = secretary.post(reverse("places:import", args=[tree.village.pk]),
                            {"token": preview.context["token"] + "x"})
    assert "已失效" in forged.content.decode()
    assert not Person.objects.filter(name="刘振华").exists()
    assert confirm(secretary, tree.village, preview).status_code == 302


def test_registry_changes_between_preview_and_confirm_are_caught(tree):
    client = login_client(tree.user("village_secretary"))
    preview = upload(client, tree.village, workbook(*good_rows()))
    # Meanwhile someone registers 刘振华 by hand.
    do_create_household(tree.grid, acting_user=None, address="别处",
                        members=[{"name": "刘振华", "relation": "head",
                                  "id_number": make_id("19650308", 11)}])
    response = confirm(client, tree.village, preview)
    assert response.status_code == 200
    assert "第 2 行" in response.content.decode() and "已登记在本县" in response.content.decode()
    assert not Person.objects.filter(name="陈淑芬").exists()


# -- files that are not what they should be ----------------------------------------------------

@pytest.mark.parametrize("data, name, message", [
    (b"this is not a spreadsheet", "户籍册.xlsx", "不是 Excel 的 .xlsx 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "户籍册.xls", "旧版 Excel（.xls）文件"),
    (None, "户籍册.xlsx", "不是 Excel 的 .xlsx 文件"),  # a zip, but not a workbook
    (b"PK\x03\x04broken", "户籍册.xlsx", "不是 Excel 的 .xlsx 文件"),
])
def test_corrupt_files_get_a_clear_message(tree, data, name, message):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "hello")
        data = buffer.getvalue()
    client = login_client(tree.user("village_secretary"))
    response = upload(client, tree.village, data, name)
    assert response.status_code == 200
    assert message in response.context["file_error"]
    assert message in response.content.decode()


def test_corrupt_sheet_xml_inside_a_real_archive(tree):
    good = workbook(*good_rows())
    source = zipfile.ZipFile(io.BytesIO(good))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            archive.writestr(item, content)
    client = login_client(tree.user("village_secretary"))
    response = upload(client, tree.village, buffer.getvalue())
    assert response.status_code == 200
    assert "不是 Excel 的 .xlsx 文件" in response.context["file_error"]


def test_data_sheet_behind_a_cover_sheet_is_found(tree):
    wb = Workbook()
    wb.active.title = "封面"
    wb.active.append(["高城寨村户籍册"])
    data_sheet = wb.create_sheet("户籍")
    data_sheet.append(list(excel.HEADERS))
    data_sheet.append(person("1", "甲", "户主"))
    for _ in range(excel.MAX_BLANK_RUN):
        data_sheet.append([None])
    data_sheet.append(person("2", "乙", "户主"))  # after a thousand empty rows: not read
    out = io.BytesIO()
    wb.save(out)
    client = login_client(tree.user("village_secretary"))
    preview = upload(client, tree.village, out.getvalue())
    assert preview.context["summary"]["households"] == 1


def test_sheet_without_the_headers(tree):
    client = login_client(tree.user("village_secretary"))
    response = upload(client, tree.village, workbook(["甲", "乙"], headers=["A", "B"]))
    assert "找不到表头" in response.context["file_error"]


def test_empty_sheet_and_missing_file(tree):
    client = login_client(tree.user("village_secretary"))
    assert "没有数据" in upload(client, tree.village, workbook()).context["file_error"]
    response = client.post(reverse("places:import", args=[tree.village.pk]), {})
    assert "请选择" in response.context["file_error"]


def test_row_and_size_limits(tree, settings):
    client = login_client(tree.user("village_secretary"))
    settings.GONGZHI_MAX_IMPORT_ROWS = 3
    response = upload(client, tree.village, workbook(*good_rows()))
    assert "超过了 3 行" in response.context["file_error"]
    settings.GONGZHI_MAX_IMPORT_ROWS = 100
    settings.GONGZHI_MAX_IMPORT_BYTES = 1024 * 1024 // 2
    big = workbook(*good_rows()) + b"\0" * (1024 * 1024)
    assert "超过" in upload(client, tree.village, big).context["file_error"]
    assert not Person.objects.filter(name="刘振华").exists()


# -- export -----------------------------------------------------------------------------------

def export_rows(response) -> list[tuple]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == excel.XLSX_CONTENT_TYPE
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def test_export_round_trip_into_another_village(tree):
    secretary = tree.user("village_secretary")
    client = login_client(secretary)
    assert import_file(client, tree.village, workbook(*good_rows())).status_code == 302
    exported = client.get(reverse("places:export", args=[tree.village.pk]))
    rows = export_rows(exported)
    assert "高城寨村" in rows[0][0]
    assert list(rows[1]) == list(excel.HEADERS)
    assert len(rows) == 2 + 10  # 3 people from the tree, 7 imported
    assert ID_NUMBERS[0] in [r[H["身份证号"]] for r in rows]  # in full for the secretary
    event = AuditEvent.objects.get(action="places.households.export")
    assert event.after["unmasked"] is True and event.after["persons"] == 10

    # The same people move, on paper, to an empty village in another county.
    county = do_create_place(None, "county", "邻县", acting_user=None)
    town = do_create_place(county, "town", "新镇", acting_user=None)
    village = do_create_place(town, "village", "新村", acting_user=None)
    for name in ("第一网格", "第二网格"):
        do_create_place(village, "grid", name, acting_user=None)
    do_grant_role(secretary, Role.VILLAGE_SECRETARY, village, acting_user=None)
    secretary._gongzhi_grants = None
    done = import_file(client, village, exported.content, "导出.xlsx")
    assert done.status_code == 302

    def born(p):  # a blank birth date is filled in from the ID number on import
        if p.birth_date or not p.id_number:
            return p.birth_date
        return dt.date(int(p.id_number[6:10]), int(p.id_number[10:12]), int(p.id_number[12:14]))

    def people(v):
        return sorted(
            (p.grid.name, p.name, p.relation, p.gender, born(p), p.id_number, p.phone,
             p.is_party_member, p.special_groups, p.notes,
             Household.objects.get(place=p.place).household_type,
             Household.objects.get(place=p.place).address,
             p.building.name if p.building else "")
            for p in Person.objects.filter(village=v).select_related("grid", "building")
        )

    assert people(village) == people(tree.village)
    assert Household.objects.filter(place__village=village).count() == 5
    # The tree's 李秀英 and her husband are still one household.
    li = Person.objects.get(village=village, name="李秀英")
    assert Person.objects.get(village=village, name="张建国").household_id == li.household_id


def test_export_masks_for_a_cadre_without_view_sensitive(tree):
    client = login_client(tree.user("village_cadre"))
    rows = export_rows(client.get(reverse("places:export", args=[tree.village.pk])))
    head = next(r for r in rows if r[H["姓名"]] == "张建国")
    assert head[H["身份证号"]] == "110105********002X"
    assert head[H["联系电话"]] == "138****1234"
    assert ID_NUMBERS[0] not in str(rows) and "13812341234" not in str(rows)
    assert "党员户" in head and "中共党员" in head
    li = next(r for r in rows if r[H["姓名"]] == "李秀英")
    assert li[H["特殊群体"]] == "残疾人" and li[H["户编号"]] == head[H["户编号"]]
    event = AuditEvent.objects.get(action="places.households.export")
    assert event.after["unmasked"] is False


def test_export_from_a_grid_and_from_a_town(tree):
    client = login_client(tree.user("town_staff"))
    grid_rows = export_rows(client.get(reverse("places:export", args=[tree.grid2.pk])))
    assert [r[H["姓名"]] for r in grid_rows[2:]] == ["王桂兰"]
    town_rows = export_rows(client.get(reverse("places:export", args=[tree.town.pk])))
    assert town_rows[1][0] == "村/社区" and town_rows[2][0] == "高城寨村"
    assert "赵志强" not in str(town_rows)  # another town


@pytest.mark.parametrize("role, place_attr, status", [
    ("grid_worker", "grid", 403),
    ("resident", "village", 404),
    ("village_secretary", "other_village", 404),
])
def test_who_may_not_export(tree, role, place_attr, status):
    client = login_client(tree.user(role))
    place = getattr(tree, place_attr)
    assert client.get(reverse("places:export", args=[place.pk])).status_code == status
    assert not AuditEvent.objects.filter(action="places.households.export").exists()


def test_export_query_count_does_not_grow_with_households(tree, django_assert_max_num_queries):
    for i in range(30):
        do_create_household(tree.grid, acting_user=None, address=f"新户{i}号",
                            members=[{"name": f"户主{i}", "relation": "head"},
                                     {"name": f"子女{i}", "relation": "child"}])
    client = login_client(tree.user("village_secretary"))
    with django_assert_max_num_queries(20):
        rows = export_rows(client.get(reverse("places:export", args=[tree.village.pk])))
    assert len(rows) == 2 + 3 + 60
