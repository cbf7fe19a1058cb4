"""
Geometry for the server-rendered SVG charts. The templates draw the shapes; nothing here
depends on JavaScript, and each chart also has a text alternative in its template.
"""

from dataclasses import dataclass, field

from positions.models import AUTHOR_KINDS, Stance

CHART_WIDTH = 640
LABEL_WIDTH = 250
BAR_AREA = CHART_WIDTH - LABEL_WIDTH - 120  # room on the right for the value label
BAR_HEIGHT = 22
GROUP_GAP = 18
HEADING_HEIGHT = 22


@dataclass
class Bar:
    party: object
    parameter: object
    y: int
    width: int

    @property
    def label_x(self):
        return LABEL_WIDTH + self.width + 8


@dataclass
class BarGroup:
    quantity: str
    unit: str
    y: int
    bars: list = field(default_factory=list)
    missing: list = field(default_factory=list)  # parties that proposed no number for it


@dataclass
class BarChart:
    groups: list
    height: int
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH

    @property
    def is_empty(self):
        return not self.groups


def ceilings_chart(proposals, parties):
    """
    One group of bars per quantity ("nuclear warheads", "heavy bombers"), one bar per
    party's proposed number. Each group has its own scale, since its units differ from
    the next group's; within a group the bars are comparable.
    """
    by_quantity = {}
    for proposal in proposals:
        for parameter in proposal.parameters.all():
            key = (parameter.quantity.lower(), parameter.unit)
            by_quantity.setdefault(key, []).append((proposal.party, parameter))

    groups, y = [], 0
    for (_, unit), entries in sorted(by_quantity.items()):
        group = BarGroup(quantity=entries[0][1].quantity, unit=unit, y=y)
        y += HEADING_HEIGHT
        largest = max(parameter.value for _, parameter in entries) or 1
        proposing = {party.pk for party, _ in entries}
        for party in parties:
            for entry_party, parameter in entries:
                if entry_party.pk != party.pk:
                    continue
                width = round(BAR_AREA * parameter.value / largest)
                group.bars.append(Bar(party=party, parameter=parameter, y=y, width=width))
                y += BAR_HEIGHT + 4
            if party.pk not in proposing:
                group.missing.append(party)
        if group.missing:
            y += BAR_HEIGHT  # a line saying which sides proposed no number
        y += GROUP_GAP
        groups.append(group)
    return BarChart(groups=groups, height=max(y, 1))


# Stance levels from top to bottom of the timeline.
STANCE_LEVELS = [Stance.SUPPORTS, Stance.CONDITIONAL, Stance.UNDECIDED, Stance.OPPOSES]
TIMELINE_WIDTH = 640
TIMELINE_LEFT = 190
TIMELINE_RIGHT = 30
LEVEL_HEIGHT = 44


@dataclass
class Point:
    statement: object
    x: int
    y: int
    party_index: int


@dataclass
class Timeline:
    points: list
    dates: list
    levels: list
    width: int = TIMELINE_WIDTH
    left: int = TIMELINE_LEFT
    level_height: int = LEVEL_HEIGHT

    @property
    def height(self):
        return len(self.levels) * self.level_height + 40

    @property
    def axis_y(self):
        return len(self.levels) * self.level_height + 8


def stance_timeline(row):
    """
    Each side's dated, position-taking statements on a topic, placed by date and stance;
    None unless there is more than one, since one point shows no movement.
    """
    dated = [
        (index, statement)
        for index, cell in enumerate(row.cells)
        for statement in cell.statements
        if statement.stated_on
        and statement.stance in STANCE_LEVELS
        and statement.kind not in AUTHOR_KINDS
    ]
    if len(dated) < 2:
        return None
    dates = sorted({statement.stated_on for _, statement in dated})
    span = TIMELINE_WIDTH - TIMELINE_LEFT - TIMELINE_RIGHT
    step = span / max(len(dates) - 1, 1)
    crowd = {}
    points = []
    for index, statement in dated:
        column = dates.index(statement.stated_on)
        level = STANCE_LEVELS.index(statement.stance)
        # Statements of the same day and stance sit side by side, not on top of each other.
        offset = crowd.get((column, level), 0)
        crowd[column, level] = offset + 1
        x = TIMELINE_LEFT + (step * column if len(dates) > 1 else span / 2) + offset * 10
        x = min(x, TIMELINE_WIDTH - 8)
        y = level * LEVEL_HEIGHT + LEVEL_HEIGHT // 2
        points.append(Point(statement=statement, x=round(x), y=y, party_index=index))
    date_ticks = [
        (round(TIMELINE_LEFT + (step * i if len(dates) > 1 else span / 2)), date)
        for i, date in enumerate(dates)
    ]
    levels = [
        (i * LEVEL_HEIGHT + LEVEL_HEIGHT // 2, Stance(level).label)
        for i, level in enumerate(STANCE_LEVELS)
    ]
    return Timeline(points=points, dates=date_ticks, levels=levels)
