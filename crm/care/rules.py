"""The care-message triggers of seed 001 (温馨速递) with their default rules.

Template texts are the seed's, with its blanks turned into named placeholders:
{公司} replaces the seed's “XXX” signature, {楼盘} the project, and so on. Every rule can
be changed per project (CareRule rows); these are the defaults a new project starts with.

Purposes decide consent (工信部令第31号, DESIGN 3.7): birthday and festival greetings are
member care, which gateways classify as promotional (推广短信): they need care consent and
end with the opt-out line. Milestone notices about the customer's own purchase are
notifications.

Approval follows seed 001: construction progress and festival greetings are drafted and go
to the general-affairs group (发前须征求综合组意见); show flats, events and bad weather go
out as staff compose them, unless an administrator sets ``needs_approval`` on the rule.

Catch-up: a text that says "today" cannot go a day late, so the family-birthday and
anniversary texts do not say it; greetings bound to their day (festivals, bad weather's
"明日") and construction progress (drafted for its Thursday) have no catch-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from django.db import models


class Trigger(models.TextChoices):
    BIRTHDAY = "birthday", "生日祝福"
    FAMILY_BIRTHDAY = "family_birthday", "家人生日祝福"
    SUBSCRIPTION = "subscription", "认购祝贺"
    SIGNING_REMINDER = "signing_reminder", "签约提醒"
    CONSTRUCTION = "construction", "工程进度"
    SHOW_FLAT_OPEN = "show_flat_open", "样板间开放"
    SHOW_FLAT_CLOSE = "show_flat_close", "样板间关闭"
    EVENT = "event", "活动通知"
    SPRING_FESTIVAL = "spring_festival", "春节问候"
    LANTERN_FESTIVAL = "lantern_festival", "元宵节问候"
    LABOUR_DAY = "labour_day", "五一问候"
    MID_AUTUMN = "mid_autumn", "中秋节问候"
    NATIONAL_DAY = "national_day", "国庆节问候"
    CHRISTMAS = "christmas", "圣诞节问候"
    NEW_YEAR = "new_year", "元旦问候"
    BAD_WEATHER = "bad_weather", "恶劣天气提醒"
    FULL_PAYMENT = "full_payment", "全款到账告知"
    FILING = "filing", "合同备案告知"
    MOVE_IN = "move_in", "入住祝贺"
    ANNIVERSARY = "anniversary", "购房周年问候"
    # Notices about the complainant's own complaint (issue 11; queued by crm.complaints
    # through crm.care.services.queue_notice, never by a planner of this app).
    COMPLAINT_ACCEPTED = "complaint_accepted", "投诉受理"
    COMPLAINT_PROGRESS = "complaint_progress", "投诉进度"
    COMPLAINT_REPLY = "complaint_reply", "投诉回复"
    COMPLAINT_SURVEY = "complaint_survey", "满意度回访"


class Purpose(models.TextChoices):
    NOTIFICATION = "notification", "服务通知"
    CARE = "care", "关怀问候"
    MARKETING = "marketing", "营销推广"


class Audience(models.TextChoices):
    CUSTOMER = "customer", "该客户"
    OWNERS = "owners", "成交客户（业主）"
    SUBSCRIBED_NOT_MOVED_IN = "subscribed_not_moved_in", "已认购未入住客户"
    SUBSCRIBED_AND_SIGNED = "subscribed_and_signed", "已认购、签约客户"
    INTERESTED_AND_OWNERS = "interested_and_owners", "意向客户和业主"
    PROJECT = "project", "本楼盘全部客户"


FESTIVALS = (
    Trigger.SPRING_FESTIVAL,
    Trigger.LANTERN_FESTIVAL,
    Trigger.LABOUR_DAY,
    Trigger.MID_AUTUMN,
    Trigger.NATIONAL_DAY,
    Trigger.CHRISTMAS,
    Trigger.NEW_YEAR,
)
# Sent to one complainant about their own complaint: service notifications (not marketing),
# which may go to a contact who is not a customer (OutboundMessage.contact_mobile).
COMPLAINT_NOTICES = (
    Trigger.COMPLAINT_ACCEPTED,
    Trigger.COMPLAINT_PROGRESS,
    Trigger.COMPLAINT_REPLY,
    Trigger.COMPLAINT_SURVEY,
)
BROADCASTS = (Trigger.SHOW_FLAT_OPEN, Trigger.SHOW_FLAT_CLOSE, Trigger.EVENT, Trigger.BAD_WEATHER)


@dataclass(frozen=True)
class RuleDefault:
    template: str
    purpose: Purpose
    audience: Audience
    window_start: time
    window_end: time
    offset_days: int = 0
    needs_approval: bool = False
    when: str = ""  # the seed's timing, shown to administrators
    # A message that missed its window (entered late, or the server was down) goes out once
    # in the next allowed window up to this many days after the day it was planned for;
    # past that it expires. Working days for a rule sent on working days only.
    catch_up_days: int = 0
    working_days_only: bool = False


T = Trigger
TEN, HALF_PAST = time(10, 0), time(10, 30)

DEFAULT_RULES: dict[Trigger, RuleDefault] = {
    T.BIRTHDAY: RuleDefault(
        "温馨速递 亲爱的客户您好！祝您生日快乐，工作顺利，万事如意。{公司}敬上。",
        Purpose.CARE,
        Audience.OWNERS,
        TEN,
        HALF_PAST,
        when="生日当天 10:00-10:30",
        catch_up_days=1,
    ),
    T.FAMILY_BIRTHDAY: RuleDefault(
        "温馨速递 亲爱的客户您好！{公司}祝您的家人{家人}生日快乐，阖家幸福！{公司}敬上。",
        Purpose.CARE,
        Audience.OWNERS,
        TEN,
        HALF_PAST,
        when="家人生日当天 10:00-10:30（客户同意时）",
        catch_up_days=1,
    ),
    T.SUBSCRIPTION: RuleDefault(
        "温馨速递 亲爱的业主您好，恭喜您成功认购{楼盘}，感谢您对我们的信任与支持，我们会一如既往为您服务。{公司}敬上。",
        Purpose.CARE,
        Audience.CUSTOMER,
        TEN,
        HALF_PAST,
        offset_days=1,
        when="认购次日 10:00-10:30（上一工作日认购的客户）",
        catch_up_days=3,
        working_days_only=True,
    ),
    T.SIGNING_REMINDER: RuleDefault(
        "温馨速递 亲爱的业主您好！您应于{签约日期}办理房屋签约手续，为了您能快捷顺利的办理各项业务，"
        "请您提前和您的销售代表预约并备齐相关资料。顺祝工作愉快！{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        time(16, 0),
        time(17, 0),
        offset_days=5,
        when="认购后第5天 16:00，仍未签约时",
        catch_up_days=1,
    ),
    T.CONSTRUCTION: RuleDefault(
        "温馨速递 亲爱的客户您好！您的房屋已{进度}，请您持续关注。{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.SUBSCRIBED_NOT_MOVED_IN,
        TEN,
        time(11, 0),
        needs_approval=True,
        when="每两周一次（单周周四），前一工作日编写并报综合组审批",
    ),
    T.SHOW_FLAT_OPEN: RuleDefault(
        "温馨速递 尊敬的客户您好！{楼盘}{户型}户型样板间（{面积}平米）定于{日期}起开放，敬请留意。{公司}敬上。",
        Purpose.MARKETING,
        Audience.INTERESTED_AND_OWNERS,
        TEN,
        time(18, 0),
        when="公布的开放日期前",
        catch_up_days=1,
    ),
    T.SHOW_FLAT_CLOSE: RuleDefault(
        "温馨速递 尊敬的客户您好！由于新样板间施工需要，{楼盘}{户型}户型样板间（{面积}平米）定于{日期}起关闭，敬请留意。{公司}敬上。",
        Purpose.MARKETING,
        Audience.INTERESTED_AND_OWNERS,
        TEN,
        time(18, 0),
        when="公布的关闭日期前",
        catch_up_days=1,
    ),
    T.EVENT: RuleDefault(
        "温馨速递 亲爱的业主您好！{公司}举办“{活动}”邀请您于{时间}光临参加。{公司}敬上。",
        Purpose.MARKETING,
        Audience.OWNERS,
        TEN,
        HALF_PAST,
        offset_days=-3,
        when="活动前三天 10:00-10:30",
        catch_up_days=2,  # at the latest the day before the event
    ),
    T.SPRING_FESTIVAL: RuleDefault(
        "温馨速递 亲爱的业主您好！提前恭祝您新春佳节愉快！万事如意！{公司}全体同仁祈祝您及家人永远健康、快乐、幸福！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="公司春节放假前一个工作日 10:00 后",
    ),
    T.LANTERN_FESTIVAL: RuleDefault(
        "温馨速递 尊敬的客户，感谢关注{公司}！诚挚的祝福，满载着浓浓的喜气，恭祝元宵节愉快！愿您步步高升，万事如意！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="元宵节当天 10:00 后",
    ),
    T.LABOUR_DAY: RuleDefault(
        "温馨速递 亲爱的业主您好！悠扬的欢乐歌声，展开温馨的世界，带来一片欢乐与喜悦，此时{公司}全体同仁祈祝您心想事成！五一节快乐！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="五一当天 10:00 后",
    ),
    T.MID_AUTUMN: RuleDefault(
        "温馨速递 亲爱的业主您好！祝福您和家人中秋佳节快乐，月圆人圆事事圆满。{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="中秋节当天 10:00 后",
    ),
    T.NATIONAL_DAY: RuleDefault(
        "温馨速递 亲爱的业主您好！铿锵的锣鼓，敲出了华夏儿女的激情与喜悦；飘扬的彩旗，道出了炎黄子孙的欢欣与沸腾，"
        "{公司}全体同仁祈祝您及家人国庆节快乐！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="国庆节当天 10:00 后",
    ),
    T.CHRISTMAS: RuleDefault(
        "温馨速递 亲爱的业主您好！岁月如诗，句句悠扬，情谊如歌，余音绕梁，温馨季节，真情满怀，祝您及家人圣诞快乐！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="圣诞节当天 10:00 后",
    ),
    T.NEW_YEAR: RuleDefault(
        "温馨速递 亲爱的业主您好！感谢一年来您对我们工作的支持，{公司}全体同仁恭祝您元旦快乐！幸福吉祥！{公司}敬上。",
        Purpose.CARE,
        Audience.SUBSCRIBED_AND_SIGNED,
        TEN,
        time(12, 0),
        needs_approval=True,
        when="元旦当天 10:00 后",
    ),
    T.BAD_WEATHER: RuleDefault(
        "温馨速递 亲爱的业主您好！明日由于{原因}导致天气突变，请您注意增减衣服。并祝您和您的家人身体健康。{公司}敬上。",
        Purpose.CARE,
        Audience.PROJECT,
        time(17, 0),
        time(20, 0),
        when="恶劣天气前一天傍晚（临时编发）",
    ),
    T.FULL_PAYMENT: RuleDefault(
        "温馨速递 亲爱的业主您好，您的房款已全部到达我司帐户，您可以随时领取房款发票、商品房买卖合同复印件、交付使用通知书。"
        "领取时间请您提前和销售代表预约。顺祝万事如意！{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        TEN,
        time(11, 0),
        offset_days=1,
        when="全款到账次日 10:00",
        catch_up_days=7,
    ),
    T.FILING: RuleDefault(
        "温馨速递 尊敬的客户您好！您的合同已经完成备案过程，您随时可以领取商品房买卖合同复印件，领取时间请您提前和销售代表预约。{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        TEN,
        time(11, 0),
        offset_days=1,
        when="备案完成次日 10:00",
        catch_up_days=7,
    ),
    T.MOVE_IN: RuleDefault(
        "温馨速递 亲爱的业主您好！恭喜您乔迁新居，加入{公司}的大家庭。入住以后您对我们的服务不满意或者有好的建议，"
        "请随时致电客户关系中心（{客服电话}）或物业管理中心（{物业电话}）。恭祝全家幸福！{公司}敬上。",
        Purpose.CARE,
        Audience.CUSTOMER,
        TEN,
        time(11, 0),
        when="集中入住结束后第3天 10:00；零星入住第7天 10:00",
        catch_up_days=7,
    ),
    T.ANNIVERSARY: RuleDefault(
        "温馨速递 亲爱的业主您好！{年数}年前的这个时候，您成为{楼盘}的业主，感谢您一路相伴。{公司}敬上。",
        Purpose.CARE,
        Audience.OWNERS,
        TEN,
        HALF_PAST,
        when="每年签约纪念日 10:00-10:30",
        catch_up_days=3,
    ),
}

# Complaint notices (issue 11, seeds 001 and 002). Service notifications about the
# complainant's own complaint: no care/marketing consent needed, only an opt-out stops them.
# Windows 08:00–20:00 keep them out of the quiet hours; one registered at night is told the
# next morning (catch-up 1 day). The reply is seed 001's "第二日对客户所需内容以短信方式回复，
# 并表示感谢客户的意见": the day after registration, 10:00–11:00.
COMPLAINT_DAY = (time(8, 0), time(20, 0))
DEFAULT_RULES |= {
    T.COMPLAINT_ACCEPTED: RuleDefault(
        "温馨速递 尊敬的{投诉人}您好！您反映的问题已受理，投诉编号{投诉编号}，我们将在{处理期限}前处理完毕并及时告知您。{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        *COMPLAINT_DAY,
        when="投诉登记（分派）后 08:00-20:00；夜间登记的次日 08:00 后发送",
        catch_up_days=1,
    ),
    T.COMPLAINT_PROGRESS: RuleDefault(
        "温馨速递 尊敬的{投诉人}您好！您的投诉（编号{投诉编号}）处理进展：{进展}。{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        *COMPLAINT_DAY,
        when="责任人记录进展并选择告知客户时，08:00-20:00",
        catch_up_days=1,
    ),
    T.COMPLAINT_REPLY: RuleDefault(
        "温馨速递 尊敬的{投诉人}您好！您的投诉（编号{投诉编号}）{回复}感谢您对我们工作的宝贵意见！{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        TEN,
        time(11, 0),
        offset_days=1,
        when="登记次日 10:00-11:00（次日短信回复并致谢）；处理完成时 08:00-20:00",
        catch_up_days=2,
    ),
    T.COMPLAINT_SURVEY: RuleDefault(
        "温馨速递 尊敬的{投诉人}您好！您的投诉（编号{投诉编号}）已处理完毕，请点击链接为我们的处理打分：{评价链接}（{有效天数}天内有效）。{公司}敬上。",
        Purpose.NOTIFICATION,
        Audience.CUSTOMER,
        *COMPLAINT_DAY,
        when="投诉处理完成后 08:00-20:00",
        catch_up_days=1,
    ),
}

OPT_OUT_LINE = "拒收请回复R"
