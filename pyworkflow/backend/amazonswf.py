"""AmazonSWFBackend: the Backend contract mapped onto Amazon Simple Workflow.

SWF applies the rules itself; this module only translates: our calls to SWF
calls (:mod:`.swf.decisions`), SWF's history to our events
(:mod:`.swf.history`), SWF's listings to processes (:mod:`.swf.listing`).
boto3 is imported when a backend is made, never when this module is.

Process ids: a caller's id is the SWF workflowId; SWF tells the runs of one id
apart by its runId, which tasks carry in ``context['run_id']`` and
``PublishedEvent.run_id`` reports. ``process_by_id`` gives the open run, else
the newest closed one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any
from uuid import uuid4

from .._ids import as_id
from ..activity import (
    ActivityCanceled,
    ActivityCompleted,
    ActivityExecution,
    ActivityFailed,
    ActivityResult,
    ActivityTimedOut,
)
from ..decision import Decision, RecordMarker, Timer
from ..defaults import Defaults
from ..engine import check_decisions, checked_result, decision_backoff
from ..events import DecisionFailedEvent
from ..exceptions import (
    ProcessAlreadyOpenException,
    ProcessClosedException,
    UnknownActivityException,
    UnknownDecisionException,
    UnknownProcessException,
    UnknownWorkflowException,
)
from ..observe import PublishedEvent
from ..process import Process, ProcessStatus
from ..task import ActivityTask, DecisionTask
from .base import Backend, TaskList
from .swf import limits
from .swf.client import error_code, make_client
from .swf.decisions import encode, encode_all
from .swf.history import (
    CANCEL_REASON,
    DECISION_FAILED_MARKER,
    RETRY_TIMER_PREFIX,
    TIMED_OUT_REASON,
    Decoded,
    decode_history,
)
from .swf.listing import executions, listed_process, matches, wanted_statuses
from .swf.polling import Arrivals, LongPoller

ALREADY_EXISTS = ("TypeAlreadyExistsFault", "DomainAlreadyExistsFault")
UNKNOWN = "UnknownResourceFault"
MAX_TAGS = 5


class AmazonSWFBackend(Backend):
    """``AmazonSWFBackend(KEY, SECRET, region='us-east-1', domain='foo.bar')``.

    Keys left out come from boto3's standard credential chain; ``session`` or
    ``client`` may be given instead. ``endpoint_url`` points at an SWF-compatible
    server. ``register_domain`` registers the domain when it does not exist.
    Every workflow and activity type is registered at ``version``.
    """

    def __init__(
        self,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        region: str = "us-east-1",
        domain: str = "default",
        endpoint_url: str | None = None,
        session: Any = None,
        client: Any = None,
        version: str = "1.0",
        register_domain: bool = False,
        retention_days: int = 1,
    ) -> None:
        self.domain = limits.name(domain, "domain")
        self.version = version
        self.client = make_client(
            access_key_id, secret_access_key, region, endpoint_url, session, client
        )
        self._arrived = threading.Condition()
        self._arrivals = Arrivals()
        self._waiter = threading.local()
        self._pollers: dict[tuple[str, str, str | None], LongPoller[Any]] = {}
        self._pollers_lock = threading.Lock()
        self._published: dict[str, int] = {}
        self._published_lock = threading.Lock()
        if register_domain:
            self._ignore_existing(
                self.client.register_domain,
                name=self.domain,
                workflowExecutionRetentionPeriodInDays=str(retention_days),
            )

    # -- registration -------------------------------------------------------------------

    def _ignore_existing(self, call: Any, **request: Any) -> None:
        try:
            call(**request)
        except Exception as error:
            if error_code(error) not in ALREADY_EXISTS:
                raise

    def register_workflow(
        self,
        name: str,
        category: str = Defaults.DECISION_CATEGORY,
        timeout: float = Defaults.WORKFLOW_TIMEOUT,
        decision_timeout: float = Defaults.DECISION_TIMEOUT,
    ) -> None:
        self._ignore_existing(
            self.client.register_workflow_type,
            domain=self.domain,
            name=limits.name(name, "workflow"),
            version=self.version,
            defaultTaskStartToCloseTimeout=_seconds(decision_timeout),
            defaultExecutionStartToCloseTimeout=_seconds(timeout),
            defaultTaskList={"name": limits.name(category, "category")},
            defaultChildPolicy=Defaults.CHILD_POLICY,
        )

    def register_activity(
        self,
        name: str,
        category: str = Defaults.ACTIVITY_CATEGORY,
        scheduled_timeout: float = Defaults.ACTIVITY_SCHEDULED_TIMEOUT,
        execution_timeout: float = Defaults.ACTIVITY_EXECUTION_TIMEOUT,
        heartbeat_timeout: float = Defaults.ACTIVITY_HEARTBEAT_TIMEOUT,
    ) -> None:
        self._ignore_existing(
            self.client.register_activity_type,
            domain=self.domain,
            name=limits.name(name, "activity"),
            version=self.version,
            defaultTaskList={"name": limits.name(category, "category")},
            defaultTaskScheduleToStartTimeout=_seconds(scheduled_timeout),
            defaultTaskStartToCloseTimeout=_seconds(execution_timeout),
            defaultTaskHeartbeatTimeout=_seconds(heartbeat_timeout),
            defaultTaskScheduleToCloseTimeout="NONE",
        )

    def _version(self, name: str) -> str:
        return self.version

    # -- steering processes ---------------------------------------------------------------

    def start_process(self, process: Process) -> str:
        process_id = as_id(process.id, "process id", ValueError) or str(uuid4())
        if not all(isinstance(tag, str) for tag in process.tags):
            raise ValueError(f"tags must be strings; got {process.tags!r}")
        if len(process.tags) > MAX_TAGS:
            raise limits.SWFLimitError(
                f"tags: SWF takes at most {MAX_TAGS}; got {len(process.tags)}"
            )
        request: dict[str, Any] = {
            "domain": self.domain,
            "workflowId": limits.name(process_id, "process id"),
            "workflowType": {"name": str(process.workflow), "version": self.version},
            "input": limits.payload(process.input, "input"),
        }
        if process.tags:
            request["tagList"] = [limits.name(tag, "tags") for tag in process.tags]
        try:
            self.client.start_workflow_execution(**request)
        except Exception as error:
            code = error_code(error)
            if code == "WorkflowExecutionAlreadyStartedFault":
                raise ProcessAlreadyOpenException(
                    f"process {process_id!r} is already open"
                ) from None
            if code in (UNKNOWN, "TypeDeprecatedFault"):
                raise UnknownWorkflowException(
                    f"workflow {process.workflow!r} is not registered: {error}"
                ) from None
            raise
        return process_id

    def signal_process(self, process_id: str, signal_name: str, data: Any = None) -> None:
        self._on_process(
            process_id,
            self.client.signal_workflow_execution,
            signalName=limits.name(signal_name, "signal name"),
            input=limits.payload(data, "signal data"),
        )

    def cancel_process(self, process_id: str, details: Any = None) -> None:
        """Closes at once, which SWF can only do by terminating; the reason marks it
        as a cancel, so the history and status read back as canceled."""
        self._on_process(
            process_id,
            self.client.terminate_workflow_execution,
            reason=CANCEL_REASON,
            details=limits.failure_details(details),
        )

    def request_cancel_process(self, process_id: str, details: Any = None) -> None:
        """SWF carries no details with a cancel request: ``details`` is not kept."""
        self._on_process(process_id, self.client.request_cancel_workflow_execution)

    def terminate_process(self, process_id: str, reason: Any = None, details: Any = None) -> None:
        request: dict[str, Any] = {"details": limits.failure_details(details)}
        if reason is not None:
            request["reason"] = limits.failure_reason(reason)
        self._on_process(process_id, self.client.terminate_workflow_execution, **request)

    def _on_process(self, process_id: str, call: Any, **request: Any) -> None:
        try:
            call(domain=self.domain, workflowId=process_id, **request)
        except Exception as error:
            if error_code(error) != UNKNOWN:
                raise
            # SWF answers the same fault for a closed run: tell them apart, as the
            # other backends do, with one listing call on this failure path only.
            if any(executions(self.client, self.domain, False, workflow_id=process_id)):
                raise ProcessClosedException(f"process {process_id!r} is closed") from None
            raise UnknownProcessException(f"no process with id {process_id!r}") from None

    # -- reading processes ------------------------------------------------------------------

    def process_by_id(self, process_id: str) -> Process:
        """An open run costs one listing call, and its history is read only when
        its history or input is asked for, so a loop waiting for a process to
        close reads no history until it has. A closed run is read at once: its
        result is what the caller came for, and observers hear how it ended."""
        for open_ in (True, False):
            for info in executions(self.client, self.domain, open_, workflow_id=process_id):
                if open_:
                    return listed_process(info, self._read_run)
                process = self._read_run(process_id, info["execution"]["runId"]).process()
                # The listing has the tags even where a history's started event lacks them.
                process.tags = process.tags or list(info.get("tagList") or [])
                return process
        raise UnknownProcessException(f"no process with id {process_id!r}")

    def processes(
        self, workflow: str | None = None, tag: str | None = None, status: str | None = "open"
    ) -> list[Process]:
        statuses = wanted_statuses(status)
        found: list[Process] = []
        if ProcessStatus.OPEN in statuses:
            infos = executions(self.client, self.domain, True, workflow, self.version, tag)
            found += self._listed(infos, workflow, tag, statuses)
        closed = {s for s in statuses if s != ProcessStatus.OPEN}
        if closed:
            from .swf.listing import SWF_CLOSE_STATUS

            # A run closed with cancel_process is a termination to SWF: asking for
            # canceled runs asks for terminated ones, and their histories tell.
            if ProcessStatus.CANCELED in closed:
                closed.add(ProcessStatus.TERMINATED)
            close_status = SWF_CLOSE_STATUS[next(iter(closed))] if len(closed) == 1 else None
            infos = executions(
                self.client, self.domain, False, workflow, self.version, tag, close_status
            )
            listed = self._listed(infos, workflow, tag, tuple(closed))
            found += [process for process in listed if process.status in statuses]
        return found

    def _listed(
        self,
        infos: Iterator[dict[str, Any]],
        workflow: str | None,
        tag: str | None,
        statuses: tuple[str, ...],
    ) -> list[Process]:
        return [
            listed_process(info, self._read_run)
            for info in infos
            if matches(info, workflow, tag, statuses)
        ]

    def _read_run(self, process_id: str, run_id: str) -> Decoded:
        request = {
            "domain": self.domain,
            "execution": {"workflowId": process_id, "runId": run_id},
        }
        pages = self._pages(self.client.get_workflow_execution_history, request)
        decoded = decode_history(process_id, run_id, pages)
        self._publish_new(decoded)
        return decoded

    @staticmethod
    def _pages(
        call: Any, request: dict[str, Any], first: dict[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every event across ``nextPageToken`` pages, read back to back: a token
        lasts 60 s."""
        page = first if first is not None else call(**request)
        while True:
            yield from page.get("events", [])
            token = page.get("nextPageToken")
            if not token:
                return
            page = call(**request, nextPageToken=token)

    def _publish_new(self, decoded: Decoded) -> None:
        """Publish each event this backend has not announced before, once."""
        if not self.observers:
            return
        with self._published_lock:
            seen = self._published.get(decoded.run_id, 0)
            new = [(event_id, event) for event_id, event in decoded.events if event_id > seen]
            if not new:
                return
            self._published[decoded.run_id] = new[-1][0]
        self.publish(
            [
                PublishedEvent(decoded.process_id, decoded.run_id, str(decoded.workflow), event)
                for _, event in new
            ]
        )

    # -- tasks --------------------------------------------------------------------------------

    def _poller(self, kind: str, category: str, identity: str | None) -> LongPoller[Any]:
        key = (kind, category, identity)
        with self._pollers_lock:
            poller = self._pollers.get(key)
            if poller is None:
                poll = self._poll_decision if kind == "decision" else self._poll_activity
                poller = LongPoller(
                    lambda: poll(category, identity),
                    self._arrived,
                    f"swf-{kind}-poll-{category}",
                    self._arrivals,
                )
                self._pollers[key] = poller
            return poller

    def wait_for_work(self, timeout: float, task_list: TaskList | None = None) -> bool:
        """Wakes each waiting thread once per task brought in: an activity worker
        must not spin while a decision task sits in hand for the decision worker."""
        with self._arrived:
            seen = getattr(self._waiter, "arrivals", None)
            if seen is None:
                seen = -1 if any(poller.ready for poller in self._pollers.values()) else 0
                seen += self._arrivals.count
            news = self._arrived.wait_for(lambda: self._arrivals.count != seen, timeout)
            self._waiter.arrivals = self._arrivals.count
            return news

    def poll_activity_task(
        self,
        category: str = Defaults.ACTIVITY_CATEGORY,
        identity: str | None = None,
        activities: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> ActivityTask | None:
        """SWF hands out tasks by task list only: neither ``activities`` nor
        ``root_process`` can narrow it."""
        return self._poller("activity", category, identity).take()

    def poll_decision_task(
        self,
        category: str = Defaults.DECISION_CATEGORY,
        identity: str | None = None,
        workflows: Sequence[str] | None = None,
        root_process: str | None = None,
    ) -> DecisionTask | None:
        return self._poller("decision", category, identity).take()

    def _identity(self, identity: str | None) -> dict[str, Any]:
        return {"identity": limits.name(identity, "identity")} if identity else {}

    def _poll_activity(self, category: str, identity: str | None) -> ActivityTask | None:
        response = self.client.poll_for_activity_task(
            domain=self.domain, taskList={"name": category}, **self._identity(identity)
        )
        token = response.get("taskToken")
        if not token:
            return None
        execution = response["workflowExecution"]
        return ActivityTask(
            ActivityExecution(
                response["activityType"]["name"],
                response["activityId"],
                limits.decode(response.get("input")),
            ),
            process_id=execution["workflowId"],
            context={"token": token, "run_id": execution["runId"]},
        )

    def _poll_decision(self, category: str, identity: str | None) -> DecisionTask | None:
        request = {
            "domain": self.domain,
            "taskList": {"name": category},
            **self._identity(identity),
        }
        first = self.client.poll_for_decision_task(**request)
        token = first.get("taskToken")
        if not token:
            return None
        execution = first["workflowExecution"]
        pages = self._pages(self.client.poll_for_decision_task, request, first)
        decoded = decode_history(execution["workflowId"], execution["runId"], pages)
        self._publish_new(decoded)
        return DecisionTask(
            decoded.process(), context={"token": token, "run_id": execution["runId"]}
        )

    def heartbeat_activity_task(self, task: ActivityTask) -> bool:
        try:
            response = self.client.record_activity_task_heartbeat(taskToken=task.context["token"])
        except Exception as error:
            if error_code(error) == UNKNOWN:
                raise UnknownActivityException(
                    "activity task is unknown, closed or timed out"
                ) from None
            raise
        return bool(response.get("cancelRequested"))

    def complete_activity_task(self, task: ActivityTask, result: ActivityResult) -> None:
        token = task.context["token"]
        if isinstance(result, ActivityResult):
            result = checked_result(result)
        if isinstance(result, ActivityCompleted):
            call, request = (
                self.client.respond_activity_task_completed,
                {"result": limits.payload(result.result, "result")},
            )
        elif isinstance(result, ActivityCanceled):
            call, request = (
                self.client.respond_activity_task_canceled,
                {"details": limits.failure_details(result.details)},
            )
        elif isinstance(result, ActivityTimedOut):
            call, request = (
                self.client.respond_activity_task_failed,
                {
                    "reason": TIMED_OUT_REASON,
                    "details": limits.failure_details(result.details),
                },
            )
        elif isinstance(result, ActivityFailed):
            call, request = (
                self.client.respond_activity_task_failed,
                {
                    "reason": limits.failure_reason(result.reason),
                    "details": limits.failure_details(result.details),
                },
            )
        else:
            raise TypeError(f"not an activity result: {result!r}")
        try:
            call(taskToken=token, **request)
        except Exception as error:
            if error_code(error) == UNKNOWN:
                raise UnknownActivityException(
                    "activity task is unknown, closed or timed out"
                ) from None
            raise

    def complete_decision_task(
        self, task: DecisionTask, decisions: Decision | Sequence[Decision]
    ) -> None:
        if isinstance(decisions, Decision):
            decisions = [decisions]
        encoded = encode_all(check_decisions(decisions), self._version, self._version)
        self._respond_decisions(task, encoded)

    def fail_decision_task(self, task: DecisionTask, reason: Any, details: Any = None) -> None:
        """SWF has no call for it: a marker records the failure (read back as a
        DecisionFailedEvent) and a timer of our own offers the task again after
        the same backoff as on the other backends."""
        failures = 1 + sum(isinstance(e, DecisionFailedEvent) for e in task.process.history)
        marker = RecordMarker(
            DECISION_FAILED_MARKER,
            {
                "reason": limits.failure_reason(reason),
                "details": limits.decode(limits.failure_details(details)),
            },
        )
        retry = Timer(decision_backoff(failures), id=f"{RETRY_TIMER_PREFIX}{failures}")
        decisions = [encode(d, self._version, self._version) for d in (marker, retry)]
        self._respond_decisions(task, decisions)

    def _respond_decisions(self, task: DecisionTask, decisions: list[dict[str, Any]]) -> None:
        try:
            self.client.respond_decision_task_completed(
                taskToken=task.context["token"], decisions=decisions
            )
        except Exception as error:
            if error_code(error) == UNKNOWN:
                raise UnknownDecisionException(
                    "decision task is unknown, closed or timed out"
                ) from None
            raise

    def close(self) -> None:
        with self._pollers_lock:
            for poller in self._pollers.values():
                poller.close()


def _seconds(value: float | None) -> str:
    if value is None:
        return "NONE"
    return str(max(1, int(round(value))))
