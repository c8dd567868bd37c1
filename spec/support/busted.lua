-- SPDX-License-Identifier: Apache-2.0
-- Runs busted inside `agentlens run`, so specs get LuaJIT plus the agentlens.* namespaces.
require("busted.runner")({ standalone = false })
