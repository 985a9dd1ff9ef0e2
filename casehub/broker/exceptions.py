"""Errors of the local broker manager; each says what the user can do next."""

from casehub.core.errors import BrokerError


class ToolMissing(BrokerError):
    """Java or Maven is not installed, or too old."""


class JarsUnavailable(BrokerError):
    """Maven could not resolve Apache Kafka's jars."""


class PortInUse(BrokerError):
    """A port the local cluster needs is taken by another process."""


class ClusterHalfDead(BrokerError):
    """A previous cluster left some nodes running and some dead."""


class StartFailed(BrokerError):
    """A node exited or the cluster did not answer in time."""


class SecurityMismatch(BrokerError):
    """The cluster's data was made with another security mode (secure or --insecure) than this start asks for."""


class ClusterSizeMismatch(BrokerError):
    """The cluster's data was made for another number of nodes than this start asks for."""
