"""Who may do what in 议事, by role (the role table; ``apps.py`` registers it).

- Residents propose topics for their own village and second (附议) topics there, once each.
  They read agendas and results on the public page; they do not see the staff pages.
- Grid workers see their village's meetings and propose topics (what they collect on their
  rounds) but neither run a meeting nor record its votes.
- Village cadres put topics on the agenda, freeze it, run the meeting (sign-in, discussion,
  votes, resolutions) and download the minutes.
- Turning a resolution into a matter assigns work: it needs the roles that may assign matters.
- Members, schedules and meetings are managed by the village secretary and above; a locality's
  own meeting kinds by the county (``meetings.manage`` at the county).
"""

from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.roles import Role as R

STAFF = (R.GRID_WORKER, R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
         R.COUNTY_OFFICE, R.SUPERVISOR, R.ADMINISTRATOR)
RUNNERS = (R.VILLAGE_CADRE, R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY,
           R.COUNTY_OFFICE, R.ADMINISTRATOR)
MANAGERS = (R.VILLAGE_SECRETARY, R.TOWN_STAFF, R.TOWN_SECRETARY, R.COUNTY_OFFICE,
            R.ADMINISTRATOR)

PERMISSIONS = [
    # code, label, roles
    ("meetings.view", _("查看会议与议题"), STAFF),
    ("meetings.propose", _("提出议题"), (R.RESIDENT, R.GRID_WORKER, *RUNNERS)),
    ("meetings.second", _("附议议题"), (R.RESIDENT,)),
    ("meetings.agenda", _("确定会议议程"), RUNNERS),
    ("meetings.record", _("主持会议：签到、讨论与决议"), RUNNERS),
    ("meetings.vote", _("记录表决结果"), RUNNERS),
    ("meetings.adopt", _("把决议转为事项交办"), MANAGERS),
    ("meetings.manage", _("管理会议类型、议事成员与例会"), MANAGERS),
    ("meetings.disclose", _("三务公开与四议两公开"), RUNNERS),
]
