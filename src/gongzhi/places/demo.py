"""The demo county (示范县): a realistic, deterministic county to try the product on.

``gongzhi demo --seed N --scale S`` builds one county with towns and street offices (镇/乡/街道),
villages and communities (村/社区), grids (网格), groups, buildings and lanes (组/楼栋/胡同),
``S`` households with their residents, the county's departments and other organisations, and a
cadre account for every role at the places where that role works. The same seed and scale give
the same content (names, codes, ID numbers, phones ...) on any database.

Residents are written in bulk, not through the per-row actions, so that a million households
load in minutes. The bulk path keeps every rule the actions keep:

* a place's ancestor columns are set exactly as ``places.actions._insert_place`` sets them (its
  own level column is its own id; a county's ``county`` is itself). Ids are allocated before the
  insert (from the table's sequence on PostgreSQL, after the largest id elsewhere), so each row
  is written once and complete;
* people and organisations carry their place columns exactly as ``PlaceScoped.set_place`` sets
  them;
* every household gets a unique points card code;
* the whole generation is one transaction and one audit event, ``places.demo.generate``.

Cadre accounts and their roles are created through ``accounts.actions``, each with its own audit
event. The demo logins (:data:`DEMO_LOGINS`) share :data:`DEMO_PASSWORD`; every other cadre
account is created without a usable password.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from faker import Faker
from faker.providers.person.zh_CN import Provider as ZhPersonProvider
from tqdm import tqdm

from gongzhi.accounts.actions import do_create_user, do_grant_role
from gongzhi.accounts.models import RoleGrant, User
from gongzhi.accounts.roles import Role
from gongzhi.audit.log import record
from gongzhi.core.errors import ActionError

from .models import (
    LEVELS,
    Gender,
    Household,
    HouseholdType,
    Organisation,
    OrganisationKind,
    Person,
    Place,
    PlaceKind,
    Relation,
    SpecialGroup,
)

DEMO_COUNTY_NAME = "示范县"
DEMO_COUNTY_CODE = "620899"  # Gansu (62), Pingliang (08); 99 is no real county
DEMO_PASSWORD = "demo-2026"  # noqa: S105 - a published password for the demo logins only
DEFAULT_SEED = 2026
DEFAULT_SCALE = 2000
BATCH_SIZE = 5000
# Ages and dates are counted from a fixed day, so the content does not depend on when it is built.
REFERENCE_DATE = date(2026, 1, 1)
# GB 11643: the weights of the first 17 digits and the check characters by remainder (as in
# places.validators, computed here per birthday for speed; the tests check with the validator).
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    level: str  # where the role is granted: county, town, village, grid or household


# One login per role, documented in docs and printed by ``gongzhi demo``.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin("admin", Role.ADMINISTRATOR, "county"),
    DemoLogin("county", Role.COUNTY_OFFICE, "county"),
    DemoLogin("supervisor", Role.SUPERVISOR, "county"),
    DemoLogin("dept_power", Role.DEPARTMENT_LIAISON, "county"),
    DemoLogin("town_secretary", Role.TOWN_SECRETARY, "town"),
    DemoLogin("town_staff", Role.TOWN_STAFF, "town"),
    DemoLogin("village_secretary", Role.VILLAGE_SECRETARY, "village"),
    DemoLogin("village_cadre", Role.VILLAGE_CADRE, "village"),
    DemoLogin("reviewer", Role.POINTS_REVIEWER, "village"),
    DemoLogin("shopkeeper", Role.SHOP_KEEPER, "village"),
    DemoLogin("grid_worker", Role.GRID_WORKER, "grid"),
    DemoLogin("resident", Role.RESIDENT, "household"),
)

# ---------------------------------------------------------------------------------------------
# Word lists. Names are built from these with the seeded generator.
# ---------------------------------------------------------------------------------------------

FIXED_TOWNS = (("城关镇", "镇"), ("八里镇", "镇"), ("东风街道", "街道"))
DEMO_TOWN = "八里镇"
DEMO_VILLAGE = "高城寨村"  # the first village of the demo town
STREET_STEMS = ("城东", "城西", "南关", "北关", "新华", "富源", "和平", "解放路", "人民路", "滨河",
                "东城", "西城", "朝阳", "建设", "胜利", "文昌", "鼓楼", "凤凰", "金城", "长安")
TOWN_FIRST = "东西南北新古柳杨李王马石高双红青白金龙凤桃杏威治雷甘余灵原安平太界仁贾司"
TOWN_SECOND = "河川坪塬堡店集庄湾沟岭山桥铺寨营关口坝峪城台泉滩阳"
VILLAGE_PREFIX = ("高", "大", "小", "上", "下", "前", "后", "东", "西", "南", "北", "新", "老",
                  "红", "白", "黄", "青", "石", "柳", "杨", "枣", "杏", "桃", "马", "牛", "龙",
                  "凤", "双", "三", "五", "八", "十里", "梨", "榆", "槐", "松", "苏", "何")
VILLAGE_MIDDLE = "城河山坡沟湾庄坪塬滩台峪岔梁川泉树堡营庙店铺桥寨屯集湖园"
VILLAGE_SUFFIX = ("寨", "子", "头", "口", "村", "湾", "洼", "咀", "岘", "坪", "堡", "沿")
VILLAGE_FAMILY_FEATURE = "庄沟湾堡塬河坪岭洼峪营店"
VILLAGE_AUSPICIOUS = ("红星", "团结", "胜利", "光明", "新民", "幸福", "和平", "民主", "丰收",
                      "永丰", "长青", "向阳", "东升", "兴隆", "富强", "友谊", "五一", "先锋")
COMMUNITY_WORDS = ("东关", "西关", "南关", "北关", "幸福", "和平", "建设", "文化", "解放",
                   "新华", "人民", "富源", "阳光", "锦绣", "滨河", "花园", "朝阳", "育才",
                   "长青", "振兴", "康乐", "金城", "紫荆", "翠苑", "丽景", "春晖", "安居",
                   "永安", "颐和", "学府", "西苑", "东苑", "南苑", "北苑", "广场", "站前",
                   "文苑", "新城", "锦华", "馨园", "嘉园", "泰和", "恒昌", "明珠", "怡景")
LANE_WORDS = ("槐树", "杨柳", "前进", "光明", "铁匠", "石板", "钟楼", "鼓楼", "粮仓", "油坊",
              "车马", "井儿", "书院", "太平", "仁和", "福寿", "庙前", "南门", "北门", "菜市")
PROPERTY_WORDS = ("安居", "恒信", "佳和", "宏达", "瑞祥", "金盾", "绿城", "华宇", "康泰", "鑫源",
                  "万家", "邦和", "德信", "盛世")

# Given names by birth decade; the middle two add Faker's zh_CN lists.
_MALE_GIVEN = (
    "建国 建军 国强 志强 振华 卫东 德明 金山 宝山 富贵 有才 树林 春生 长生 福生 永福 文华 "
    "国华 保国 庆林 玉山 凤山 守仁 广才 德胜 满仓 来福 占魁 天成 世昌",
    "伟 强 军 勇 斌 涛 刚 平 海军 红军 建华 志刚 卫国 晓东 永强 国庆 海波 立新 文斌 俊杰 "
    "建平 小军 新民 宏伟 建伟 东升 志军 永刚 学军 红兵",
    "浩 鹏 宇 杰 磊 超 鑫 俊 凯 明 浩然 宇航 子豪 博文 家豪 文博 天宇 志远 嘉伟 晨阳 泽宇 "
    "一鸣 思远 明轩 浩宇 俊豪 振宇 立峰 建辉 晓峰",
    "子轩 浩宇 宇轩 梓豪 沐辰 俊熙 子墨 奕辰 睿泽 宇泽 皓轩 梓睿 铭泽 一航 浩然 诗杰 锦程 "
    "承泽 天佑 博涵 嘉懿 煜祺 智宸 正豪 昊然 明杰 立诚 立轩 立辉 峻熙",
)
_FEMALE_GIVEN = (
    "秀英 桂兰 玉兰 秀兰 桂英 玉珍 凤英 淑珍 兰英 秀珍 桂芳 玉梅 春花 翠花 素芬 菊香 金花 "
    "桂花 秀芳 玉凤 淑英 凤兰 翠兰 秀云 玉英 招弟 来娣 彩霞 月娥 巧云",
    "丽 芳 娟 艳 霞 敏 静 燕 红梅 丽娟 秀梅 晓燕 海燕 春梅 小红 丽萍 雪梅 美玲 建英 红霞 "
    "玉霞 晓红 彩云 丽华 爱华 爱萍 淑华 红艳 亚萍 桂琴",
    "婷 倩 雪 颖 佳 琳 婷婷 佳怡 欣怡 雨欣 思雨 梦瑶 晓雪 文静 丹丹 雅琪 晓琳 慧敏 佳琪 梦洁 "
    "静怡 雪莹 悦 璐 莹莹 月 蕾 晶晶 思琪 晓丽",
    "梓涵 子涵 欣怡 一诺 梓萱 诗涵 雨桐 可馨 语汐 若汐 依诺 欣妍 梦琪 思涵 芷若 沐瑶 雨涵 "
    "紫萱 艺涵 佳琪 语桐 安琪 子萱 诗琪 梓琪 嘉怡 雨萱 思彤 语嫣 一涵",
)
PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "153", "155", "156", "157", "158", "159", "166", "173", "175", "176",
                  "177", "178", "180", "181", "182", "183", "185", "186", "187", "188", "189",
                  "191", "193", "195", "198", "199")

# County departments: (category, name pattern, ASCII slug for the liaison's login).
COUNTY_DEPARTMENTS = (
    ("消防", "{county}消防救援大队", "fire"),
    ("供电", "国网{county}供电公司", "power"),
    ("人社", "{county}人力资源和社会保障局", "hr"),
    ("司法", "{county}司法局", "justice"),
    ("公安", "{county}公安局", "police"),
    ("自然资源", "{county}自然资源局", "land"),
    ("住建", "{county}住房和城乡建设局", "housing"),
    ("农业农村", "{county}农业农村局", "agri"),
    ("水务", "{county}水务局", "water"),
    ("卫健", "{county}卫生健康局", "health"),
    ("民政", "{county}民政局", "civil"),
    ("市场监管", "{county}市场监督管理局", "market"),
    ("城管执法", "{county}城市管理综合执法局", "cityadmin"),
    ("信访", "{county}信访局", "petition"),
    ("教育", "{county}教育局", "edu"),
    ("交通运输", "{county}交通运输局", "transport"),
    ("应急管理", "{county}应急管理局", "emergency"),
    ("生态环境", "{county}生态环境局", "eco"),
)
VILLAGE_SOCIAL_ORGS = ("红白理事会", "老年协会", "乡贤理事会", "妇女互助会", "志愿服务队")
COMMUNITY_SOCIAL_ORGS = ("志愿服务队", "老年协会", "文体协会", "调解委员会")


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十; numbers from 100 stay in digits."""
    digits = "零一二三四五六七八九"
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return digits[ones]
    head = "十" if tens == 1 else digits[tens] + "十"
    return head + (digits[ones] if ones else "")


def split_evenly(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainders)."""
    n = len(weights)
    base = min(minimum, total // n) if n else 0
    rest = total - base * n
    scale = sum(weights)
    shares = [rest * w / scale for w in weights]
    counts = [base + int(s) for s in shares]
    order = sorted(range(n), key=lambda i: (int(shares[i]) - shares[i], i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Layout: the places above the households, planned before anything is written.
# ---------------------------------------------------------------------------------------------


@dataclass
class BuildingPlan:
    name: str
    code: str
    subtype: str  # 组, 楼栋 or 胡同
    households: int
    units: int = 0  # staircases of a 楼栋


@dataclass
class GridPlan:
    name: str
    code: str
    subtype: str = ""
    buildings: list[BuildingPlan] = field(default_factory=list)


@dataclass
class VillagePlan:
    name: str
    code: str
    subtype: str  # 村 or 社区
    households: int
    grids: list[GridPlan] = field(default_factory=list)


@dataclass
class TownPlan:
    name: str
    code: str
    subtype: str  # 镇, 乡 or 街道
    villages: list[VillagePlan] = field(default_factory=list)

    @property
    def stem(self) -> str:
        for suffix in ("街道", "镇", "乡"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name


def layout_sizes(scale: int) -> tuple[int, int]:
    """How many towns and villages a county of ``scale`` households has.

    About 100 households a village and 7 villages a town at the default 2,000 households;
    both grow slowly with the scale (a million households: ~1,600 villages in ~60 towns).
    """
    per_village = max(30.0, 100 * (scale / DEFAULT_SCALE) ** 0.3)
    villages = max(1, min(scale, round(scale / per_village)))
    per_town = 7 * max(1.0, villages / 20) ** 0.3
    towns = max(1, min(2, villages // 2), min(villages, 250, round(villages / per_town)))
    return towns, villages


class _Names:
    """Unique, plausible place names from the word lists."""

    def __init__(self, rng: random.Random, surnames: list[str]):
        self.rng = rng
        self.surnames = surnames
        self.used: set[str] = set()

    def _unique(self, make: Callable[[], str]) -> str:
        for _attempt in range(200):
            name = make()
            if name not in self.used:
                self.used.add(name)
                return name
        # The lists are spent: number the name, as places do (王家庄二村, 幸福二社区).
        base = make()
        suffix = next(s for s in ("街道", "社区", "镇", "乡", "村") if base.endswith(s))
        n = 2
        while (name := f"{base[:-len(suffix)]}{chinese_number(n)}{suffix}") in self.used:
            n += 1
        self.used.add(name)
        return name

    def town(self, subtype: str) -> str:
        r = self.rng
        if subtype == "街道":
            return self._unique(lambda: r.choice(STREET_STEMS) + "街道")
        return self._unique(lambda: r.choice(TOWN_FIRST) + r.choice(TOWN_SECOND) + subtype)

    def village(self) -> str:
        r = self.rng

        def make() -> str:
            roll = r.random()
            if roll < 0.4:
                return r.choice(self.surnames[:60]) + "家" + r.choice(VILLAGE_FAMILY_FEATURE) + "村"
            if roll < 0.9:
                stem = r.choice(VILLAGE_PREFIX) + r.choice(VILLAGE_MIDDLE)
                suffix = r.choice(VILLAGE_SUFFIX)
                return stem + ("" if suffix == "村" else suffix) + "村"
            return r.choice(VILLAGE_AUSPICIOUS) + "村"

        return self._unique(make)

    def community(self) -> str:
        r = self.rng

        def make() -> str:
            roll = r.random()
            if roll < 0.7:
                return r.choice(COMMUNITY_WORDS) + "社区"
            if roll < 0.85:
                return r.choice(COMMUNITY_WORDS) + "路社区"
            return r.choice(TOWN_FIRST) + r.choice(TOWN_SECOND) + "社区"

        return self._unique(make)


def plan_layout(rng: random.Random, scale: int, county_code: str,
                surnames: list[str]) -> list[TownPlan]:
    n_towns, n_villages = layout_sizes(scale)
    names = _Names(rng, surnames)
    names.used.update(name for name, _subtype in FIXED_TOWNS)
    towns: list[TownPlan] = []
    # Codes as the statistics bureau numbers them: 街道 001-, 镇 100-, 乡 200- after the
    # county's six digits; then 社区 001- and 村 201- after the town's nine.
    next_code = {"街道": 1, "镇": 100, "乡": 200}
    for i in range(n_towns):
        if i < len(FIXED_TOWNS):
            name, subtype = FIXED_TOWNS[i]
        else:
            roll = rng.random()
            subtype = "街道" if roll < 0.12 else ("乡" if roll < 0.35 else "镇")
            name = names.town(subtype)
        code = f"{county_code}{next_code[subtype]:03d}"
        next_code[subtype] += 1
        towns.append(TownPlan(name, code, subtype))
    per_town = split_evenly(n_villages, [rng.uniform(0.7, 1.3) for _ in towns], minimum=1)
    villages: list[tuple[TownPlan, VillagePlan]] = []
    for town, count in zip(towns, per_town, strict=True):
        numbers = {"社区": 0, "村": 200}
        for j in range(count):
            if town.subtype == "街道":
                is_community = True
            elif town.name == "城关镇":
                is_community = j < max(1, round(count * 0.4))
            elif town.subtype == "镇":
                is_community = count >= 4 and j == count - 1  # the town's own 镇区社区
            else:
                is_community = False
            if town.name == DEMO_TOWN and j == 0:
                name = DEMO_VILLAGE
                names.used.add(name)
            else:
                name = names.community() if is_community else names.village()
            subtype = "社区" if is_community else "村"
            numbers[subtype] += 1
            village = VillagePlan(name, f"{town.code}{numbers[subtype]:03d}", subtype, 0)
            town.villages.append(village)
            villages.append((town, village))
    weights = [(2.0 if v.subtype == "社区" else 1.0) * rng.uniform(0.6, 1.4)
               for _t, v in villages]
    for (town, village), households in zip(villages, split_evenly(scale, weights, minimum=1),
                                           strict=True):
        village.households = households
        _plan_grids(rng, village, town_is_seat=town is towns[0])
    return towns


def _plan_grids(rng: random.Random, village: VillagePlan, town_is_seat: bool) -> None:
    urban = village.subtype == "社区"
    per_grid = 250 if urban else 80
    n_grids = max(1 if village.households < 20 else 2, round(village.households / per_grid))
    n_grids = min(n_grids, village.households)
    lanes = urban and town_is_seat and rng.random() < 0.5  # the old town's 胡同
    lane_names = list(LANE_WORDS)
    rng.shuffle(lane_names)
    number = 0
    sizes = split_evenly(village.households, [rng.uniform(0.8, 1.2) for _i in range(n_grids)],
                         minimum=1)
    for g, grid_households in enumerate(sizes, start=1):
        grid = GridPlan(f"第{chinese_number(g)}网格", f"{village.code}{g:03d}")
        village.grids.append(grid)
        per_building = 48 if urban else 35
        n_buildings = max(1, min(grid_households, round(grid_households / per_building)))
        for households in split_evenly(grid_households,
                                       [rng.uniform(0.7, 1.3) for _i in range(n_buildings)],
                                       minimum=1):
            number += 1
            code = f"{grid.code}{number:03d}"
            if not urban:
                grid.buildings.append(BuildingPlan(f"{chinese_number(number)}组", code, "组",
                                                   households))
            elif lanes:
                word = lane_names[(number - 1) % len(lane_names)]
                suffix = "胡同" if rng.random() < 0.5 else "巷"
                cycle = (number - 1) // len(lane_names)
                name = word + (chinese_number(cycle + 1) if cycle else "") + suffix
                grid.buildings.append(BuildingPlan(name, code, "胡同", households))
            else:
                grid.buildings.append(BuildingPlan(f"{number}号楼", code, "楼栋", households,
                                                   units=rng.choice((2, 2, 3, 4))))


# ---------------------------------------------------------------------------------------------
# Writing rows in bulk
# ---------------------------------------------------------------------------------------------


class _IdAllocator:
    """Hands out primary keys before rows are written.

    On PostgreSQL the ids come from the table's own sequence, so concurrent inserts never
    collide and the sequence needs no reset. Elsewhere they follow the largest id in the table,
    and :meth:`finish` resets the sequence where the database has one.
    """

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.sequence: str | None = None
        self.next_id = 0
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_get_serial_sequence(%s, %s)",
                               [model._meta.db_table, model._meta.pk.column])
                self.sequence = cursor.fetchone()[0]
        if self.sequence is None:
            largest = model.objects.aggregate(m=models.Max("pk"))["m"] or 0
            self.next_id = largest + 1

    def take(self, n: int) -> list[int]:
        if n <= 0:
            return []
        if self.sequence is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)",
                               [self.sequence, n])
                return sorted(row[0] for row in cursor.fetchall())
        ids = list(range(self.next_id, self.next_id + n))
        self.next_id += n
        return ids

    def finish(self) -> None:
        if self.sequence is None:
            statements = connection.ops.sequence_reset_sql(no_style(), [self.model])
            if statements:
                with connection.cursor() as cursor:
                    for sql in statements:
                        cursor.execute(sql)


def _memo_prep(f: models.Field) -> Callable[[Any], Any]:
    conn = connections[DEFAULT_DB_ALIAS]
    memo: dict[Any, Any] = {}

    def prep(value: Any) -> Any:
        key = tuple(value) if isinstance(value, list) else value
        try:
            return memo[key]
        except KeyError:
            memo[key] = out = f.get_db_prep_save(value, conn)
            return out

    return prep


class _Table:
    """Writes rows of one model in bulk: COPY on PostgreSQL, one executemany elsewhere.

    Rows are tuples in the order of ``fields`` (primary key included). Every other column is
    filled with the field's default (``auto_now_add``: the time the table was opened), so a
    field added to the model later with a default needs no change here.
    """

    PASS_THROUGH = {"AutoField", "BigAutoField", "BooleanField", "CharField", "FloatField",
                    "ForeignKey", "IntegerField", "BigIntegerField", "OneToOneField",
                    "SmallIntegerField", "TextField"}

    def __init__(self, model: type[models.Model], fields: tuple[str, ...]):
        meta = model._meta
        listed = [meta.get_field(name) for name in fields]
        rest = [f for f in meta.concrete_fields if f not in listed]
        now = timezone.now()
        defaults = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()  # the default, or "" for text fields without one
                if value is None and not f.null:
                    raise ImproperlyConfigured(
                        f"{meta.label}.{f.name} needs a value in bulk rows")
            defaults.append(f.get_db_prep_save(value, connection))
        self.defaults = tuple(defaults)
        # Other fields (dates, JSON) go through the field's own conversion for the database,
        # remembered per value: demo rows repeat few distinct dates and group lists.
        self.prep = [(i, _memo_prep(f)) for i, f in enumerate(listed)
                     if f.get_internal_type() not in self.PASS_THROUGH]
        quote = connection.ops.quote_name
        self.columns = ", ".join(quote(f.column) for f in [*listed, *rest])
        self.table = quote(meta.db_table)
        self.width = len(listed) + len(rest)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.prep:
            prepped = []
            for row in rows:
                values = list(row)
                for i, prep in self.prep:
                    values[i] = prep(values[i])
                prepped.append((*values, *self.defaults))
        else:
            prepped = [(*row, *self.defaults) for row in rows]
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if connection.vendor == "postgresql" and hasattr(raw, "copy"):
                with raw.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                    for row in prepped:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * self.width)
                cursor.executemany(
                    f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})",  # noqa: S608
                    prepped)  # (names from the model, quoted; values are parameters)


@contextmanager
def _foreign_keys_checked_once(tables: list[str]) -> Iterator[None]:
    """On PostgreSQL, check the foreign keys of ``tables`` once after a bulk load.

    Each inserted row would otherwise queue one check per foreign key (a person has seven) to
    run at commit. As PostgreSQL's manual advises for bulk loads ("Populating a Database"), the
    constraints are dropped and added back, which checks every row in one pass per constraint.
    All inside the caller's transaction: if anything fails, the constraints are as they were.
    Needs the tables' owner; without the privilege the load goes ahead with per-row checks.
    """
    if connection.vendor != "postgresql":
        yield
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) "
            "ORDER BY conrelid, conname", [tables])
        constraints = cursor.fetchall()
        try:
            with transaction.atomic():
                for table, name, _definition in constraints:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        except DatabaseError:
            constraints = []
    yield
    with connection.cursor() as cursor:
        for table, name, definition in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")


PLACE_FIELDS = ("id", "kind", "name", "code", "subtype", "parent", *LEVELS, "sort_order")
HOUSEHOLD_FIELDS = ("place", "county", "household_type", "address", "card_code",
                    "registered_at")
PERSON_FIELDS = ("id", "place", *LEVELS, "name", "gender", "birth_date", "id_number", "phone",
                 "relation", "is_party_member", "special_groups")


def _place_row(place: Place) -> tuple[Any, ...]:
    return (place.pk, place.kind, place.name, place.code, place.subtype, place.parent_id,
            *[getattr(place, f"{level}_id") for level in LEVELS], place.sort_order)


def _new_place(pk: int, parent: Place | None, kind: str, name: str, code: str = "",
               subtype: str = "", sort_order: int = 0) -> Place:
    """A place with its ancestor columns set as ``places.actions._insert_place`` sets them."""
    place = Place(pk=pk, parent=parent, kind=kind, name=name[:120], code=code, subtype=subtype,
                  sort_order=sort_order)
    place.copy_ancestors_from(parent) if parent else None
    setattr(place, f"{kind}_id", pk)
    if kind == PlaceKind.COUNTY:
        place.county_id = pk
    return place


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------


@dataclass
class _Member:
    relation: str
    gender: str
    age: int
    surname: str = ""
    name: str = ""
    birth_date: date | None = None
    id_number: str = ""
    phone: str = ""
    party: bool = False
    groups: list[str] = field(default_factory=list)


@dataclass
class DemoResult:
    county: Place
    created: bool
    counts: dict[str, int]
    logins: list[tuple[str, str, str]]  # username, role label, place name
    cadres_created: int = 0


class _Generator:
    def __init__(self, seed: int, scale: int, *, progress: bool, batch_size: int,
                 county_name: str, county_code: str):
        self.seed = seed
        self.scale = scale
        self.progress = progress
        self.batch_size = batch_size
        self.county_name = county_name
        self.county_code = county_code
        self.rng = random.Random(seed)
        self.faker = Faker("zh_CN")
        self.faker.seed_instance(seed)
        weights = ZhPersonProvider.last_names
        self.surnames: list[str] = list(weights)
        self.surname_cum: list[float] = []
        total = 0.0
        for name in self.surnames:
            total += float(weights[name])
            self.surname_cum.append(total)
        faker_male = list(ZhPersonProvider.first_names_male)
        faker_female = list(ZhPersonProvider.first_names_female)
        self.male_given = [era.split() + (faker_male if i in (1, 2) else [])
                           for i, era in enumerate(_MALE_GIVEN)]
        self.female_given = [era.split() + (faker_female if i in (1, 2) else [])
                             for i, era in enumerate(_FEMALE_GIVEN)]
        self.id_counters: dict[int, list[int]] = {}
        self.id_prefix_sums: dict[str, int] = {}
        mask = (1 << 48) - 1
        self.card_mult = (self.rng.getrandbits(48) | 1) & mask
        self.card_offset = self.rng.getrandbits(48)
        self.counts: dict[str, int] = {
            "towns": 0, "villages": 0, "communities": 0, "grids": 0, "buildings": 0,
            "households": 0, "people": 0, "party_members": 0, "organisations": 0, "users": 0,
        }
        for kind in HouseholdType.values:
            self.counts[f"households_{kind}"] = 0
        for group in SpecialGroup.values:
            self.counts[f"people_{group}"] = 0

    # --- small draws -----------------------------------------------------------------------

    def surname(self) -> str:
        r = self.rng.random() * self.surname_cum[-1]
        return self.surnames[bisect.bisect_right(self.surname_cum, r)]

    def given_name(self, gender: str, birth_year: int) -> str:
        era = 0 if birth_year < 1960 else 1 if birth_year < 1980 else 2 if birth_year < 2005 else 3
        pool = (self.male_given if gender == Gender.MALE else self.female_given)[era]
        return pool[int(self.rng.random() * len(pool))]

    def phone(self) -> str:
        r = self.rng
        return r.choice(PHONE_PREFIXES) + f"{r.randrange(100_000_000):08d}"

    def birth_date(self, age: int) -> date:
        return REFERENCE_DATE - timedelta(days=age * 365 + self.rng.randrange(1, 365))

    def id_number(self, birth: date, gender: str) -> tuple[str, date]:
        """A checksummed number unique in the county; may move the birthday by a day or two."""
        while True:
            counters = self.id_counters.setdefault(birth.toordinal(), [0, 0])
            slot = 0 if gender == Gender.MALE else 1
            n = counters[slot]
            if n < 499:
                counters[slot] = n + 1
                # The 3-digit order code is odd for men, even for women (GB 11643).
                start = birth.toordinal() * 37 % 250
                order = 2 * ((start + n) % 499) + (1 if slot == 0 else 2)
                prefix = f"{self.county_code}{birth:%Y%m%d}"
                weighted = self.id_prefix_sums.get(prefix)
                if weighted is None:
                    weighted = self.id_prefix_sums[prefix] = sum(
                        int(d) * w for d, w in zip(prefix, ID_WEIGHTS, strict=False))
                tail = f"{order:03d}"
                check = ID_CHECK[(weighted + int(tail[0]) * 8 + int(tail[1]) * 4
                                  + int(tail[2]) * 2) % 11]
                return prefix + tail + check, birth
            birth -= timedelta(days=1)

    # --- households -----------------------------------------------------------------------

    def _couple(self, lo: int, hi: int) -> list[_Member]:
        r = self.rng
        age = r.randint(lo, hi)
        wife = max(20, min(100, age - r.randint(-2, 5)))
        return [_Member(Relation.HEAD, Gender.MALE, age),
                _Member(Relation.SPOUSE, Gender.FEMALE, wife)]

    def _children(self, parents: list[_Member], n: int, relation: str = Relation.CHILD,
                  gap: tuple[int, int] = (21, 36)) -> list[_Member]:
        r = self.rng
        youngest = min(m.age for m in parents)
        out = []
        for _i in range(n):
            age = youngest - r.randint(*gap)
            if age < 0:
                age = r.randint(0, max(0, youngest - gap[0]))
            out.append(_Member(relation, r.choice((Gender.MALE, Gender.FEMALE)), age))
        return out

    def _parents_of(self, head: _Member, n: int) -> list[_Member]:
        r = self.rng
        base = head.age + r.randint(22, 32)
        genders = [Gender.FEMALE, Gender.MALE] if n == 1 and r.random() < 0.7 else [
            Gender.MALE, Gender.FEMALE]
        return [_Member(Relation.PARENT, genders[i], min(99, base - (2 * i if i else 0)))
                for i in range(n)]

    def members(self, floating: bool) -> list[_Member]:
        r = self.rng
        roll = r.random()
        if floating:
            size = 1 if roll < 0.35 else 2 if roll < 0.65 else 3 if roll < 0.9 else 4
            if size == 1:
                return [_Member(Relation.HEAD, Gender.MALE if r.random() < 0.65 else
                                Gender.FEMALE, r.randint(19, 50))]
            couple = self._couple(22, 48)
            return couple + self._children(couple, size - 2)
        size = (1 if roll < 0.18 else 2 if roll < 0.48 else 3 if roll < 0.72 else
                4 if roll < 0.87 else 5 if roll < 0.96 else 6)
        kind = r.random()
        if size == 1:
            if kind < 0.55:
                gender = Gender.FEMALE if r.random() < 0.6 else Gender.MALE
                return [_Member(Relation.HEAD, gender, r.randint(60, 92))]
            return [_Member(Relation.HEAD, Gender.MALE if r.random() < 0.65 else Gender.FEMALE,
                            r.randint(22, 59))]
        if size == 2:
            if kind < 0.5:
                return self._couple(58, 86)
            if kind < 0.75:
                return self._couple(24, 60)
            if kind < 0.9:
                head = _Member(Relation.HEAD, r.choice((Gender.MALE, Gender.FEMALE)),
                               r.randint(40, 75))
                return [head, *self._children([head], 1)]
            head = _Member(Relation.HEAD, Gender.MALE, r.randint(28, 60))
            return [head, *self._parents_of(head, 1)]
        if size == 3:
            if kind < 0.65:
                couple = self._couple(26, 58)
                return couple + self._children(couple, 1)
            if kind < 0.85:  # grandparents raising a grandchild (parents away at work)
                couple = self._couple(52, 75)
                return couple + self._children(couple, 1, Relation.GRANDCHILD, (44, 60))
            couple = self._couple(28, 60)
            return couple + self._parents_of(couple[0], 1)
        if size == 4:
            if kind < 0.5:
                couple = self._couple(28, 55)
                return couple + self._children(couple, 2)
            if kind < 0.8:
                couple = self._couple(30, 60)
                return (couple + self._children(couple, 1) + self._parents_of(couple[0], 1))
            couple = self._couple(52, 75)
            return couple + self._children(couple, 2, Relation.GRANDCHILD, (44, 60))
        if size == 5:
            if kind < 0.45:
                couple = self._couple(30, 55)
                return couple + self._children(couple, 2) + self._parents_of(couple[0], 1)
            if kind < 0.8:
                couple = self._couple(55, 76)
                child = self._children(couple, 1, gap=(22, 30))
                in_law = _Member(Relation.OTHER, Gender.FEMALE if child[0].gender ==
                                 Gender.MALE else Gender.MALE,
                                 max(20, child[0].age + r.randint(-3, 3)))
                return couple + child + [in_law] + self._children(child, 1, Relation.GRANDCHILD)
            couple = self._couple(32, 55)
            return couple + self._children(couple, 3)
        if kind < 0.5:  # six: a couple, two children and both of the head's parents
            couple = self._couple(30, 55)
            return couple + self._children(couple, 2) + self._parents_of(couple[0], 2)
        couple = self._couple(55, 76)
        child = self._children(couple, 1, gap=(22, 30))
        in_law = _Member(Relation.OTHER, Gender.FEMALE if child[0].gender == Gender.MALE else
                         Gender.MALE, max(20, child[0].age + r.randint(-3, 3)))
        return couple + child + [in_law] + self._children(child, size - 4, Relation.GRANDCHILD)

    def fill_in(self, members: list[_Member]) -> None:
        """Names, birthdays, ID numbers, phones, party membership and special groups."""
        r = self.rng
        head = members[0]
        head.surname = self.surname()
        # Children take the father's surname: the head's if he is a man, else her late husband's;
        # grandchildren their father's: the son's, or the son-in-law's (listed before them).
        family = head.surname if head.gender == Gender.MALE else self.surname()
        grandfamily = family
        has_child_generation = any(m.relation == Relation.CHILD for m in members)
        for m in members:
            if m.relation == Relation.CHILD:
                m.surname = family
            elif m.relation == Relation.GRANDCHILD:
                m.surname = grandfamily
            elif m.relation == Relation.PARENT and m.gender == Gender.MALE:
                m.surname = head.surname
            elif m is not head:
                m.surname = self.surname()
                if m.relation == Relation.OTHER and m.gender == Gender.MALE:
                    grandfamily = m.surname
            m.birth_date = self.birth_date(m.age)
            m.id_number, m.birth_date = self.id_number(m.birth_date, m.gender)
            m.name = m.surname + self.given_name(m.gender, m.birth_date.year)
            if 14 <= m.age <= 75:
                m.phone = self.phone() if r.random() < 0.92 else ""
            elif m.age > 75:
                m.phone = self.phone() if r.random() < 0.4 else ""
            if m.age >= 18:
                p = 0.12 if m.gender == Gender.MALE else 0.055
                m.party = r.random() < (p * 0.4 if m.age < 25 else p)
            disabled = 0.005 if m.age < 18 else 0.015 if m.age < 60 else 0.05
            if r.random() < disabled:
                m.groups.append(SpecialGroup.DISABLED)
            if m.gender == Gender.MALE and 22 <= m.age <= 85 and r.random() < 0.02:
                m.groups.append(SpecialGroup.VETERAN)
            if r.random() < 0.002 + 0.00015 * m.age:
                m.groups.append(SpecialGroup.SERIOUS_ILLNESS)
            if (m.relation == Relation.GRANDCHILD and m.age < 16 and not has_child_generation
                    and r.random() < 0.75):
                m.groups.append(SpecialGroup.LEFT_BEHIND_CHILD)
        if len(members) == 1 and head.age >= 65 and r.random() < 0.2:
            head.groups.append(SpecialGroup.LONELY_ELDERLY)
        hardship = any(SpecialGroup.DISABLED in m.groups or SpecialGroup.LONELY_ELDERLY in
                       m.groups for m in members)
        if r.random() < (0.15 if hardship else 0.03):
            head.groups.append(SpecialGroup.LOW_INCOME)

    # --- the run --------------------------------------------------------------------------

    def run(self) -> DemoResult:
        self.place_ids = _IdAllocator(Place)
        self.person_ids = _IdAllocator(Person)
        self.check_cards = Household.objects.exists()
        towns = plan_layout(self.rng, self.scale, self.county_code, self.surnames)
        self.places = _Table(Place, PLACE_FIELDS)
        self.households = _Table(Household, HOUSEHOLD_FIELDS)
        self.people = _Table(Person, PERSON_FIELDS)
        county = _new_place(self.place_ids.take(1)[0], None, PlaceKind.COUNTY, self.county_name,
                            code=self.county_code, subtype="县")
        self.county = county
        tables = [m._meta.db_table for m in (Place, Household, Person)]
        with _foreign_keys_checked_once(tables):
            self.places.write([_place_row(county)])
            upper = self._write_upper_places(county, towns)
            self._write_households(upper, towns)
        orgs = self._write_organisations(county, upper, towns)
        self.place_ids.finish()
        self.person_ids.finish()
        logins = self._create_demo_logins(county, self._demo_places(upper, towns), orgs)
        record("places.demo.generate", obj=county, county_id=county.pk,
               after={"seed": self.seed, "scale": self.scale, **self.counts,
                      "demo_logins": [username for username, _role, _place in logins]})
        return DemoResult(county, True, dict(self.counts), logins)

    def _write_upper_places(self, county: Place, towns: list[TownPlan]) -> dict[str, Place]:
        """Towns down to buildings, written in batches; returns every place by its code."""
        by_code: dict[str, Place] = {county.code: county}
        pending: list[Place] = []

        def add(parent: Place, kind: str, plan: Any, sort_order: int) -> Place:
            place = _new_place(0, parent, kind, plan.name, plan.code, plan.subtype,
                               sort_order)
            pending.append(place)
            by_code[plan.code] = place
            return place

        # Ids are taken level by level: a parent's id is known before its children are made.
        for level_plans in self._levels(towns):
            level_places = [add(by_code[parent_code], kind, plan, order)
                            for parent_code, kind, plan, order in level_plans]
            for place, pk in zip(level_places, self.place_ids.take(len(level_places)),
                                 strict=True):
                place.pk = pk
                setattr(place, f"{place.kind}_id", pk)
        for start in range(0, len(pending), self.batch_size):
            self.places.write([_place_row(p) for p in pending[start:start + self.batch_size]])
        for town in towns:
            self.counts["towns"] += 1
            for village in town.villages:
                key = "communities" if village.subtype == "社区" else "villages"
                self.counts[key] += 1
                self.counts["grids"] += len(village.grids)
                self.counts["buildings"] += sum(len(g.buildings) for g in village.grids)
        return by_code

    def _levels(self, towns: list[TownPlan]) -> Iterator[list[tuple[str, str, Any, int]]]:
        yield [(self.county_code, PlaceKind.TOWN, t, i) for i, t in enumerate(towns)]
        yield [(t.code, PlaceKind.VILLAGE, v, i) for t in towns for i, v in enumerate(t.villages)]
        yield [(v.code, PlaceKind.GRID, g, i) for t in towns for v in t.villages
               for i, g in enumerate(v.grids)]
        yield [(g.code, PlaceKind.BUILDING, b, i) for t in towns for v in t.villages
               for g in v.grids for i, b in enumerate(g.buildings)]

    def _card_code(self, ordinal: int) -> str:
        # An affine map modulo 2**48 with an odd factor is a bijection: codes never repeat.
        return "H" + f"{(ordinal * self.card_mult + self.card_offset) % (1 << 48):012X}"

    def _write_households(self, upper: dict[str, Place], towns: list[TownPlan]) -> None:
        bar = tqdm(total=self.scale, unit="户", disable=not self.progress, file=sys.stderr,
                   dynamic_ncols=True, mininterval=1.0)
        batch: list[tuple[Any, ...]] = []
        ordinal = 0
        for town in towns:
            floating_share = 0.14 if town.subtype == "街道" else 0.06
            for village in town.villages:
                for grid in village.grids:
                    for building in grid.buildings:
                        parent = upper[building.code]
                        # county, town, village, grid and building: as set_place() sets them
                        above = tuple(parent.ancestor_id(level) for level in LEVELS[:-1])
                        for n in range(building.households):
                            label, address = self._address(town, village, building, n)
                            floating = self.rng.random() < floating_share
                            members = self.members(floating)
                            self.fill_in(members)
                            registered = date(2018, 1, 1) + timedelta(
                                days=self.rng.randrange(8 * 365))
                            batch.append((above, label, f"{building.code}{n + 1:04d}", n,
                                          self._household_type(members, floating), address,
                                          self._card_code(ordinal), registered, members))
                            ordinal += 1
                            if len(batch) >= self.batch_size:
                                self._flush(batch)
                                bar.update(len(batch))
                                batch = []
        if batch:
            self._flush(batch)
            bar.update(len(batch))
        bar.close()

    def _address(self, town: TownPlan, village: VillagePlan, building: BuildingPlan,
                 n: int) -> tuple[str, str]:
        if building.subtype == "楼栋":
            per_floor = 2
            floors = max(1, math.ceil(building.households / (building.units * per_floor)))
            unit, rest = divmod(n, floors * per_floor)
            floor, room = divmod(rest, per_floor)
            label = (f"{village.name}{building.name}{unit + 1}单元"
                     f"{floor + 1}{room + 1:02d}室")
        else:
            label = f"{village.name}{building.name}{n + 1}号"
        return label, f"{self.county_name}{town.name}{label}"[:200]

    @staticmethod
    def _household_type(members: list[_Member], floating: bool) -> str:
        if floating:
            return HouseholdType.FLOATING
        if any(m.party for m in members):
            return HouseholdType.PARTY
        if all(m.age >= 60 for m in members):
            return HouseholdType.ELDERLY
        return HouseholdType.ORDINARY

    def _flush(self, batch: list[tuple[Any, ...]]) -> None:
        """Write one batch of households: their places, archives and members."""
        place_ids = self.place_ids.take(len(batch))
        person_ids = iter(self.person_ids.take(sum(len(row[-1]) for row in batch)))
        place_rows, household_rows, person_rows = [], [], []
        counts = self.counts
        for (above, label, code, order, household_type, address, card, registered,
             members), pk in zip(batch, place_ids, strict=True):
            # A household is its own ancestor at its level (places.actions._insert_place).
            place_rows.append((pk, PlaceKind.HOUSEHOLD.value, label[:120], code, "", above[-1],
                               *above, pk, order))
            household_rows.append((pk, above[0], household_type, address, card, registered))
            counts["households"] += 1
            counts[f"households_{household_type}"] += 1
            for m in members:
                person_id = next(person_ids)
                person_rows.append((person_id, pk, *above, pk, m.name, m.gender, m.birth_date,
                                    m.id_number, m.phone, m.relation, m.party, m.groups))
                counts["people"] += 1
                counts["party_members"] += m.party
                for group in m.groups:
                    counts[f"people_{group}"] += 1
        if self.check_cards and Household.objects.filter(
            card_code__in=[row[4] for row in household_rows]
        ).exists():
            raise ActionError(_("示范数据的积分卡号与已有的户重复，请换一个种子重试。"))
        self.places.write(place_rows)
        self.households.write(household_rows)
        self.people.write(person_rows)

    # --- organisations and cadres ---------------------------------------------------------

    def _demo_places(self, upper: dict[str, Place], towns: list[TownPlan]) -> dict[str, Place]:
        """Where the demo logins work: 八里镇, its first village 高城寨村, its first grid, and
        the first household there."""
        town_plan = next((t for t in towns if t.name == DEMO_TOWN), towns[0])
        village_plan = town_plan.villages[0]
        grid = upper[village_plan.grids[0].code]
        household = Place.objects.filter(grid=grid, kind=PlaceKind.HOUSEHOLD).order_by("id")[0]
        return {"county": self.county, "town": upper[town_plan.code],
                "village": upper[village_plan.code], "grid": grid, "household": household}

    def _contact(self) -> tuple[str, str]:
        return self.faker.name(), self.phone()

    def _write_organisations(self, county: Place, upper: dict[str, Place],
                             towns: list[TownPlan]) -> dict[str, Organisation]:
        orgs: list[tuple[Place, Organisation]] = []
        departments: dict[str, Organisation] = {}

        def add(place: Place, kind: str, name: str, category: str = "") -> Organisation:
            contact, phone = self._contact()
            org = Organisation(kind=kind, name=name, category=category, contact_name=contact,
                               contact_phone=phone)
            org.set_place(place)
            orgs.append((place, org))
            return org

        for category, pattern, slug in COUNTY_DEPARTMENTS:
            departments[slug] = add(county, OrganisationKind.DEPARTMENT,
                                    pattern.format(county=self.county_name), category)
        for i, town in enumerate(towns):
            place = upper[town.code]
            add(place, OrganisationKind.DEPARTMENT, f"{town.name}司法所", "司法所")
            add(place, OrganisationKind.DEPARTMENT,
                f"{self.county_name}公安局{town.stem}派出所", "派出所")
            add(place, OrganisationKind.DEPARTMENT, f"{town.stem}供电所", "供电")
            if i == 0:
                add(place, OrganisationKind.RESIDENT_UNIT, f"{self.county_name}人民医院")
                add(place, OrganisationKind.RESIDENT_UNIT, f"{self.county_name}第一中学")
            clinic = "社区卫生服务中心" if town.subtype == "街道" else "卫生院"
            add(place, OrganisationKind.RESIDENT_UNIT, f"{town.name}{clinic}")
            add(place, OrganisationKind.RESIDENT_UNIT, f"{town.stem}中心小学")
            add(place, OrganisationKind.SOCIAL_ORG, f"{town.name}志愿者协会")
            for village in town.villages:
                vplace = upper[village.code]
                if village.subtype == "社区":
                    if any(b.subtype == "楼栋" for g in village.grids for b in g.buildings):
                        word = self.rng.choice(PROPERTY_WORDS)
                        add(vplace, OrganisationKind.PROPERTY_COMPANY,
                            f"{self.county_name}{word}物业服务有限公司{village.name}项目部")
                    add(vplace, OrganisationKind.SOCIAL_ORG,
                        village.name + self.rng.choice(COMMUNITY_SOCIAL_ORGS))
                else:
                    add(vplace, OrganisationKind.SOCIAL_ORG,
                        village.name + self.rng.choice(VILLAGE_SOCIAL_ORGS))
        for start in range(0, len(orgs), self.batch_size):
            Organisation.objects.bulk_create([o for _p, o in orgs[start:start + self.batch_size]])
        self.counts["organisations"] = len(orgs)
        return departments

    def _create_demo_logins(self, county: Place, demo: dict[str, Place],
                            departments: dict[str, Organisation]) -> list[tuple[str, str, str]]:
        """The demo logins, one per role, through the accounts actions.

        The village secretary, village cadre and grid worker are residents of their village
        (the secretary a party member); the resident is the head of the demo household.
        """
        head = (Person.objects.filter(household=demo["household"], relation=Relation.HEAD)
                .values_list(*_STAFF_COLUMNS).first())
        secretary, cadre, workers = _village_staff(demo["village"], {head[0]} if head else set())
        worker = workers.get(demo["grid"].pk)
        rows = {"village_secretary": secretary, "village_cadre": cadre, "grid_worker": worker,
                "resident": head}
        people = Person.objects.in_bulk([row[0] for row in rows.values() if row])
        logins, users = [], []
        for login in DEMO_LOGINS:
            place = demo[login.level]
            org = departments["power"] if login.role == Role.DEPARTMENT_LIAISON else None
            row = rows.get(login.username)
            users.append(_create_account(login.username, login.role, place, county,
                                         person=people[row[0]] if row else None, org=org))
            logins.append((login.username, str(Role(login.role).label), place.name))
        # One published password for all demo logins: hashed once (a strong hash takes a
        # noticeable fraction of a second) and set on each; the generation's audit event
        # names them.
        User.objects.filter(pk__in=[u.pk for u in users]).update(
            password=make_password(DEMO_PASSWORD))
        self.counts["users"] = len(users)
        return logins


# ---------------------------------------------------------------------------------------------
# Cadre accounts
# ---------------------------------------------------------------------------------------------

_STAFF_COLUMNS = ("id", "grid_id", "name", "phone", "is_party_member")
StaffRow = tuple[int, int, str, str, bool]


def _village_staff(village: Place, used: set[int]
                   ) -> tuple[StaffRow | None, StaffRow | None, dict[int, StaffRow]]:
    """Residents aged 25 to 60 to serve as the village secretary (a party member where there
    is one), a village cadre, and a worker for each grid: the first with a phone, in
    registration order."""
    youngest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 25)
    oldest = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - 61)
    rows = [row for row in Person.objects.filter(
        village=village, birth_date__gt=oldest, birth_date__lte=youngest,
    ).exclude(phone="").order_by("id").values_list(*_STAFF_COLUMNS) if row[0] not in used]
    secretary = next((r for r in rows if r[4]), rows[0] if rows else None)
    cadre = next((r for r in rows if r is not secretary), None)
    workers: dict[int, StaffRow] = {}
    for row in rows:
        if row is not secretary and row is not cadre:
            workers.setdefault(row[1], row)
    return secretary, cadre, workers


def _create_account(username: str, role: str, place: Place, county: Place, *,
                    person: Person | None = None, org: Organisation | None = None,
                    name: str = "", phone: str = "") -> User:
    if person is not None:
        name, phone = person.name, person.phone
    elif org is not None:
        name, phone = org.contact_name, org.contact_phone
    elif not name:
        name, phone = _stand_in(username)
    user = do_create_user(username, acting_user=None, display_name=name, county=county,
                          organisation=org, phone=phone, person=person)
    do_grant_role(user, role, place, acting_user=None)
    return user


_stand_in_faker: list[Faker] = []


def _stand_in(username: str) -> tuple[str, str]:
    """A name and phone for a cadre who is no resident of the county, the same on every run."""
    if not _stand_in_faker:
        _stand_in_faker.append(Faker("zh_CN"))
    fake = _stand_in_faker[0]
    fake.seed_instance(int(hashlib.sha256(username.encode()).hexdigest()[:12], 16))
    rng = random.Random(username)
    return fake.name(), rng.choice(PHONE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"


def ensure_cadres(county: Place, *, progress: bool = False) -> int:
    """Give every place of the county its cadre accounts; return how many were created.

    Each town gets a secretary and a staff member, each village or community a secretary and a
    cadre, each grid a grid worker, each county department a liaison — unless someone already
    holds that role there (the demo logins do, at their places). Accounts are made through the
    accounts actions without a usable password, one place per transaction: a run that stops
    half-way is completed by the next ``gongzhi demo``.
    """
    held = set(RoleGrant.objects.filter(county=county, is_active=True)
               .values_list("role", "place_id"))
    used = set(User.objects.filter(county=county, person__isnull=False)
               .values_list("person_id", flat=True))
    usernames = set(User.objects.filter(county=county).values_list("username", flat=True))
    created = 0

    def needed(username: str, role: str, place_id: int) -> bool:
        return (role, place_id) not in held and username not in usernames

    slugs = {category: slug for category, _pattern, slug in COUNTY_DEPARTMENTS}
    with transaction.atomic():
        for org in Organisation.objects.filter(place=county, kind=OrganisationKind.DEPARTMENT,
                                               category__in=slugs).order_by("id"):
            username = f"dept_{slugs[org.category]}"
            if username not in usernames and not org.users.exists():
                _create_account(username, Role.DEPARTMENT_LIAISON, county, county, org=org)
                created += 1
    with transaction.atomic():
        for town in Place.objects.filter(county=county, kind=PlaceKind.TOWN).order_by("code"):
            for role in (Role.TOWN_SECRETARY, Role.TOWN_STAFF):
                username = f"{role}-{town.code}"
                if needed(username, role, town.pk):
                    _create_account(username, role, town, county)
                    created += 1
    grids: dict[int, list[Place]] = {}
    for grid in Place.objects.filter(county=county, kind=PlaceKind.GRID).order_by("code"):
        grids.setdefault(grid.village_id, []).append(grid)
    missing = []
    for village in Place.objects.filter(county=county, kind=PlaceKind.VILLAGE).order_by("code"):
        wanted = [(f"{role}-{village.code}", role, village)
                  for role in (Role.VILLAGE_SECRETARY, Role.VILLAGE_CADRE)]
        wanted += [(f"{Role.GRID_WORKER}-{g.code}", Role.GRID_WORKER, g)
                   for g in grids.get(village.pk, [])]
        wanted = [w for w in wanted if needed(w[0], w[1], w[2].pk)]
        if wanted:
            missing.append((village, wanted))
    for village, wanted in tqdm(missing, unit="村", disable=not progress or not missing,
                                file=sys.stderr, dynamic_ncols=True, mininterval=1.0,
                                desc="cadres"):
        secretary, cadre, workers = _village_staff(village, used)
        chosen = {(role, village.pk): row for role, row in
                  ((Role.VILLAGE_SECRETARY, secretary), (Role.VILLAGE_CADRE, cadre)) if row}
        chosen.update({(Role.GRID_WORKER, grid_id): row for grid_id, row in workers.items()})
        wanted = [(*w, chosen.get((w[1], w[2].pk))) for w in wanted]
        people = Person.objects.in_bulk([row[0] for *_w, row in wanted if row])
        with transaction.atomic():
            for username, role, place, row in wanted:
                _create_account(username, role, place, county,
                                person=people[row[0]] if row else None)
                if row:
                    used.add(row[0])
                created += 1
    return created


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def demo_county() -> Place | None:
    return Place.objects.filter(kind=PlaceKind.COUNTY, code=DEMO_COUNTY_CODE,
                                name=DEMO_COUNTY_NAME).first()


def demo_logins(county: Place) -> list[tuple[str, str, str]]:
    """The demo logins that exist, as (username, role label, place name)."""
    grants = (RoleGrant.objects.filter(user__username__in=[d.username for d in DEMO_LOGINS],
                                       county=county, is_active=True)
              .select_related("user", "place"))
    by_user = {(g.user.username, g.role): g for g in grants}
    out = []
    for login in DEMO_LOGINS:
        grant = by_user.get((login.username, login.role))
        if grant:
            out.append((login.username, str(Role(login.role).label), grant.place.name))
    return out


def generate_demo(*, seed: int = DEFAULT_SEED, scale: int = DEFAULT_SCALE,
                  progress: bool = False, batch_size: int = BATCH_SIZE) -> DemoResult:
    """Build the demo county, or return the one that exists (``created`` is then False)."""
    if scale < 1 or batch_size < 1:
        raise ActionError(_("户数和每批户数都至少为 1。"))
    with transaction.atomic():
        existing = demo_county()
        if existing is None:
            taken = sorted(User.objects.filter(username__in=[d.username for d in DEMO_LOGINS])
                           .values_list("username", flat=True))
            if taken:
                raise ActionError(_("用户名 %(names)s 已存在，无法建立示范账号。")
                                  % {"names": "、".join(taken)})
            generator = _Generator(seed, scale, progress=progress, batch_size=batch_size,
                                   county_name=DEMO_COUNTY_NAME, county_code=DEMO_COUNTY_CODE)
            result = generator.run()
        else:
            result = DemoResult(existing, False, {}, demo_logins(existing))
    if result.created and connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh planner statistics for the bulk-loaded tables
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(m._meta.db_table)
                                                  for m in (Place, Household, Person)))
    # Outside the generation's transaction: each place's accounts commit on their own (a long
    # transaction appending thousands of audit events slows down as it grows).
    result.cadres_created = ensure_cadres(result.county, progress=progress)
    if result.created:
        result.counts["users"] += result.cadres_created
    return result


def demo_digest(county: Place) -> str:
    """A digest of the demo county's content, independent of database ids.

    Equal for two runs with the same seed and scale, on any database.
    """
    h = hashlib.sha256()
    codes = dict(Place.objects.filter(county=county).values_list("pk", "code"))

    def feed(*values: Any) -> None:
        h.update(repr(values).encode())

    for row in (Place.objects.filter(county=county).order_by("code")
                .values_list("kind", "name", "code", "subtype", "parent_id", "sort_order",
                             *[f"{level}_id" for level in LEVELS]).iterator(chunk_size=10000)):
        feed(*row[:4], *[codes.get(v) for v in row[4:5]], row[5], *[codes.get(v) for v in row[6:]])
    for row in (Household.objects.filter(county=county).order_by("place__code")
                .values_list("place__code", "household_type", "address", "card_code",
                             "registered_at").iterator(chunk_size=10000)):
        feed(*row)
    for row in (Person.objects.filter(county=county).order_by("id")
                .values_list("place_id", "name", "gender", "birth_date", "id_number", "phone",
                             "relation", "is_party_member", "special_groups")
                .iterator(chunk_size=10000)):
        feed(codes.get(row[0]), *row[1:])
    for row in (Organisation.objects.filter(county=county).order_by("id")
                .values_list("place_id", "kind", "name", "category", "contact_name",
                             "contact_phone")):
        feed(codes.get(row[0]), *row[1:])
    for row in (RoleGrant.objects.filter(county=county).order_by("user__username", "role")
                .values_list("user__username", "user__display_name", "user__phone",
                             "user__person__id_number", "user__organisation__name", "role",
                             "place_id")):
        feed(*row[:-1], codes.get(row[-1]))
    return h.hexdigest()
