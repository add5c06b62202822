"""The frames the store hands to the metrics: their exact columns and types, in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from polars._typing import PolarsDataType

# A frame's columns and their types. Polars takes a type class (pl.String) or an instance (pl.Datetime("us")).
Schema = Mapping[str, PolarsDataType]

MARKS_SCHEMA: Schema = {
    "upn": pl.String,
    "urn": pl.Int64,
    "date": pl.Date,
    "am": pl.String,  # null when the school has not yet sent that session
    "pm": pl.String,
}

CHILDREN_SCHEMA: Schema = {
    "la_child_id": pl.String,
    "upn": pl.String,  # null when social care holds no UPN
    "first_name": pl.String,
    "last_name": pl.String,
    "dob": pl.Date,
    "gender": pl.String,
    "ehcp": pl.Boolean,
    "responsible_la": pl.String,  # 3-digit LA number
    "year_group": pl.String,
    "social_worker": pl.String,
    "team": pl.String,
    "locality": pl.String,
}

EPISODES_SCHEMA: Schema = {
    "la_child_id": pl.String,
    "cohort": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,  # null = open
}

SCHOOLS_SCHEMA: Schema = {
    "urn": pl.Int64,
    "name": pl.String,
    "la_code": pl.String,
    "la_name": pl.String,
    "phase": pl.String,
    "postcode": pl.String,
    "easting": pl.Float64,
    "northing": pl.Float64,
    "latitude": pl.Float64,
    "longitude": pl.Float64,
    "locality": pl.String,
}

SUSPENSIONS_SCHEMA: Schema = {
    "upn": pl.String,
    "urn": pl.Int64,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "sessions": pl.Int64,  # null allowed for a permanent exclusion
    "category": pl.String,  # suspension | permanent_exclusion | lunchtime
    "reason": pl.String,
    "reason_2": pl.String,
    "reason_3": pl.String,
}

# What people recorded (the store's `records`): officers' actions and confirmed UPN matches.
ACTIONS_SCHEMA: Schema = {
    "id": pl.Int64,
    "la_child_id": pl.String,
    "action": pl.String,
    "note": pl.String,
    "follow_up": pl.Date,
    "recorded_by": pl.String,
    "recorded_at": pl.Datetime("us", "UTC"),
    "done_by": pl.String,
    "done_at": pl.Datetime("us", "UTC"),
}
ALIASES_SCHEMA: Schema = {
    "alias_upn": pl.String,
    "upn": pl.String,
    "la_child_id": pl.String,
    "confirmed_by": pl.String,
    "confirmed_at": pl.Datetime("us", "UTC"),
}
# Whether a suspension's social worker was told (the Suspensions page's Monday check), by the suspension's key.
NOTICES_SCHEMA: Schema = {
    "upn": pl.String,
    "urn": pl.Int64,
    "start_date": pl.Date,
    "category": pl.String,
    "la_child_id": pl.String,
    "notified": pl.Boolean,
    "set_by": pl.String,
    "set_at": pl.Datetime("us", "UTC"),
}

USERS_SCHEMA: Schema = {
    "name": pl.String,
    "email": pl.String,
    "role": pl.String,
    "teams": pl.String,
    "schools": pl.String,
    "localities": pl.String,
    "failed_sign_ins": pl.Int64,
    "locked_until": pl.Datetime("us", "UTC"),
    "created_at": pl.Datetime("us", "UTC"),
    "changed_at": pl.Datetime("us", "UTC"),
    "has_password": pl.Boolean,
}
AUDIT_SCHEMA: Schema = {
    "id": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "user_name": pl.String,
    "role": pl.String,
    "event": pl.String,
    "la_child_id": pl.String,
    "detail": pl.String,
}

# Attendance as schools sent it, per UPN, carried LA Child ID and school (the data-quality page's matching).
SENT_SCHEMA: Schema = {
    "upn": pl.String,
    "la_child_id": pl.String,
    "urn": pl.Int64,
    "rows": pl.Int64,
    "first_date": pl.Date,
    "last_date": pl.Date,
}

# What each school has sent, from the rows with a code (`sessions.has_code`): the data-quality freshness.
SENDING_SCHEMA: Schema = {
    "urn": pl.Int64,
    "first_mark": pl.Date,
    "last_mark": pl.Date,
    "days_sent": pl.Int64,
    "pupils": pl.Int64,
}

# The longest value each text column may hold. The store's String(n) columns are built from this table and
# the feeds check it before writing, so a 60-character LA Child ID is one rejected row, not a failed batch.
FREE_TEXT = 200
MAX_LENGTH: dict[str, int] = {
    "upn": 13,
    "la_child_id": 40,
    "la_code": 3,
    "responsible_la": 3,
    "cohort": 10,
    "am": 2,
    "pm": 2,
    "category": 20,
    "reason": 4,
    "reason_2": 4,
    "reason_3": 4,
    "year_group": 10,
    "gender": 20,
    "postcode": 10,
    **{
        c: FREE_TEXT
        for c in ("first_name", "last_name", "social_worker", "team", "locality", "name", "la_name", "phase", "ehcp")
    },
}


def empty(schema: Schema) -> pl.DataFrame:
    """An empty frame of the given schema, so empty stores flow through the metrics unchanged."""
    return pl.DataFrame(schema=schema)


def as_date(value: object) -> date | None:
    """A polars scalar (a Date column's `max()`, `item()`, ...) as the date it is, None when null.

    Polars types such results as any scalar it might return; a Date column's are dates, or None when empty.
    """
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise TypeError(f"expected a date, found {value!r}")


# Day rows between two dates (either open), of some UPNs or (None) of everyone, read from the store on demand.
DayReader = Callable[[date | None, date | None, tuple[str, ...] | None], pl.DataFrame]


@dataclass(frozen=True)
class Frames:
    """Everything the metrics read: the marks (as day rows, or a summary per child and week), the rest whole.

    The dashboard holds the week summary and reads day rows only when a figure needs them (`day_reader`);
    tests and one-off reports hold every day row (`marks`) and the summary is worked out from them.
    """

    marks: pl.DataFrame | None
    children: pl.DataFrame
    episodes: pl.DataFrame
    schools: pl.DataFrame
    suspensions: pl.DataFrame
    weeks: pl.DataFrame | None = None
    day_reader: DayReader | None = None

    def days(
        self,
        first: date | None = None,
        last: date | None = None,
        upn: str | None = None,
        upns: Iterable[str] | None = None,
    ) -> pl.DataFrame:
        """Day rows between two dates (either open), of one UPN, of some (`upns`) or of everyone: held, or read
        on demand."""
        chosen = (upn,) if upn is not None else tuple(upns) if upns is not None else None
        if self.marks is None:
            if self.day_reader is None:
                raise ValueError("these frames hold no day rows and no way to read them")
            return self.day_reader(first, last, chosen)
        rows = self.marks
        if chosen is not None:
            rows = rows.filter(pl.col("upn").is_in(list(chosen)))
        if first is not None or last is not None:
            rows = rows.filter(pl.col("date").is_between(first or date.min, last or date.max))
        return rows

    @classmethod
    def build(cls, **frames: pl.DataFrame | list[dict] | None) -> Frames:
        """Frames from partial data (tests, samples): missing frames are empty, columns cast to the schema."""
        schemas = {
            "marks": MARKS_SCHEMA,
            "children": CHILDREN_SCHEMA,
            "episodes": EPISODES_SCHEMA,
            "schools": SCHOOLS_SCHEMA,
            "suspensions": SUSPENSIONS_SCHEMA,
        }
        unknown = set(frames) - set(schemas)
        if unknown:
            raise TypeError(f"unknown frame(s): {sorted(unknown)}")
        made = {name: conform(frames.get(name), schema) for name, schema in schemas.items()}
        return cls(
            marks=made["marks"],
            children=made["children"],
            episodes=made["episodes"],
            schools=made["schools"],
            suspensions=made["suspensions"],
        )


def conform(data: pl.DataFrame | list[dict] | None, schema: Schema) -> pl.DataFrame:
    """Give a frame exactly the schema's columns and types, filling absent columns with nulls."""
    if data is None or len(data) == 0:
        return empty(schema)
    frame = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data, infer_schema_length=None)
    columns = []
    for name, dtype in schema.items():
        if name in frame.columns and dtype == pl.Date and frame.schema[name] == pl.String:
            columns.append(pl.col(name).str.to_date("%Y-%m-%d"))
        elif name in frame.columns:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(columns)
