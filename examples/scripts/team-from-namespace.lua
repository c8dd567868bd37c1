-- SPDX-License-Identifier: Apache-2.0
-- Discovery rules: give every discovered agent a team, and leave out the ones marked to be
-- ignored.
--
-- * team: the item's `team` label when it has one (a Kubernetes Service label, or the labels of
--   a source a script adds), else the team of its namespace from NAMESPACE_TEAMS below; an agent
--   whose card or source already names a team keeps it unless the label says otherwise.
-- * filter: an item labelled `agentlens.io/ignore: "true"` is not put in the catalog (an entry
--   discovered earlier goes offline and is deleted after discovery.removal_grace).
--
-- Use: copy this file into the scripts directory (--scripts-dir, AGENTLENS_SCRIPTS_DIR, or the
-- Helm chart's scripts ConfigMap). It applies from the next reload (a file change, SIGHUP or
-- POST /api/v1/system/reload) at the next discovery round; a rule that fails is logged with
-- its file and line and skipped, and discovery goes on. docs/discovery.md describes the shape.
local NAMESPACE_TEAMS = {
  payments = "Payments",
  search = "Search",
  ["ml-platform"] = "ML Platform",
}

return {
  discovery = {
    description = "team from the team label or the namespace; skip items labelled agentlens.io/ignore",

    filter = function(item)
      return item.labels["agentlens.io/ignore"] ~= "true"
    end,

    transform = function(entry, item)
      local team = item.labels.team or (item.namespace and NAMESPACE_TEAMS[item.namespace])
      if team then
        entry.team = team
      end
    end,
  },
}
