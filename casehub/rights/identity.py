"""Which person a request is about: the hub's keyed pseudonym of a citizen id or another document's id."""

from __future__ import annotations

import re
from dataclasses import dataclass

from casehub.core.settings import Settings
from casehub.rights.exceptions import BadSubjectId
from casehub.schemas.validation import check_citizen_id
from casehub.streams.keys import other_id_token, shard_of_token, subject_token

OTHER_ID_TYPES = ("passport", "pink_card", "other")


@dataclass(frozen=True)
class SubjectId:
    """A person as the request names them: the kind of id, the id, and the hub's token for it."""

    kind: str  # citizen_id | passport | pink_card | other
    value: str
    token: str

    @property
    def shard(self) -> str:
        return shard_of_token(self.token)

    @property
    def masked(self) -> str:
        """The id as a report shows it: enough to recognise, not enough to copy (first and last characters)."""
        return self.value[:1] + "•" * max(0, len(self.value) - 3) + self.value[-2:]

    def needles(self) -> tuple[bytes, ...]:
        """Byte strings that mark a raw record (a dead letter) as about this person."""
        return (self.value.encode(), self.token.encode())

    @classmethod
    def citizen(cls, settings: Settings, text: str) -> SubjectId:
        digits = re.sub(r"[\s\-]", "", text)
        problem = check_citizen_id(digits)
        if problem is not None:
            raise BadSubjectId(f"--citizen-id: {problem}")
        return cls("citizen_id", digits, subject_token(_key(settings), digits))

    @classmethod
    def other(cls, settings: Settings, text: str) -> SubjectId:
        """``TYPE:ID`` (passport, pink_card, other) or just ``ID``."""
        kind, _, value = text.partition(":") if ":" in text else ("other", "", text)
        kind = kind.strip().lower().replace("-", "_")
        if kind not in OTHER_ID_TYPES:
            raise BadSubjectId(f"--other-id {text!r}: TYPE is one of {', '.join(OTHER_ID_TYPES)}")
        if not re.sub(r"[\s\-./]", "", value):
            raise BadSubjectId(f"--other-id {text!r}: the id is empty")
        return cls(kind, value.strip(), other_id_token(_key(settings), value))


def _key(settings: Settings) -> bytes:
    return settings.pseudonym_key.get_secret_value().encode()
