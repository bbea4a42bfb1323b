from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Tensor(_message.Message):
    __slots__ = ("name", "shape", "data")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    name: str
    shape: _containers.RepeatedScalarFieldContainer[int]
    data: bytes
    def __init__(self, name: _Optional[str] = ..., shape: _Optional[_Iterable[int]] = ..., data: _Optional[bytes] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("tensors", "samples", "cycle", "origin")
    TENSORS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    tensors: _containers.RepeatedCompositeFieldContainer[Tensor]
    samples: int
    cycle: int
    origin: int
    def __init__(self, tensors: _Optional[_Iterable[_Union[Tensor, _Mapping]]] = ..., samples: _Optional[int] = ..., cycle: _Optional[int] = ..., origin: _Optional[int] = ...) -> None: ...

class PeerRef(_message.Message):
    __slots__ = ("id", "address")
    ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    id: int
    address: str
    def __init__(self, id: _Optional[int] = ..., address: _Optional[str] = ...) -> None: ...

class CacheRequest(_message.Message):
    __slots__ = ("sender", "backward_max")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    BACKWARD_MAX_FIELD_NUMBER: _ClassVar[int]
    sender: PeerRef
    backward_max: int
    def __init__(self, sender: _Optional[_Union[PeerRef, _Mapping]] = ..., backward_max: _Optional[int] = ...) -> None: ...

class CacheReply(_message.Message):
    __slots__ = ("cache", "backward")
    CACHE_FIELD_NUMBER: _ClassVar[int]
    BACKWARD_FIELD_NUMBER: _ClassVar[int]
    cache: _containers.RepeatedCompositeFieldContainer[PeerRef]
    backward: _containers.RepeatedCompositeFieldContainer[PeerRef]
    def __init__(self, cache: _Optional[_Iterable[_Union[PeerRef, _Mapping]]] = ..., backward: _Optional[_Iterable[_Union[PeerRef, _Mapping]]] = ...) -> None: ...

class BackwardRequest(_message.Message):
    __slots__ = ("sender", "max_entries")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MAX_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    sender: PeerRef
    max_entries: int
    def __init__(self, sender: _Optional[_Union[PeerRef, _Mapping]] = ..., max_entries: _Optional[int] = ...) -> None: ...

class BackwardReply(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[PeerRef]
    def __init__(self, entries: _Optional[_Iterable[_Union[PeerRef, _Mapping]]] = ...) -> None: ...

class PushRequest(_message.Message):
    __slots__ = ("sender", "model")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    sender: PeerRef
    model: Model
    def __init__(self, sender: _Optional[_Union[PeerRef, _Mapping]] = ..., model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class PushReply(_message.Message):
    __slots__ = ("accepted", "global_model", "hub_id", "participants")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_MODEL_FIELD_NUMBER: _ClassVar[int]
    HUB_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    global_model: Model
    hub_id: int
    participants: int
    def __init__(self, accepted: _Optional[bool] = ..., global_model: _Optional[_Union[Model, _Mapping]] = ..., hub_id: _Optional[int] = ..., participants: _Optional[int] = ...) -> None: ...

class AggregateRequest(_message.Message):
    __slots__ = ("sender", "aggregate", "round")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    AGGREGATE_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    sender: PeerRef
    aggregate: Model
    round: int
    def __init__(self, sender: _Optional[_Union[PeerRef, _Mapping]] = ..., aggregate: _Optional[_Union[Model, _Mapping]] = ..., round: _Optional[int] = ...) -> None: ...

class AggregateReply(_message.Message):
    __slots__ = ("accepted",)
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    accepted: bool
    def __init__(self, accepted: _Optional[bool] = ...) -> None: ...

class PullRequest(_message.Message):
    __slots__ = ("sender",)
    SENDER_FIELD_NUMBER: _ClassVar[int]
    sender: PeerRef
    def __init__(self, sender: _Optional[_Union[PeerRef, _Mapping]] = ...) -> None: ...

class PullReply(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: Model
    def __init__(self, model: _Optional[_Union[Model, _Mapping]] = ...) -> None: ...

class PingRequest(_message.Message):
    __slots__ = ("sender_id", "padding")
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    PADDING_FIELD_NUMBER: _ClassVar[int]
    sender_id: int
    padding: bytes
    def __init__(self, sender_id: _Optional[int] = ..., padding: _Optional[bytes] = ...) -> None: ...

class PingReply(_message.Message):
    __slots__ = ("node_id",)
    NODE_ID_FIELD_NUMBER: _ClassVar[int]
    node_id: int
    def __init__(self, node_id: _Optional[int] = ...) -> None: ...

class PredictRequest(_message.Message):
    __slots__ = ("count", "seed", "features")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    count: int
    seed: int
    features: bytes
    def __init__(self, count: _Optional[int] = ..., seed: _Optional[int] = ..., features: _Optional[bytes] = ...) -> None: ...

class PredictReply(_message.Message):
    __slots__ = ("labels", "correct", "cycle")
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CORRECT_FIELD_NUMBER: _ClassVar[int]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.RepeatedScalarFieldContainer[int]
    correct: int
    cycle: int
    def __init__(self, labels: _Optional[_Iterable[int]] = ..., correct: _Optional[int] = ..., cycle: _Optional[int] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("id", "protocol", "role", "cycle", "overlay_cycle", "accuracy", "loss", "hubs", "cache", "backward_size", "uptime_seconds", "global_model_age_seconds", "train_samples", "suspect_hubs", "gossip_fallback", "messages_sent", "bytes_sent")
    class MessagesSentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class BytesSentEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CYCLE_FIELD_NUMBER: _ClassVar[int]
    OVERLAY_CYCLE_FIELD_NUMBER: _ClassVar[int]
    ACCURACY_FIELD_NUMBER: _ClassVar[int]
    LOSS_FIELD_NUMBER: _ClassVar[int]
    HUBS_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    BACKWARD_SIZE_FIELD_NUMBER: _ClassVar[int]
    UPTIME_SECONDS_FIELD_NUMBER: _ClassVar[int]
    GLOBAL_MODEL_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TRAIN_SAMPLES_FIELD_NUMBER: _ClassVar[int]
    SUSPECT_HUBS_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_FALLBACK_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_SENT_FIELD_NUMBER: _ClassVar[int]
    BYTES_SENT_FIELD_NUMBER: _ClassVar[int]
    id: int
    protocol: str
    role: str
    cycle: int
    overlay_cycle: int
    accuracy: float
    loss: float
    hubs: _containers.RepeatedScalarFieldContainer[int]
    cache: _containers.RepeatedScalarFieldContainer[int]
    backward_size: int
    uptime_seconds: float
    global_model_age_seconds: float
    train_samples: int
    suspect_hubs: _containers.RepeatedScalarFieldContainer[int]
    gossip_fallback: bool
    messages_sent: _containers.ScalarMap[str, int]
    bytes_sent: _containers.ScalarMap[str, int]
    def __init__(self, id: _Optional[int] = ..., protocol: _Optional[str] = ..., role: _Optional[str] = ..., cycle: _Optional[int] = ..., overlay_cycle: _Optional[int] = ..., accuracy: _Optional[float] = ..., loss: _Optional[float] = ..., hubs: _Optional[_Iterable[int]] = ..., cache: _Optional[_Iterable[int]] = ..., backward_size: _Optional[int] = ..., uptime_seconds: _Optional[float] = ..., global_model_age_seconds: _Optional[float] = ..., train_samples: _Optional[int] = ..., suspect_hubs: _Optional[_Iterable[int]] = ..., gossip_fallback: _Optional[bool] = ..., messages_sent: _Optional[_Mapping[str, int]] = ..., bytes_sent: _Optional[_Mapping[str, int]] = ...) -> None: ...

class LinkRule(_message.Message):
    __slots__ = ("fault_id", "direction", "peers", "drop", "delay_ms", "jitter_ms", "distribution", "loss_pct", "ge_p_pct", "ge_r_pct", "ge_bad_loss_pct", "ge_good_loss_pct", "duplicate_pct", "reorder_pct", "rate_kbit")
    class Direction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        EGRESS: _ClassVar[LinkRule.Direction]
        INGRESS: _ClassVar[LinkRule.Direction]
    EGRESS: LinkRule.Direction
    INGRESS: LinkRule.Direction
    FAULT_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    DROP_FIELD_NUMBER: _ClassVar[int]
    DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    JITTER_MS_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    LOSS_PCT_FIELD_NUMBER: _ClassVar[int]
    GE_P_PCT_FIELD_NUMBER: _ClassVar[int]
    GE_R_PCT_FIELD_NUMBER: _ClassVar[int]
    GE_BAD_LOSS_PCT_FIELD_NUMBER: _ClassVar[int]
    GE_GOOD_LOSS_PCT_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_PCT_FIELD_NUMBER: _ClassVar[int]
    REORDER_PCT_FIELD_NUMBER: _ClassVar[int]
    RATE_KBIT_FIELD_NUMBER: _ClassVar[int]
    fault_id: str
    direction: LinkRule.Direction
    peers: _containers.RepeatedScalarFieldContainer[str]
    drop: bool
    delay_ms: float
    jitter_ms: float
    distribution: str
    loss_pct: float
    ge_p_pct: float
    ge_r_pct: float
    ge_bad_loss_pct: float
    ge_good_loss_pct: float
    duplicate_pct: float
    reorder_pct: float
    rate_kbit: float
    def __init__(self, fault_id: _Optional[str] = ..., direction: _Optional[_Union[LinkRule.Direction, str]] = ..., peers: _Optional[_Iterable[str]] = ..., drop: _Optional[bool] = ..., delay_ms: _Optional[float] = ..., jitter_ms: _Optional[float] = ..., distribution: _Optional[str] = ..., loss_pct: _Optional[float] = ..., ge_p_pct: _Optional[float] = ..., ge_r_pct: _Optional[float] = ..., ge_bad_loss_pct: _Optional[float] = ..., ge_good_loss_pct: _Optional[float] = ..., duplicate_pct: _Optional[float] = ..., reorder_pct: _Optional[float] = ..., rate_kbit: _Optional[float] = ...) -> None: ...

class LinkFaultSet(_message.Message):
    __slots__ = ("rules", "version")
    RULES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[LinkRule]
    version: int
    def __init__(self, rules: _Optional[_Iterable[_Union[LinkRule, _Mapping]]] = ..., version: _Optional[int] = ...) -> None: ...

class ProbeRequest(_message.Message):
    __slots__ = ("address", "count", "payload_bytes", "timeout_s", "concurrency")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_BYTES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    address: str
    count: int
    payload_bytes: int
    timeout_s: float
    concurrency: int
    def __init__(self, address: _Optional[str] = ..., count: _Optional[int] = ..., payload_bytes: _Optional[int] = ..., timeout_s: _Optional[float] = ..., concurrency: _Optional[int] = ...) -> None: ...

class ProbeReply(_message.Message):
    __slots__ = ("rtt_ms", "failures", "failure_codes")
    class FailureCodesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    RTT_MS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    FAILURE_CODES_FIELD_NUMBER: _ClassVar[int]
    rtt_ms: _containers.RepeatedScalarFieldContainer[float]
    failures: int
    failure_codes: _containers.ScalarMap[str, int]
    def __init__(self, rtt_ms: _Optional[_Iterable[float]] = ..., failures: _Optional[int] = ..., failure_codes: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ShutdownRequest(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ShutdownReply(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
