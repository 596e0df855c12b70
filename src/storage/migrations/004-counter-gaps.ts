/**
 * Intervals in which an interface's counters could not be counted (issue #8): a reset to values its link
 * could not have carried, a driver glitch, a delta that could not be stored. The collector took the new
 * reading as the baseline and counted nothing for [start_sec, end_sec]; the chart can mark the interval.
 * detail is JSON: the previous and current counters (as decimal strings) and the counter that failed.
 */
export const sql = `
CREATE TABLE counter_gaps (
  id INTEGER PRIMARY KEY,
  interface_name TEXT NOT NULL,
  start_sec INTEGER NOT NULL,
  end_sec INTEGER NOT NULL,
  reason TEXT NOT NULL CHECK (reason IN ('implausible', 'unstorable')),
  detail TEXT NOT NULL
);
CREATE INDEX counter_gaps_end_sec ON counter_gaps (end_sec);
`;
