"""The command door's acts on funds (信托制物业): opening one, lines in and out, the second
keyholder's approval, withdrawing an expense, posting a period's statement.

Who may act is asked of the policy with the fund's keyholders as the fund records them (member
ids with their enrolments), never as the caller says; the caller's own enrolment goes to the
fund too, which checks it again, and refuses the keyholder who initiated an expense as its
approver.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.service import RPCError

from govflow.application import commands as c
from govflow.application.fund_views import FundView
from govflow.domain.errors import AlreadyExistsError
from govflow.domain.policy import Action, Principal, authorize
from govflow.orchestration.door_base import DoorBase, Handler, logger
from govflow.orchestration.fund_client import FundClient


class FundActs(DoorBase):
    def fund_handlers(self) -> dict[type[c.Command], Handler]:
        return {
            c.OpenFund: self._open_fund,
            c.RecordFundIncome: self._record_fund_income,
            c.InitiateFundExpense: self._initiate_fund_expense,
            c.ApproveFundExpense: self._approve_fund_expense,
            c.WithdrawFundExpense: self._withdraw_fund_expense,
            c.PostFundStatement: self._post_fund_statement,
            c.ObjectToFundStatement: self._object_to_fund_statement,
            c.AnswerFundStatementObjection: self._answer_fund_statement_objection,
        }

    async def _keyholder(self, who: Principal, action: Action, cmd: c.ItemCommand) -> str:
        keyholders = await asyncio.to_thread(self.app.fund_keyholders, cmd.council, cmd.number)
        return authorize(who, action, cmd.council, keyholders=keyholders)

    async def _open_fund(self, cmd: c.OpenFund, who: Principal) -> FundView:
        actor = authorize(who, Action.OPEN_FUND, cmd.council)

        def open_fund() -> FundView:
            self.app.open_fund(
                cmd.council,
                cmd.number,
                cmd.name,
                cmd.kind,
                cmd.keyholders,
                schedule=cmd.schedule,
                display_days=cmd.display_days,
                actor=actor,
            )
            return self.app.get_fund(cmd.council, cmd.number)

        try:
            view = await asyncio.to_thread(open_fund)
        except AlreadyExistsError:  # opened before: its workflow may not have started then
            await self._start_statements(cmd.council, cmd.number)
            raise
        await self._start_statements(cmd.council, cmd.number)
        return view

    async def _start_statements(self, council: str, number: int) -> None:
        """Start the fund's statements workflow, where a workflow service is connected. If it
        cannot be reached the fund is open all the same, and its statements are posted by
        hand (``PostFundStatement``)."""
        if self.issues is None:
            return
        funds = FundClient(self.issues.client, task_queue=self.issues.task_queue)
        try:
            await funds.start(council, number)
        except RPCError as error:
            logger.warning(
                "fund_statements_not_started",
                council=council,
                fund=number,
                status=error.status.name if error.status else "unknown",
            )

    def _line(self, cmd: c.FundLine) -> dict[str, Any]:
        return {
            "counterparty": cmd.counterparty,
            "category": cmd.category,
            "on": cmd.on,
            "evidence_sha256": cmd.evidence_sha256,
            "reference": cmd.reference,
            "corrects": cmd.corrects,
        }

    async def _record_fund_income(self, cmd: c.RecordFundIncome, who: Principal) -> int:
        actor = await self._keyholder(who, Action.KEEP_FUND, cmd)
        return await asyncio.to_thread(
            lambda: self.app.record_fund_income(
                cmd.council,
                cmd.number,
                cmd.amount,
                actor=actor,
                enrolment=who.enrolment,
                **self._line(cmd),
            )
        )

    async def _initiate_fund_expense(self, cmd: c.InitiateFundExpense, who: Principal) -> int:
        """One keyholder initiates; nothing moves until another keyholder approves."""
        actor = await self._keyholder(who, Action.KEEP_FUND, cmd)
        return await asyncio.to_thread(
            lambda: self.app.initiate_fund_expense(
                cmd.council,
                cmd.number,
                cmd.amount,
                spending_number=cmd.spending_number,
                actor=actor,
                enrolment=who.enrolment,
                **self._line(cmd),
            )
        )

    async def _approve_fund_expense(self, cmd: c.ApproveFundExpense, who: Principal) -> int:
        """A different keyholder approves with their own credentials: the money moves."""
        actor = await self._keyholder(who, Action.APPROVE_FUND_EXPENSE, cmd)
        return await asyncio.to_thread(
            lambda: self.app.approve_fund_expense(
                cmd.council, cmd.number, cmd.expense_no, actor=actor, enrolment=who.enrolment
            )
        )

    async def _withdraw_fund_expense(self, cmd: c.WithdrawFundExpense, who: Principal) -> bool:
        actor = await self._keyholder(who, Action.KEEP_FUND, cmd)
        await asyncio.to_thread(
            lambda: self.app.withdraw_fund_expense(
                cmd.council,
                cmd.number,
                cmd.expense_no,
                cmd.reason,
                actor=actor,
                enrolment=who.enrolment,
            )
        )
        return True

    async def _post_fund_statement(self, cmd: c.PostFundStatement, who: Principal) -> str:
        actor = await self._keyholder(who, Action.POST_FUND_STATEMENT, cmd)
        notice = await asyncio.to_thread(
            lambda: self.app.post_fund_statement(cmd.council, cmd.number, cmd.period, actor=actor)
        )
        return str(notice)

    async def _object_to_fund_statement(self, cmd: c.ObjectToFundStatement, who: Principal) -> int:
        actor = authorize(who, Action.FILE_OBJECTION, cmd.council)
        return await asyncio.to_thread(
            lambda: self.app.object_to_fund_statement(
                cmd.council, cmd.number, cmd.period, cmd.text, actor=actor
            )
        )

    async def _answer_fund_statement_objection(
        self, cmd: c.AnswerFundStatementObjection, who: Principal
    ) -> bool:
        """Who posts a fund's statements answers objections to them."""
        actor = await self._keyholder(who, Action.POST_FUND_STATEMENT, cmd)
        await asyncio.to_thread(
            lambda: self.app.answer_fund_statement_objection(
                cmd.council,
                cmd.number,
                cmd.period,
                cmd.objection_no,
                cmd.reply,
                upheld=cmd.upheld,
                actor=actor,
            )
        )
        return cmd.upheld
