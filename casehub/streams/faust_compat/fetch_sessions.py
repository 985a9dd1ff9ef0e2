"""Incremental fetch sessions (KIP-227) for aiokafka's fetcher: a fetch names only the partitions that changed.

aiokafka 0.14 sends every fetch without a session: each request names, and each answer lists, every partition
the consumer is assigned on that broker. A worker reads one inbound topic per partner, about 1,440 partitions,
so each round encoded and decoded some 1,440 entries in pure Python whether or not a record had arrived (a third
of an idle worker's CPU). With a session the broker remembers the partitions and their offsets: a request names
only the partitions added or moved since the last one (and those to forget), and the answer only those with
something new. This is what Kafka's Java consumer does (``FetchSessionHandler``).

:func:`install_on_start` fits it to an aiokafka consumer's fetcher once the consumer has built it. aiokafka keeps
at most one fetch in flight per broker, so a session's state changes only when its answer arrives; an error, a
lost answer (timeout, cancelled fetch) or a broker that forgot the session starts a new one with a full request.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiokafka.protocol.fetch import FetchRequest

USES: tuple[tuple[str, str], ...] = (
    ("aiokafka.consumer.consumer:AIOKafkaConsumer", "_fetcher"),
    ("aiokafka.consumer.fetcher:Fetcher", "_client"),
    ("aiokafka.consumer.fetcher:Fetcher", "_get_actions_per_node"),
    ("aiokafka.consumer.fetcher:Fetcher", "_preferred_read_replica"),
    ("aiokafka.consumer.fetcher:Fetcher", "_records"),
    ("aiokafka.consumer.fetcher:Fetcher", "_in_flight"),
    ("aiokafka.consumer.fetcher:Fetcher", "_max_partition_fetch_bytes"),
    ("aiokafka.consumer.fetcher:Fetcher", "_fetcher_timeout"),
    ("aiokafka.consumer.fetcher:Fetcher", "_fetch_max_wait_ms"),
    ("aiokafka.consumer.fetcher:Fetcher", "_fetch_min_bytes"),
    ("aiokafka.consumer.fetcher:Fetcher", "_fetch_max_bytes"),
    ("aiokafka.consumer.fetcher:Fetcher", "_isolation_level"),
    ("aiokafka.consumer.fetcher:Fetcher", "_client_rack"),
    ("aiokafka.cluster:ClusterMetadata", "_partitions"),
    ("aiokafka.protocol.fetch:FetchRequest", "_max_wait_ms"),
    ("aiokafka.protocol.fetch:FetchRequest", "_min_bytes"),
    ("aiokafka.protocol.fetch:FetchRequest", "_max_bytes"),
    ("aiokafka.protocol.fetch:FetchRequest", "_isolation_level"),
    ("aiokafka.protocol.fetch:FetchRequest", "_rack_id"),
)
"""(where, name) of everything this module touches that aiokafka does not promise to keep."""

NO_SESSION = 0
INITIAL_EPOCH = 0  # with session id 0: "open a session with these partitions"
FIRST_VERSION = 7  # the first Fetch version with sessions
MAX_EPOCH = 2**31 - 1

Partition = tuple[str, int]
Wanted = dict[Partition, tuple[int, int]]  # (topic, partition) -> (fetch offset, max bytes)


class FetchSession:
    """One broker's session with this consumer: its id, the next epoch and the partitions the broker was told."""

    def __init__(self) -> None:
        self.session_id = NO_SESSION
        self.epoch = INITIAL_EPOCH
        self.partitions: Wanted = {}
        self.full_requests = 0
        self.incremental_requests = 0

    def plan(self, wanted: Wanted) -> tuple[int, int, list[Partition], list[Partition]]:
        """(session id, epoch, partitions to name, partitions to forget) of the next request for ``wanted``."""
        if self.session_id == NO_SESSION:
            return NO_SESSION, INITIAL_EPOCH, list(wanted), []
        told = self.partitions
        changed = [tp for tp, fetch in wanted.items() if told.get(tp) != fetch]
        forgotten = [tp for tp in told if tp not in wanted]
        return self.session_id, self.epoch, changed, forgotten

    def answered(self, request: SessionFetchRequest, response: Any) -> None:
        """Take the broker's answer to ``request``: the session it opened or advanced, or an error that ends it."""
        if request.sent_session is None or getattr(response, "error_code", 1) != 0:
            self.reset()  # sessionless version, or the broker forgot the session or its epoch (codes 70, 71)
            return
        session_id, _ = request.sent_session
        if session_id == NO_SESSION:
            self.full_requests += 1
            self.session_id = int(response.session_id)  # 0 still: the broker's session cache is full
            self.epoch = 1
        else:
            self.incremental_requests += 1
            self.epoch = 1 if self.epoch >= MAX_EPOCH else self.epoch + 1
        self.partitions = request.wanted if self.session_id != NO_SESSION else {}  # a request's own, never changed

    def reset(self) -> None:
        """Forget the session: the next request opens a new one (the broker drops the old one when idle)."""
        self.session_id, self.epoch, self.partitions = NO_SESSION, INITIAL_EPOCH, {}


class SessionFetchRequest(FetchRequest):
    """A fetch request in ``session``: ``topics`` still lists every wanted partition (aiokafka checks the answer's
    offsets against it); what goes on the wire names only the changes."""

    def __init__(self, session: FetchSession, wanted: Wanted, *, max_wait_ms: int, min_bytes: int, max_bytes: int,
                 isolation_level: int, rack_id: str) -> None:
        by_topic: defaultdict[str, list[tuple[int, int, int]]] = defaultdict(list)
        for (topic, partition), (offset, partition_bytes) in wanted.items():
            by_topic[topic].append((partition, offset, partition_bytes))
        super().__init__(max_wait_ms, min_bytes, max_bytes, isolation_level, list(by_topic.items()), rack_id=rack_id)
        self.session = session
        self.wanted = wanted
        self.sent_session: tuple[int, int] | None = None
        """(session id, epoch) of the request as built; None when the broker's version has no sessions."""

    def build(self, request_struct_class: Any) -> Any:
        api_version = request_struct_class.API_VERSION
        if api_version < FIRST_VERSION:
            self.sent_session = None
            return super().build(request_struct_class)
        session_id, epoch, changed, forgotten = self.session.plan(self.wanted)
        self.sent_session = (session_id, epoch)
        named: defaultdict[str, list[tuple[int, ...]]] = defaultdict(list)
        for topic, partition in changed:
            offset, max_bytes = self.wanted[(topic, partition)]
            if api_version >= 9:  # current leader epoch (unknown), offset, log start offset (a consumer's: -1)
                named[topic].append((partition, -1, offset, -1, max_bytes))
            else:
                named[topic].append((partition, offset, -1, max_bytes))
        dropped: defaultdict[str, list[int]] = defaultdict(list)
        for topic, partition in forgotten:
            dropped[topic].append(partition)
        args: list[object] = [-1, self._max_wait_ms, self._min_bytes, self._max_bytes, self._isolation_level,
                              session_id, epoch, list(named.items()), list(dropped.items())]
        if api_version >= 11:
            args.append(self._rack_id)
        return request_struct_class(*args)


class SessionClient:
    """The fetcher's client, which hands each fetch's answer (or failure) to its session on the way back."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def send(self, node_id: int, request: Any, **kwargs: Any) -> Any:
        if not isinstance(request, SessionFetchRequest):
            return await self._client.send(node_id, request, **kwargs)
        try:
            response = await self._client.send(node_id, request, **kwargs)
        except BaseException:  # the broker may have moved the epoch on, or not: start again
            request.session.reset()
            raise
        request.session.answered(request, response)
        if request.sent_session is not None and _drop_unwanted(response, request.wanted):
            request.session.reset()  # the broker's session and ours disagree: the next request opens a new one
        return response


def _drop_unwanted(response: Any, wanted: Wanted) -> bool:
    """Remove from ``response`` any partition the request did not want; whether there was one.

    aiokafka looks up each answered partition's fetch offset in the request and would fail on a stranger,
    which stops its fetch loop for good; a broker never sends one while both sides agree on the session.
    """
    strangers = False
    kept = []
    for topic, partitions in response.topics:
        mine = [p for p in partitions if (topic, p[0]) in wanted]
        strangers = strangers or len(mine) < len(partitions)
        if mine:
            kept.append((topic, mine))
    if strangers:
        response.topics = kept
    return strangers


class SessionPlanner:
    """The fetcher's ``_get_actions_per_node``, in sessions, and without walking every partition on every wake-up.

    aiokafka's own walks all assigned partitions (about 1,440 in a worker) each time its fetch loop wakes, which
    is each time the worker takes records, and then finds the broker's fetch still in flight. This one keeps the
    partitions grouped by leader until the assignment or the cluster metadata changes, looks only at partitions
    with records still buffered while their broker's fetch is in flight, and otherwise decides exactly as
    aiokafka does (backoff, offset reset, pause, leaderless partitions). With read replicas (KIP-392) in use, which
    casehub never asks for, aiokafka's own plan fetches without sessions.
    """

    def __init__(self) -> None:
        self.fetcher: Any = None
        self.aiokafka_plan: Any = None
        self.by_node: dict[int, FetchSession] = {}
        self._grouped_for: tuple[Any, Any] | None = None
        self._leaders: dict[Any, list[tuple[Any, Any]]] = {}
        self._leader_of: dict[Any, Any] = {}
        self._leaderless: list[Any] = []

    def attach(self, fetcher: Any) -> None:
        """Plan ``fetcher``'s fetches (an aiokafka ``Fetcher``, before its first assignment), in sessions."""
        self.fetcher, self.aiokafka_plan = fetcher, fetcher._get_actions_per_node
        fetcher._get_actions_per_node = self
        fetcher._client = SessionClient(fetcher._client)

    def requests(self) -> dict[str, int]:
        """Fetches sent so far, over every broker: ``full`` (opening a session) and ``incremental``."""
        sessions = self.by_node.values()
        return {"full": sum(s.full_requests for s in sessions),
                "incremental": sum(s.incremental_requests for s in sessions)}

    def session(self, node_id: int) -> FetchSession:
        found = self.by_node.get(node_id)
        if found is None:
            found = self.by_node[node_id] = FetchSession()
        return found

    def _group(self, assignment: Any, cluster: Any) -> None:
        if self._grouped_for is not None and self._grouped_for[0] is assignment \
                and self._grouped_for[1] is cluster._partitions:
            return
        leaders: defaultdict[Any, list[tuple[Any, Any]]] = defaultdict(list)
        leader_of, leaderless = {}, []
        for tp in assignment.tps:
            node_id = leader_of[tp] = cluster.leader_for_partition(tp)
            if node_id is None or node_id == -1:
                leaderless.append(tp)
            else:
                leaders[node_id].append((tp, assignment.state_value(tp)))
        self._leaders, self._leader_of, self._leaderless = dict(leaders), leader_of, leaderless
        self._grouped_for = (assignment, cluster._partitions)  # aiokafka swaps in a new dict on each update

    def __call__(self, assignment: Any) -> tuple[Any, ...]:
        fetcher = self.fetcher
        if fetcher._preferred_read_replica:
            return self.aiokafka_plan(assignment)  # type: ignore[no-any-return]
        self._group(assignment, fetcher._client.cluster)
        buffered, in_flight = fetcher._records, fetcher._in_flight
        fetchable: defaultdict[Any, Wanted] = defaultdict(dict)
        awaiting_reset: defaultdict[Any, list[Any]] = defaultdict(list)
        backoff_by_nodes: defaultdict[Any, list[float]] = defaultdict(list)
        resume_futures: list[Any] = []
        partition_bytes = fetcher._max_partition_fetch_bytes
        for tp, result in buffered.items():  # data not yet taken by the worker: its broker waits for it
            backoff = result.calculate_backoff()
            if backoff:
                backoff_by_nodes[self._leader_of.get(tp)].append(backoff)
        invalid_metadata = any(tp not in buffered for tp in self._leaderless)
        for node_id, partitions in self._leaders.items():
            if node_id in in_flight:
                continue
            wanted = fetchable[node_id]
            for tp, state in partitions:
                if tp in buffered:
                    continue
                if not state.has_valid_position:
                    awaiting_reset[node_id].append(tp)
                elif state.paused:
                    resume_futures.append(state.resume_fut)
                else:
                    wanted[(tp.topic, tp.partition)] = (state.position, partition_bytes)
        fetch_requests = [
            (node_id, self._request(node_id, wanted)) for node_id, wanted in fetchable.items()
            if wanted and node_id not in backoff_by_nodes and node_id not in awaiting_reset
        ]
        timeout = min(map(max, backoff_by_nodes.values())) if backoff_by_nodes else fetcher._fetcher_timeout
        return fetch_requests, awaiting_reset, timeout, invalid_metadata, resume_futures

    def _request(self, node_id: int, wanted: Wanted) -> SessionFetchRequest:
        fetcher = self.fetcher
        return SessionFetchRequest(
            self.session(node_id), wanted, max_wait_ms=fetcher._fetch_max_wait_ms, min_bytes=fetcher._fetch_min_bytes,
            max_bytes=fetcher._fetch_max_bytes, isolation_level=fetcher._isolation_level,
            rack_id=fetcher._client_rack or "",
        )


def install_on_start(consumer: Any) -> SessionPlanner:
    """Fit fetch sessions to ``consumer`` (an unstarted ``AIOKafkaConsumer``) as soon as it has built its fetcher."""
    start = consumer.start
    planner = SessionPlanner()

    async def start_with_sessions() -> None:
        await start()
        planner.attach(consumer._fetcher)

    consumer.start = start_with_sessions
    return planner
