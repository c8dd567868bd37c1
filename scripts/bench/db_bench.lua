-- SPDX-License-Identifier: Apache-2.0
-- The Lua API side of scripts/bench/bench_db.sh, run inside the binary:
--   agentlens run scripts/bench/db_bench.lua [N [ROUNDS]]
-- against the configured database (AGENTLENS_DATA_DIR / AGENTLENS_DB_*). Each round recreates
-- table bench_lua (id BIGINT PRIMARY KEY, name TEXT, n BIGINT), runs N db.exec INSERTs inside
-- one db.tx, then N db.query SELECTs by primary key, and times both with time.monotonic().
-- Prints the fastest round as one line (µs per operation; rows and check as in bench_db.c):
--   lua insert_us=2.345 read_us=3.456 rows=10000 check=350235000
local db = require("agentlens.db")
local time = require("agentlens.time")

local n_ops = tonumber(arg and arg[1]) or 10000
local rounds = tonumber(arg and arg[2]) or 3

local function check(ok, msg, code)
	if ok == nil then
		error(string.format("db_bench.lua: %s (%s)", tostring(msg), tostring(code)), 2)
	end
	return ok
end

local function round()
	check(db.exec("DROP TABLE IF EXISTS bench_lua"))
	check(db.exec("CREATE TABLE bench_lua (id BIGINT PRIMARY KEY, name TEXT, n BIGINT)"))

	-- The same values as bench_db.c: ids 1..N, name "agent-%06d.example", n = id * 7.
	local t0 = time.monotonic()
	check(db.tx(function()
		for i = 1, n_ops do
			check(db.exec("INSERT INTO bench_lua (id, name, n) VALUES (?, ?, ?)", i,
				string.format("agent-%06d.example", i), i * 7))
		end
		return true
	end))
	local t1 = time.monotonic()
	-- Every id once, in the order (i * 7919) % N + 1.
	local rows, sum = 0, 0
	for i = 1, n_ops do
		local result = check(db.query("SELECT id, name, n FROM bench_lua WHERE id = ?", (i * 7919) % n_ops + 1))
		for _, row in ipairs(result) do
			rows = rows + 1
			sum = sum + row.n + #row.name
		end
	end
	local t2 = time.monotonic()
	return (t1 - t0) * 1e6 / n_ops, (t2 - t1) * 1e6 / n_ops, rows, sum
end

local best_insert, best_read, rows, sum = math.huge, math.huge, 0, 0
for _ = 1, rounds do
	local insert_us, read_us
	insert_us, read_us, rows, sum = round()
	best_insert = math.min(best_insert, insert_us)
	best_read = math.min(best_read, read_us)
end
check(db.exec("DROP TABLE IF EXISTS bench_lua"))
print(string.format("lua insert_us=%.3f read_us=%.3f rows=%d check=%d", best_insert, best_read, rows, sum))
