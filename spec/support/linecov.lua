-- SPDX-License-Identifier: Apache-2.0
-- Line coverage of the product's Lua modules without luacov (which Debian 12 does not package):
-- runs a script (the busted runner) under a line hook and reports, for every file under lua/,
-- the lines that ran out of the lines that have bytecode (LuaJIT's own line table of each
-- function, nested functions included). Used by scripts/coverage.sh when luacov is missing.
--
--   agentlens run spec/support/linecov.lua REPORT SCRIPT [ARGS...]
--
-- Only code run by this Lua state counts (as with luacov): request handlers that the specs run in
-- the HTTP workers of a spawned server are not seen. The JIT compiler is turned off, since
-- compiled code does not call hooks. REPORT gets one line per file and a Total line, in the
-- layout of luacov's summary ("File  Hits Missed Coverage").
local jutil = require "jit.util"

local report_file, script = arg[1], arg[2]
if not report_file or not script then
  io.stderr:write("usage: agentlens run spec/support/linecov.lua REPORT SCRIPT [ARGS...]\n")
  os.exit(2)
end

local PREFIX = "@lua/"
local hits = {} -- source -> {line = true}
local getinfo = debug.getinfo

local function hook(_, line)
  local info = getinfo(2, "S")
  local src = info and info.source
  if src and src:sub(1, #PREFIX) == PREFIX then
    local t = hits[src]
    if not t then
      t = {}
      hits[src] = t
    end
    t[line] = true
  end
end

-- executable(path) -> set of the lines that have bytecode, or nil, message
local function executable(path)
  local fn, err = loadfile(path)
  if not fn then
    return nil, err
  end
  local lines = {}
  local function walk(f)
    local fi = jutil.funcinfo(f)
    if fi.children then
      for n = -1, -1000000, -1 do
        local k = jutil.funck(f, n)
        if k == nil then
          break
        end
        if type(k) == "proto" then
          walk(k)
        end
      end
    end
    for pc = 1, fi.bytecodes or 0 do
      local line = jutil.funcinfo(f, pc).currentline
      if line and line > 0 then
        lines[line] = true
      end
    end
  end
  walk(fn)
  return lines
end

local written = false
local function write_report()
  if written then
    return
  end
  written = true
  debug.sethook()
  local files = {}
  local p = assert(io.popen("find lua -name '*.lua' -type f | LC_ALL=C sort"))
  for path in p:lines() do
    files[#files + 1] = path
  end
  p:close()
  local out = assert(io.open(report_file, "w"))
  out:write("Summary\n", string.rep("=", 78), "\n\n")
  out:write(("%-60s %6s %6s %8s\n"):format("File", "Hits", "Missed", "Coverage"))
  out:write(string.rep("-", 78), "\n")
  local total_hit, total_missed = 0, 0
  for _, path in ipairs(files) do
    local lines, err = executable(path)
    if not lines then
      io.stderr:write("linecov: ", tostring(err), "\n")
    else
      local ran = hits["@" .. path] or {}
      local hit, missed = 0, 0
      for line in pairs(lines) do
        if ran[line] then
          hit = hit + 1
        else
          missed = missed + 1
        end
      end
      total_hit, total_missed = total_hit + hit, total_missed + missed
      local all = hit + missed
      out:write(("%-60s %6d %6d %7.2f%%\n"):format(path, hit, missed, all > 0 and hit * 100 / all or 100))
    end
  end
  out:write(string.rep("-", 78), "\n")
  local all = total_hit + total_missed
  out:write(("%-60s %6d %6d %7.2f%%\n"):format("Total", total_hit, total_missed,
    all > 0 and total_hit * 100 / all or 100))
  out:close()
end

-- busted ends with os.exit when a spec fails: write the report first.
local real_exit = os.exit
os.exit = function(...) -- luacheck: ignore 122 (the point is to wrap it)
  write_report()
  return real_exit(...)
end

local argv = { [0] = script }
for i = 3, #arg do
  argv[#argv + 1] = arg[i]
end
arg = argv -- luacheck: ignore 121 (busted reads its command line from the global arg)

jit.off()
jit.flush()
debug.sethook(hook, "l")
local ok, err = xpcall(function()
  return dofile(script)
end, debug.traceback)
write_report()
if not ok then
  io.stderr:write(tostring(err), "\n")
  real_exit(1)
end
