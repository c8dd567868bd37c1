-- SPDX-License-Identifier: Apache-2.0
-- The background job registry: the C scheduler (src/jobs/jobs.c) runs each job here on its own
-- Lua state and database connection, the first time at start-up (or when this replica becomes
-- the leader) and then every interval. With PostgreSQL only the elected replica runs them.
--
-- An entry: { name = "health", run = function(ctx) ... end, and either
--   interval_setting = "health.check_interval" (a runtime setting in seconds, read each round)
--   or interval_ms = 30000 }.
-- run(ctx) receives ctx = { name = <job name>, round = <1, 2, ...> }. An error it raises is
-- logged with a traceback and the job runs again at its next interval. A reload replaces the
-- jobs; a job that keeps its name keeps its schedule.
--
-- health: probes every catalog entry that is not deprecated (agentlens.health.run.sweep).
-- Discovery jobs arrive with that feature.
return {
  {
    name = "health",
    interval_setting = "health.check_interval",
    run = function()
      require("agentlens.health.run").sweep()
    end,
  },
}
