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
-- A long-running job (a watch) is { name = ..., loop = true, run = function(ctx) ... end,
-- enabled = boolean | function() -> boolean (optional) }: it runs on a thread of its own with
-- its own state and connection while this replica leads and it is enabled, and must return soon
-- after ctx.should_stop() turns true (shutdown, reload, lost leadership, disabled); ctx.sleep(s)
-- waits, returning false early when it must stop, and agentlens.httpc.stream on that thread ends
-- with "stopped" then. When run returns or raises otherwise it starts again after a pause.
--
-- health: probes every catalog entry that is not deprecated (agentlens.health.run.sweep).
-- discovery: syncs the static sources (config `sources:` and operator scripts) that are due,
-- marks removed ones gone and deletes them after the grace (agentlens.discovery.static.round);
-- it ticks every second and decides itself what is due (per-source intervals).
return {
  {
    name = "discovery",
    interval_ms = 1000,
    run = function()
      require("agentlens.discovery.static").round()
    end,
  },
  {
    name = "health",
    interval_setting = "health.check_interval",
    run = function(ctx)
      require("agentlens.health.run").sweep({ should_stop = ctx.should_stop })
    end,
  },
  -- kubernetes: lists, then watches annotated Services (agentlens.discovery.kubernetes)
  {
    name = "kubernetes",
    loop = true,
    enabled = function()
      return require("agentlens.config").get("kubernetes.enabled") == true
    end,
    run = function(ctx)
      require("agentlens.discovery.kubernetes").run(ctx)
    end,
  },
}
