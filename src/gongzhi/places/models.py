"""The registry: one tree of places, and the households, people and organisations in it.

The tree has fixed levels, county → town → village → grid → building → household. Instead of
a materialised path, every row that belongs to a place carries the ids of all its ancestors
(``county``, ``town``, ``village``, ``grid``, ``building``, ``household``): "everything under
village V" is ``filter(village=V)``, one indexed column, on any table, with no join and no
string prefix; figures roll up with ``GROUP BY village_id``. ``county`` is the future shard
key (ADR 0002).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import RestrictQuerySet
from gongzhi.core.privacy import mask_id_number, mask_name, mask_phone

LEVELS = ("county", "town", "village", "grid", "building", "household")


class PlaceKind(models.TextChoices):
    COUNTY = "county", _("县/区")
    TOWN = "town", _("镇/街道")
    VILLAGE = "village", _("村/社区")
    GRID = "grid", _("网格")
    BUILDING = "building", _("楼栋/胡同")
    HOUSEHOLD = "household", _("户")


def level_index(kind: str) -> int:
    return LEVELS.index(kind)


class PlaceScoped(models.Model):
    """A row that belongs to a place: it carries the place and every ancestor of it.

    Set them with :meth:`set_place`; never by hand. Queries that roll up the tree filter or
    group on one of these columns.
    """

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("地点"))
    county = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("县/区"))
    town = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                             null=True, blank=True, verbose_name=_("镇/街道"))
    village = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                                null=True, blank=True, verbose_name=_("村/社区"))
    grid = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                             null=True, blank=True, verbose_name=_("网格"))
    building = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True, db_index=False, verbose_name=_("楼栋"))
    household = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+",
                                  null=True, blank=True, verbose_name=_("户"))

    class Meta:
        abstract = True

    def set_place(self, place: Place) -> None:
        self.place = place
        for level in LEVELS:
            setattr(self, f"{level}_id", place.ancestor_id(level))


class Place(models.Model):
    """A node of the tree. Its ancestor columns include itself at its own level."""

    kind = models.CharField(_("层级"), max_length=16, choices=PlaceKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    code = models.CharField(_("编码"), max_length=40, blank=True,
                            help_text=_("行政区划代码或本地编码"))
    subtype = models.CharField(_("类型"), max_length=16, blank=True,
                               help_text=_("如 镇/街道/乡、村/社区、楼栋/胡同/组"))
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("上级"))
    county = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("县/区"))
    town = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    village = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+")
    grid = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    building = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", db_index=False)
    household = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", db_index=False)
    sort_order = models.IntegerField(default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "places"

    class Meta:
        verbose_name = _("地点")
        verbose_name_plural = _("地点")
        ordering = ["sort_order", "id"]
        indexes = [
            models.Index(fields=["parent", "sort_order"], name="place_parent_idx"),
            models.Index(fields=["county", "kind"], name="place_county_kind_idx"),
            models.Index(fields=["town", "kind"], name="place_town_kind_idx"),
            models.Index(fields=["village", "kind"], name="place_village_kind_idx"),
            models.Index(fields=["grid", "kind"], name="place_grid_kind_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="county") | models.Q(parent__isnull=False),
                name="place_parent_required_below_county",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> int:
        return level_index(self.kind)

    def ancestor_id(self, level: str) -> int | None:
        if level == self.kind:
            return self.pk
        return getattr(self, f"{level}_id")

    def ancestor_ids(self) -> list[int]:
        """Ids from the county down to this place, in order."""
        return [pid for level in LEVELS if (pid := self.ancestor_id(level))]

    def ancestors(self) -> list[Place]:
        ids = self.ancestor_ids()[:-1]
        by_id = {p.pk: p for p in Place.objects.filter(pk__in=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def descendants(self) -> models.QuerySet[Place]:
        """Every place beneath this one (not itself), one indexed filter."""
        return Place.objects.filter(**{self.kind: self}).exclude(pk=self.pk)

    def scope_q(self, prefix: str = "") -> models.Q:
        """A Q for rows of a :class:`PlaceScoped` model (or places) at or under this place."""
        return models.Q(**{f"{prefix}{self.kind}_id": self.pk})

    def copy_ancestors_from(self, parent: Place) -> None:
        for level in LEVELS:
            setattr(self, f"{level}_id", parent.ancestor_id(level) if parent else None)

    def full_name(self) -> str:
        return " / ".join(p.name for p in [*self.ancestors(), self])


class HouseholdType(models.TextChoices):
    ORDINARY = "ordinary", _("一般户")
    PARTY = "party", _("党员户")
    FLOATING = "floating", _("流动户")
    ELDERLY = "elderly", _("老龄户")


class Household(models.Model):
    """一户一档: the record of a household, which is itself a place of kind ``household``."""

    place = models.OneToOneField(Place, on_delete=models.PROTECT, primary_key=True,
                                 related_name="household_record", verbose_name=_("户"))
    county = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+",
                               verbose_name=_("县/区"))
    household_type = models.CharField(_("户类型"), max_length=16, choices=HouseholdType.choices,
                                      default=HouseholdType.ORDINARY)
    address = models.CharField(_("门牌地址"), max_length=200, blank=True)
    card_code = models.CharField(_("积分卡号"), max_length=32, unique=True,
                                 help_text=_("户的卡号或二维码编码，用于积分兑换"))
    registered_at = models.DateField(_("建档日期"), null=True, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "people"
    scope_prefix = "place__"

    class Meta:
        verbose_name = _("户档案")
        verbose_name_plural = _("户档案")

    def __str__(self) -> str:
        return self.address or self.place.name


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Relation(models.TextChoices):
    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙子女")
    SIBLING = "sibling", _("兄弟姐妹")
    OTHER = "other", _("其他")


class SpecialGroup(models.TextChoices):
    LONELY_ELDERLY = "lonely_elderly", _("孤寡老人")
    LEFT_BEHIND_CHILD = "left_behind_child", _("留守儿童")
    DISABLED = "disabled", _("残疾人")
    LOW_INCOME = "low_income", _("低保户")
    VETERAN = "veteran", _("退役军人")
    SERIOUS_ILLNESS = "serious_illness", _("大病患者")


class Person(PlaceScoped):
    """A resident or a cadre. ``place`` is the household for residents."""

    name = models.CharField(_("姓名"), max_length=60)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = models.CharField(_("身份证号"), max_length=18, null=True, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    relation = models.CharField(_("与户主关系"), max_length=16, choices=Relation.choices,
                                blank=True)
    is_party_member = models.BooleanField(_("党员"), default=False)
    special_groups = models.JSONField(_("特殊群体"), default=list, blank=True)
    is_active = models.BooleanField(_("在册"), default=True)
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "people"

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["county", "id_number"], name="person_id_unique",
                                    condition=models.Q(id_number__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def public_name(self) -> str:
        return mask_name(self.name)

    def special_group_labels(self) -> list[str]:
        labels = dict(SpecialGroup.choices)
        return [str(labels.get(code, code)) for code in self.special_groups]


class OrganisationKind(models.TextChoices):
    DEPARTMENT = "department", _("职能部门")
    RESIDENT_UNIT = "resident_unit", _("驻区单位")
    PROPERTY_COMPANY = "property_company", _("物业公司")
    SOCIAL_ORG = "social_org", _("社会组织")
    OTHER = "other", _("其他")


class Organisation(PlaceScoped):
    """A department (消防, 供电, 司法所 ...), a stationed unit, a property company ..."""

    kind = models.CharField(_("类别"), max_length=20, choices=OrganisationKind.choices)
    name = models.CharField(_("名称"), max_length=120)
    category = models.CharField(_("职能"), max_length=40, blank=True,
                                help_text=_("如 消防、供电、人社、司法所、派出所"))
    contact_name = models.CharField(_("联系人"), max_length=60, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictQuerySet.as_manager()
    permission_area = "organisations"

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
