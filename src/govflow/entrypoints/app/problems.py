"""A refused form, told in the page's language: each error code in plain Chinese and English.

A form handler catches the :class:`~govflow.domain.errors.GovflowError` the door raised and
shows :func:`problem_text` on the page it re-renders (the code stays in the page, for support).
"""

from __future__ import annotations

from govflow.domain.errors import GovflowError

PROBLEMS: dict[str, tuple[str, str]] = {
    "input.invalid": ("填写的内容不正确，请检查后重试。", "Something you entered is not valid."),
    "money.invalid_amount": (
        "金额格式不正确，请填写元，最多两位小数，例如 12000.00。",
        "The amount is not valid: yuan with at most two decimals, e.g. 12000.00.",
    ),
    "not_found": ("找不到该记录。", "That record was not found."),
    "already_exists": ("该记录已存在。", "That already exists."),
    "rule.violation": ("不符合议事规则。", "The rules of procedure do not allow this."),
    "council.unknown_member": ("名册中没有此成员。", "No such member on the roll."),
    "grid.unknown": ("本会没有这个网格。", "The council has no such grid."),
    "grid.retired": (
        "该网格已撤销，不能再分派议题。",
        "That grid is retired: nothing is routed to it.",
    ),
    "grid.not_routed": (
        "议题尚未分派到网格，请先分派。",
        "The item is not routed yet: route it first.",
    ),
    "grid.already_routed": (
        "议题已分派到另一个网格，请改派并说明理由。",
        "The item is at another grid's station: re-route it, with a reason.",
    ),
    "issue.stage_out_of_order": (
        "议题当前不在可以进行此操作的阶段。",
        "The item is not at a stage where this can be done.",
    ),
    "issue.closed": ("议题已结束。", "The item is closed."),
    "ballot.voting_not_open": ("表决尚未开始或已经结束。", "Voting is not open."),
    "ballot.not_on_roll": (
        "您不在本次表决的名册上。",
        "You are not on the roll of this vote.",
    ),
    "ballot.double_vote": ("您已经投过票了，每人只能投一次。", "You have already voted."),
    "ballot.secret_vote": (
        "无记名投票不接受委托投票或纸质选票。",
        "A secret vote takes no proxies and no paper ballots.",
    ),
    "notice.objection_window_closed": (
        "异议期已过，不能再提出异议。",
        "The objection window has closed.",
    ),
    "notice.invalid_state": ("公示当前状态不允许此操作。", "The notice does not allow this now."),
    "meeting.quorum_not_met": ("会议未达到法定人数。", "The meeting did not reach its quorum."),
    "meeting.invalid_state": ("会议当前状态不允许此操作。", "The meeting does not allow this now."),
    "spending.same_officer": (
        "拨付须由另一名经办人批准，申请人不能自己批准。",
        "Another officer must approve: not the one who requested it.",
    ),
    "spending.over_disbursement": (
        "拨付金额超过了批准金额。",
        "The disbursement exceeds the approved amount.",
    ),
    "fund.same_keyholder": (
        "支出须由另一名密钥持有人批准，发起人不能自己批准。",
        "Another keyholder must approve: not the one who initiated it.",
    ),
    "fund.overdrawn": ("账户余额不足以支付这笔支出。", "The fund's balance does not cover it."),
    "fund.spending_required": (
        "超过审议限额的支出须对应一项已批准、决议已公开且金额足够的支出申请。",
        "Over the threshold an expense needs an approved, disclosed spending that covers it.",
    ),
    "fund.invalid_state": (
        "资金账户当前不能进行此操作。",
        "The fund does not allow this now.",
    ),
    "fund.bank_statement_invalid": (
        "银行流水文件格式不正确。",
        "The bank statement is not valid.",
    ),
    "spending.invalid_state": (
        "支出当前状态不允许此操作。",
        "The spending does not allow this now.",
    ),
    "workflow.unavailable": (
        "流程服务暂时不可用，请稍后再试。",
        "The workflow service is unavailable; try again shortly.",
    ),
    "workflow.timeout": (
        "流程服务响应超时，操作可能已经完成，请刷新页面查看。",
        "The workflow service timed out; the action may have happened: reload to check.",
    ),
    "workflow.action_refused": ("流程拒绝了此操作。", "The process refused this action."),
    "concurrency.conflict": (
        "有人同时修改了此记录，请刷新后重试。",
        "Someone changed this at the same time; reload and try again.",
    ),
    "auth.unauthenticated": ("请先登录。", "Please sign in."),
    "auth.forbidden": ("您没有权限进行此操作。", "You may not do this."),
    "csrf.invalid": (
        "表单已过期，请重新打开页面后再提交。",
        "The form has expired: open the page again and resubmit.",
    ),
    "session.required": (
        "请先登录：使用书记员发给您的登录链接或二维码。",
        "Please sign in with the link or QR code your clerk gave you.",
    ),
    "invitation.invalid": (
        "这不是有效的登录链接，请核对链接或向书记员索取新的链接。",
        "This is not a valid sign-in link: check it, or ask your clerk for a new one.",
    ),
    "invitation.used": (
        "此登录链接已经使用过，每个链接只能用一次。请向书记员索取新的链接。",
        "This sign-in link was used already (each works once): ask your clerk for a new one.",
    ),
    "invitation.expired": (
        "此登录链接已过期，请向书记员索取新的链接。",
        "This sign-in link has expired: ask your clerk for a new one.",
    ),
    "invitation.revoked": (
        "此登录链接已被书记员收回，请向书记员索取新的链接。",
        "The clerk withdrew this sign-in link: ask your clerk for a new one.",
    ),
    "invitation.member_gone": (
        "此登录链接所属的成员已不在名册上，请向书记员核实。",
        "This sign-in link's member is no longer on the roll: ask your clerk.",
    ),
    "oidc.invalid": (
        "统一身份认证登录未能完成，未登录。请重新登录，或使用书记员发给您的登录链接。",
        "Signing in with the city's identity provider did not complete: try again, or use "
        "your clerk's sign-in link.",
    ),
    "meeting.not_on_roll": (
        "委托出席的双方都须是本次会议所属组织的成员。",
        "Both the member and their proxy must be members of the meeting's body.",
    ),
    "oidc.not_on_roll": (
        "统一身份认证确认了您的身份，但您不在所选社区的名册上。请选择正确的社区，或向书记员核实。",
        "The identity provider knows you, but you are not on the chosen council's roll: "
        "choose the right council, or ask your clerk.",
    ),
    "oidc.unavailable": (
        "统一身份认证服务暂时无法访问，请稍后再试，或使用书记员发给您的登录链接。",
        "The city's identity provider cannot be reached: try later, or use your clerk's "
        "sign-in link.",
    ),
    "area.invalid": (
        "面积格式不正确：请填平方米，最多两位小数，例如 89.50。",
        "The area is not valid: square metres with at most two decimals, e.g. 89.50.",
    ),
    "money.unsupported_currency": ("只接受人民币金额。", "Only amounts in yuan are accepted."),
    "csv.invalid": (
        "无法读取此文件，未导入任何内容：请使用页面上说明的列名，保存为 CSV 文件。",
        "The file could not be read and nothing was imported: use the columns shown, as CSV.",
    ),
    "input.too_large": ("文件太大了。", "The file is too large."),
    "spending.review_required": (
        "超过限额的支出须先经党员大会审议通过。",
        "Spending over the threshold needs the party members' assembly's review first.",
    ),
    "spending.disclosure_missing": (
        "须先公开决议，才能拨付。",
        "The resolution must be disclosed before money is paid.",
    ),
    "spending.reapproval_required": (
        "实际费用超过批准金额，须重新批准。",
        "The actual cost exceeds the approval: it must be approved again.",
    ),
    "voting.empty_roll": ("该组织的名册上没有人。", "Nobody is on that body's roll."),
    "procedure.invalid": ("找不到该议事规则。", "No such procedure."),
    "consultation.signature_required": (
        "本次表决以书面征求意见方式进行：请上传签字的征求意见表提交书面意见。",
        "This vote is a written consultation: reply with the scan of your signed form.",
    ),
    "consultation.extension_over_cap": (
        "延长的天数超过了议事规则允许的上限。",
        "The extensions would exceed the most the procedure allows.",
    ),
    "issue.barred": (
        "同一事项表决未通过后，在规定期限内不得再次提出。",
        "The same matter failed a vote: it may not be proposed again before its period ends.",
    ),
}


def problem_text(error: GovflowError, lang: str) -> str:
    """What went wrong, for the person who tried: the code's sentence (the error's own message
    added in English, where it says more)."""
    zh, en = PROBLEMS.get(error.code, ("操作未能完成。", "This could not be done."))
    return zh if lang == "zh" else f"{en} ({error.message})"
