-- SPDX-License-Identifier: Apache-2.0
-- agentlens.db on the configured dialect (ctest runs this file on SQLite and on PostgreSQL).
local db = require "agentlens.db"
local json = require "agentlens.json"
local ffi = require "ffi"

local pg = db.dialect() == "postgres"

local function ddl(sqlite, postgres)
  assert(db.exec("DROP TABLE IF EXISTS spec_child"))
  assert(db.exec("DROP TABLE IF EXISTS spec_types"))
  assert(db.exec("DROP TABLE IF EXISTS spec_parent"))
  assert(db.exec(pg and postgres or sqlite))
end

describe("agentlens.db on " .. db.dialect(), function()
  before_each(function()
    ddl([[CREATE TABLE spec_types (id INTEGER PRIMARY KEY, b BOOLEAN, i INTEGER, f REAL, t TEXT, bl BLOB,
           n INTEGER)]],
        [[CREATE TABLE spec_types (id BIGINT PRIMARY KEY, b BOOLEAN, i BIGINT, f DOUBLE PRECISION, t TEXT,
           bl BYTEA, n BIGINT)]])
  end)

  it("round-trips every type identically", function()
    local blob = {}
    for i = 0, 255 do blob[#blob + 1] = string.char(i) end
    blob = table.concat(blob)
    local big = ffi.new("int64_t", 9007199254740993LL)
    assert.equal(1, db.exec("INSERT INTO spec_types (id, b, i, f, t, bl, n) VALUES (?, ?, ?, ?, ?, ?, ?)",
      1, true, 9007199254740992, 0.1, "héllo wörld", db.blob(blob), nil))
    assert.equal(1, db.exec("INSERT INTO spec_types (id, b, i, f, t, bl) VALUES (?, ?, ?, ?, ?, ?)",
      2, false, big, -1e300, "", db.blob("")))
    assert.equal(1, db.exec("INSERT INTO spec_types (id, i) VALUES (?, ?)", 3, -9223372036854775807LL - 1))
    local rows = assert(db.query("SELECT * FROM spec_types ORDER BY id"))
    assert.equal(3, #rows)
    local r1, r2, r3 = rows[1], rows[2], rows[3]
    assert.equal(true, r1.b)
    assert.equal(9007199254740992, r1.i)
    assert.equal("number", type(r1.i))
    assert.equal(0.1, r1.f)
    assert.equal("héllo wörld", r1.t)
    assert.equal(blob, r1.bl)
    assert.is_nil(r1.n)
    assert.equal(false, r2.b)
    assert.is_true(ffi.istype("int64_t", r2.i))
    assert.is_true(r2.i == 9007199254740993LL)
    assert.equal(-1e300, r2.f)
    assert.equal("", r2.t)
    assert.equal("", r2.bl)
    assert.is_true(r3.i == -9223372036854775807LL - 1)
    assert.equal('{"i":9007199254740993,"id":1}', json.encode({ id = 1, i = r2.i }))
  end)

  it("refuses NUL bytes in text on both dialects (blobs carry them)", function()
    local ok, err, code = db.exec("INSERT INTO spec_types (id, t) VALUES (?, ?)", 1, "a\0b")
    assert.is_nil(ok)
    assert.equal("error", code)
    assert.matches("NUL byte", err, 1, true)
  end)

  it("returns an empty array that encodes as []", function()
    local rows = assert(db.query("SELECT * FROM spec_types WHERE id = ?", 42))
    assert.equal(0, #rows)
    assert.equal("[]", json.encode(rows))
  end)

  it("reports affected rows and RETURNING rows", function()
    assert.equal(1, db.exec("INSERT INTO spec_types (id, t) VALUES (?, ?)", 1, "a"))
    assert.equal(1, db.exec("INSERT INTO spec_types (id, t) VALUES (?, ?)", 2, "b"))
    local n, rows = db.exec("UPDATE spec_types SET t = ? WHERE id > ? RETURNING id, t", "z", 0)
    assert.equal(2, n)
    assert.equal(2, #rows)
    assert.equal("z", rows[1].t)
    assert.equal(2, (db.exec("DELETE FROM spec_types")))
  end)

  it("maps constraint violations to codes", function()
    ddl([[CREATE TABLE spec_parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            qty INTEGER CHECK (qty >= 0))]],
        [[CREATE TABLE spec_parent (id BIGINT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            qty BIGINT CHECK (qty >= 0))]])
    assert(db.exec([[CREATE TABLE spec_child (id INTEGER PRIMARY KEY,
      parent_id INTEGER NOT NULL REFERENCES spec_parent(id) ON DELETE CASCADE)]]))
    assert(db.exec("INSERT INTO spec_parent (id, name, qty) VALUES (1, 'a', 1)"))
    local function code_of(sql)
      local ok, err, code = db.exec(sql)
      assert.is_nil(ok)
      assert.is_string(err)
      return code
    end
    assert.equal("unique", code_of("INSERT INTO spec_parent (id, name) VALUES (2, 'a')"))
    assert.equal("unique", code_of("INSERT INTO spec_parent (id, name) VALUES (1, 'b')"))
    assert.equal("not_null", code_of("INSERT INTO spec_parent (id, name) VALUES (3, NULL)"))
    assert.equal("check", code_of("INSERT INTO spec_parent (id, name, qty) VALUES (4, 'd', -1)"))
    assert.equal("foreign_key", code_of("INSERT INTO spec_child (id, parent_id) VALUES (1, 99)"))
    assert(db.exec("INSERT INTO spec_child (id, parent_id) VALUES (1, 1)"))
    assert.equal(1, db.exec("DELETE FROM spec_parent WHERE id = 1"))
    assert.equal(0, #db.query("SELECT * FROM spec_child"), "ON DELETE CASCADE")
  end)

  it("commits a transaction and returns the function's results", function()
    local a, b = db.tx(function()
      assert(db.exec("INSERT INTO spec_types (id, t) VALUES (1, 'x')"))
      assert(db.exec("INSERT INTO spec_types (id, t) VALUES (2, 'y')"))
      return "done", 2
    end)
    assert.equal("done", a)
    assert.equal(2, b)
    assert.equal(2, #db.query("SELECT id FROM spec_types"))
  end)

  it("rolls back when the function raises: nothing is partially written", function()
    local ok, err, code = db.tx(function()
      assert(db.exec("INSERT INTO spec_types (id, t) VALUES (1, 'x')"))
      error("boom")
    end)
    assert.is_nil(ok)
    assert.matches("boom", err)
    assert.equal("error", code)
    assert.equal(0, #db.query("SELECT id FROM spec_types"))
  end)

  it("rolls back when the function returns nil, err (a failed statement)", function()
    local ok, err, code = db.tx(function()
      assert(db.exec("INSERT INTO spec_types (id, t) VALUES (1, 'x')"))
      return db.exec("INSERT INTO spec_types (id, t) VALUES (1, 'duplicate')")
    end)
    assert.is_nil(ok)
    assert.is_string(err)
    assert.equal("unique", code)
    assert.equal(0, #db.query("SELECT id FROM spec_types"))
  end)

  it("refuses nested transactions and misuse", function()
    local ok, err = db.tx(function() db.tx(function() end) end)
    assert.is_nil(ok)
    assert.matches("transactions do not nest", err, 1, true)
    assert.has_error(function() db.query(nil) end)
    assert.has_error(function() db.query("SELECT ?", {}) end)
    assert.has_error(function() db.query("SELECT ?", function() end) end)
    assert.has_error(function() db.query("SELECT ?", 0 / 0) end)
    -- the connection is still usable afterwards
    assert.equal(1, #db.query("SELECT 1 AS one"))
  end)

  it("reports SQL errors as operational failures", function()
    local rows, err, code = db.query("SELECT * FROM no_such_table")
    assert.is_nil(rows)
    assert.is_string(err)
    assert.equal("error", code)
    local _
    rows, _, code = db.query("SELECT ? AS a", 1, 2)
    assert.is_nil(rows)
    assert.equal("error", code)
  end)

  it("has the settings table from the migrations", function()
    local rows = assert(db.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version"))
    assert.is_true(#rows >= 1)
    assert.equal(1, rows[1].version)
    assert.equal("settings", rows[1].name)
    assert.equal(64, #rows[1].checksum)
    assert(db.query("SELECT key, value FROM settings"))
  end)
end)
