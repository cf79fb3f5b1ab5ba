-- Open cases per agent, counted for every routing decision: an index of the assignees of open
-- cases only, so the count does not grow with every case ever opened. (The status index
-- alone made SQLite walk all open cases, assigned or not: 4 ms a decision at 12,000 cases.)
CREATE INDEX cases_assignee_open ON cases (assignee)
    WHERE assignee IS NOT NULL AND status IN ('new', 'open', 'pending', 'on_hold', 'escalated');
